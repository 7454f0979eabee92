package io.backflow.sink.http;

import io.backflow.sink.Destination;
import io.backflow.sink.DestinationRequest;
import io.backflow.sink.Secrets;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One writer's connection to its destination: a JDK HttpClient (HTTP/1.1) on its own daemon
 * threads, and a scheduler for retries and rate pacing so that waiting never occupies the task
 * thread or an HTTP thread.
 */
final class DestinationClient implements AutoCloseable {
    private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final Destination destination;
    private final Duration requestTimeout;
    private final SinkMetrics metrics;
    private final List<String> secrets;
    private final ExecutorService httpThreads;
    private final ScheduledExecutorService scheduler;
    private final HttpClient client;

    DestinationClient(Destination destination, Duration requestTimeout, SinkMetrics metrics, String threadName) {
        this.destination = destination;
        this.requestTimeout = requestTimeout;
        this.metrics = metrics;
        this.secrets = List.copyOf(destination.secrets());
        this.httpThreads = Executors.newCachedThreadPool(daemon(threadName + "-http"));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon(threadName + "-retry"));
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(requestTimeout.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? requestTimeout : MAX_CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(httpThreads)
                .build();
    }

    Destination destination() {
        return destination;
    }

    /** Sends one request; the future completes on an HTTP thread, never on the caller's. */
    CompletableFuture<HttpResponse<byte[]>> send(DestinationRequest request) {
        metrics.requestsSent.inc();
        metrics.requestsInFlight.incrementAndGet();
        CompletableFuture<HttpResponse<byte[]>> sent;
        try {
            sent = client.sendAsync(httpRequest(request), HttpResponse.BodyHandlers.ofByteArray());
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.whenCompleteAsync((response, error) -> metrics.requestsInFlight.decrementAndGet(), httpThreads);
    }

    private HttpRequest httpRequest(DestinationRequest request) {
        HttpRequest.Builder b = HttpRequest.newBuilder(request.uri())
                .timeout(requestTimeout)
                .header("User-Agent", "backflow");
        if (!request.headers().keySet().stream().anyMatch(h -> h.equalsIgnoreCase("Content-Type"))) {
            b.header("Content-Type", "application/json");
        }
        for (Map.Entry<String, String> h : request.headers().entrySet()) {
            b.header(h.getKey(), h.getValue());
        }
        return b.method(request.method(), HttpRequest.BodyPublishers.ofByteArray(request.body())).build();
    }

    /** Runs {@code task} after {@code delay} on the retry scheduler. */
    void schedule(Runnable task, Duration delay) {
        scheduler.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    Executor callbacks() {
        return httpThreads;
    }

    String endpoint() {
        return destination.displayEndpoint();
    }

    /** {@code text} (a reason built from an answer) without the secrets requests carry. */
    String redact(String text) {
        return Secrets.redact(text, secrets);
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        httpThreads.shutdownNow();
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
