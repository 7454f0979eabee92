package io.backflow.sink.http;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One writer's connection to the destination: a JDK HttpClient (HTTP/1.1) on its own daemon
 * threads, and a scheduler for retries so that waiting never occupies the task thread or an
 * HTTP thread.
 */
final class DestinationClient implements AutoCloseable {
    private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final DestinationSettings settings;
    private final SinkMetrics metrics;
    private final ExecutorService httpThreads;
    private final ScheduledExecutorService scheduler;
    private final HttpClient client;

    DestinationClient(DestinationSettings settings, SinkMetrics metrics, String threadName) {
        this.settings = settings;
        this.metrics = metrics;
        this.httpThreads = Executors.newCachedThreadPool(daemon(threadName + "-http"));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon(threadName + "-retry"));
        Duration timeout = settings.requestTimeout();
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? timeout : MAX_CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(httpThreads)
                .build();
    }

    /** Sends one request; the future completes on an HTTP thread, never on the caller's. */
    CompletableFuture<HttpResponse<byte[]>> post(List<DeliveryEntry> entries) {
        metrics.requestsSent.inc();
        metrics.requestsInFlight.incrementAndGet();
        CompletableFuture<HttpResponse<byte[]>> sent;
        try {
            sent = client.sendAsync(settings.request(entries), HttpResponse.BodyHandlers.ofByteArray());
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.whenCompleteAsync((response, error) -> metrics.requestsInFlight.decrementAndGet(), httpThreads);
    }

    /** Runs {@code task} after {@code delay} on the retry scheduler. */
    void schedule(Runnable task, Duration delay) {
        scheduler.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    Executor callbacks() {
        return httpThreads;
    }

    DestinationConfigurationException configurationError(int status) {
        return settings.configurationError(status);
    }

    String endpoint() {
        return settings.displayEndpoint();
    }

    /** {@code text} (a response excerpt) with every secret the requests carry replaced by {@code ***}. */
    String redact(String text) {
        return settings.redact(text);
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
