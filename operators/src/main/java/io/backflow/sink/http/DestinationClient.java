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
 * thread or an HTTP thread. For a destination with a {@link Destination#tokenEndpoint()}, every
 * request gets the current access token as it is sent (so a retry or a follow-up never carries a
 * stale one), and a 401 fetches a new token and sends once more before the answer counts.
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
    private final AccessTokens tokens;

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
        this.tokens = destination.tokenEndpoint().map(t -> new AccessTokens(t, client, requestTimeout)).orElse(null);
    }

    Destination destination() {
        return destination;
    }

    /** Sends one request; the future completes on an HTTP thread, never on the caller's. */
    CompletableFuture<HttpResponse<byte[]>> send(DestinationRequest request) {
        metrics.requestsInFlight.incrementAndGet();
        CompletableFuture<HttpResponse<byte[]>> sent;
        if (tokens == null) {
            sent = sendWith(request, null);
        } else {
            sent = tokens.current().thenCompose(token -> sendWith(request, token).thenCompose(response -> response.statusCode() != 401
                    ? CompletableFuture.completedFuture(response)
                    // The token may have expired early or been revoked: one new token, one more try.
                    : tokens.renew(token).thenCompose(fresh -> sendWith(request, fresh))));
        }
        return sent.whenCompleteAsync((response, error) -> metrics.requestsInFlight.decrementAndGet(), httpThreads);
    }

    private CompletableFuture<HttpResponse<byte[]>> sendWith(DestinationRequest request, String token) {
        metrics.requestsSent.inc();
        long started = System.nanoTime();
        try {
            return client.sendAsync(httpRequest(request, token), HttpResponse.BodyHandlers.ofByteArray())
                    .whenComplete((response, error) -> metrics.requestLatencyMs.update((System.nanoTime() - started) / 1_000_000));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private HttpRequest httpRequest(DestinationRequest request, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(request.uri())
                .timeout(requestTimeout)
                .header("User-Agent", "backflow");
        boolean bodyless = request.body().length == 0 && request.method().equals("GET");
        if (!bodyless && !request.headers().keySet().stream().anyMatch(h -> h.equalsIgnoreCase("Content-Type"))) {
            b.header("Content-Type", "application/json");
        }
        for (Map.Entry<String, String> h : request.headers().entrySet()) {
            if (token == null || !h.getKey().equalsIgnoreCase("Authorization")) {
                b.header(h.getKey(), h.getValue());
            }
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b.method(request.method(), bodyless ? HttpRequest.BodyPublishers.noBody() : body(request.body())).build();
    }

    /**
     * The body as it is, with its length: {@code ofByteArray} copies every body into fresh 16 KB
     * buffers at each send (a tenth of a sync's allocations), while a wrapped array is written
     * from where it lies; the length keeps the request out of chunked encoding.
     */
    static HttpRequest.BodyPublisher body(byte[] body) {
        if (body.length == 0) {
            return HttpRequest.BodyPublishers.noBody();
        }
        return HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofByteArrays(java.util.List.of(body)), body.length);
    }

    /** The access tokens of a destination with a token endpoint, or null. */
    AccessTokens tokens() {
        return tokens;
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

    /** {@code text} (a reason built from an answer) without the secrets requests carry, access tokens included. */
    String redact(String text) {
        if (tokens == null) {
            return Secrets.redact(text, secrets);
        }
        List<String> all = new java.util.ArrayList<>(secrets);
        all.addAll(tokens.issued());
        return Secrets.redact(text, all);
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
