package io.backflow.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A real HTTP destination for tests, on the JDK's HttpServer at 127.0.0.1 and a free port. It
 * understands Segment's {@code /v1/batch} body ({@code {"batch":[...]}}), a webhook's JSON array
 * and a single JSON object, records every request (headers, events, arrival time, the answer it
 * gave) and answers as scripted: first from a queue of canned responses, then from a responder
 * function (200 by default). A body that is not JSON is answered 400 and recorded as malformed.
 *
 * <p>Run tests with {@code -Dsun.net.httpserver.nodelay=true} (the build does) or every request
 * stalls about 40 ms.
 */
public final class HttpReceiver implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService threads;
    private final ConcurrentLinkedQueue<Response> queued = new ConcurrentLinkedQueue<>();
    private volatile Function<ReceivedRequest, Response> responder = r -> Response.ok();
    private final List<ReceivedRequest> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger arrivals = new AtomicInteger();

    private HttpReceiver(HttpServer server, ExecutorService threads) {
        this.server = server;
        this.threads = threads;
    }

    /** Starts a receiver on 127.0.0.1 and a free port. */
    public static HttpReceiver start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService threads = Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "http-receiver");
            t.setDaemon(true);
            return t;
        });
        HttpReceiver receiver = new HttpReceiver(server, threads);
        server.createContext("/", receiver::handle);
        server.setExecutor(threads);
        server.start();
        return receiver;
    }

    /** {@code http://127.0.0.1:<port>}: the SEGMENT_BATCH url (the sink appends /v1/batch). */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** A webhook URL on this receiver. */
    public String webhookUrl() {
        return baseUrl() + "/hook";
    }

    // ---- scripting -------------------------------------------------------------------------

    /** Answers the next requests with these responses, in order, before the responder is asked. */
    public HttpReceiver enqueue(Response... responses) {
        Collections.addAll(queued, responses);
        return this;
    }

    /** Answers the next requests with these statuses (empty bodies), then falls back to the responder. */
    public HttpReceiver enqueueStatuses(int... statuses) {
        for (int s : statuses) {
            queued.add(Response.status(s));
        }
        return this;
    }

    /** Decides the answer to every request once the queue is empty (default: 200). */
    public HttpReceiver respond(Function<ReceivedRequest, Response> responder) {
        this.responder = responder;
        return this;
    }

    /** Answers {@code status} to any request carrying one of these messageIds, 200 otherwise. */
    public HttpReceiver rejectMessageIds(int status, String... messageIds) {
        Set<String> bad = Set.of(messageIds);
        return respond(r -> r.messageIds().stream().anyMatch(bad::contains)
                ? Response.status(status).body("{\"error\":\"invalid event in batch\"}")
                : Response.ok());
    }

    // ---- what was received -----------------------------------------------------------------

    public List<ReceivedRequest> requests() {
        return List.copyOf(requests);
    }

    public int requestCount() {
        return requests.size();
    }

    /** Events of every request answered 2xx, in arrival order (duplicates kept). */
    public List<JsonNode> deliveredEvents() {
        List<JsonNode> out = new ArrayList<>();
        for (ReceivedRequest r : requests) {
            if (r.answeredOk()) {
                out.addAll(r.events());
            }
        }
        return out;
    }

    /** messageIds of {@link #deliveredEvents()}, in order, duplicates kept. */
    public List<String> deliveredMessageIds() {
        return deliveredEvents().stream().map(e -> e.path("messageId").asText(null)).collect(Collectors.toList());
    }

    /** Waits until at least {@code n} events were delivered; false if the deadline passed first. */
    public boolean awaitDelivered(int n, Duration timeout) throws InterruptedException {
        return await(() -> deliveredEvents().size() >= n, timeout);
    }

    /** Waits until at least {@code n} requests arrived; false if the deadline passed first. */
    public boolean awaitRequests(int n, Duration timeout) throws InterruptedException {
        return await(() -> requests.size() >= n, timeout);
    }

    private static boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(10);
        }
        return true;
    }

    /** Forgets received requests and scripted answers. */
    public void reset() {
        requests.clear();
        queued.clear();
        arrivals.set(0);
        responder = r -> Response.ok();
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }

    // ---- serving ---------------------------------------------------------------------------

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            long arrivedNanos = System.nanoTime();
            byte[] body = exchange.getRequestBody().readAllBytes();
            Map<String, List<String>> headers = new LinkedHashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), List.copyOf(v)));
            List<JsonNode> events = new ArrayList<>();
            boolean malformed = false;
            try {
                // A GET (an asynchronous API's status poll) has no body, and that is not malformed.
                boolean bodyless = body.length == 0 && exchange.getRequestMethod().equals("GET");
                JsonNode root = bodyless ? null : JSON.readTree(body);
                if (bodyless) {
                    // no events
                } else if (root == null) {
                    malformed = true;
                } else if (root.isObject() && root.has("batch") && root.get("batch").isArray()) {
                    root.get("batch").forEach(events::add);
                } else if (root.isArray()) {
                    root.forEach(events::add);
                } else if (root.isObject()) {
                    events.add(root);
                } else {
                    malformed = true;
                }
            } catch (IOException e) {
                malformed = true;
            }
            ReceivedRequest request = new ReceivedRequest(arrivals.getAndIncrement(), exchange.getRequestMethod(),
                    exchange.getRequestURI().getPath(), exchange.getRequestURI().getRawQuery(), headers, body, events, malformed, arrivedNanos);
            Response response;
            if (malformed) {
                response = Response.status(400).body("{\"error\":\"body is not JSON\"}");
            } else {
                Response next = queued.poll();
                response = next != null ? next : responder.apply(request);
            }
            request.answered = response.status;
            requests.add(request);
            if (!response.delay.isZero()) {
                try {
                    Thread.sleep(response.delay.toMillis()); // simulates a slow destination
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            response.headers.forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
            byte[] out = response.body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(response.status, out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(out);
                }
            }
        } catch (IOException | RuntimeException e) {
            // The client may have given up (timeout test); nothing to answer then.
        }
    }

    /** A scripted answer. */
    public static final class Response {
        private final int status;
        private final Map<String, String> headers;
        private final String body;
        private final Duration delay;

        private Response(int status, Map<String, String> headers, String body, Duration delay) {
            this.status = status;
            this.headers = headers;
            this.body = body;
            this.delay = delay;
        }

        public static Response ok() {
            return status(200).body("{\"success\":true}");
        }

        public static Response status(int status) {
            return new Response(status, Map.of(), "", Duration.ZERO);
        }

        public Response body(String body) {
            return new Response(status, headers, body, delay);
        }

        public Response header(String name, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(name, value);
            return new Response(status, h, body, delay);
        }

        /** Holds the answer back this long (to provoke client timeouts). */
        public Response delayed(Duration delay) {
            return new Response(status, headers, body, delay);
        }
    }

    /** One request as received. */
    public static final class ReceivedRequest {
        private final int index;
        private final String method;
        private final String path;
        private final String query;
        private final Map<String, List<String>> headers;
        private final byte[] body;
        private final List<JsonNode> events;
        private final boolean malformed;
        private final long arrivedNanos;
        private volatile int answered;

        ReceivedRequest(int index, String method, String path, String query, Map<String, List<String>> headers, byte[] body,
                List<JsonNode> events, boolean malformed, long arrivedNanos) {
            this.index = index;
            this.method = method;
            this.path = path;
            this.query = query;
            this.headers = headers;
            this.body = body;
            this.events = List.copyOf(events);
            this.malformed = malformed;
            this.arrivedNanos = arrivedNanos;
        }

        public int index() { return index; }
        public String method() { return method; }
        public String path() { return path; }
        /** The raw query string, or null. */
        public String query() { return query; }
        public byte[] body() { return body.clone(); }
        public int bodyLength() { return body.length; }
        public List<JsonNode> events() { return events; }
        public boolean malformed() { return malformed; }
        /** System.nanoTime() when the request arrived (compare two requests with it). */
        public long arrivedNanos() { return arrivedNanos; }
        public int answeredStatus() { return answered; }
        public boolean answeredOk() { return answered >= 200 && answered < 300; }

        /** First value of a header (name case-insensitive), or null. */
        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase());
            return v == null || v.isEmpty() ? null : v.get(0);
        }

        public Map<String, List<String>> headers() {
            return headers;
        }

        public List<String> messageIds() {
            return events.stream().map(e -> e.path("messageId").asText(null)).collect(Collectors.toList());
        }

        /** The user name of a Basic Authorization header, or null. */
        public String basicAuthUser() {
            String[] parts = basicAuth();
            return parts == null ? null : parts[0];
        }

        /** The password of a Basic Authorization header, or null. */
        public String basicAuthPassword() {
            String[] parts = basicAuth();
            return parts == null ? null : parts[1];
        }

        private String[] basicAuth() {
            String auth = header("Authorization");
            if (auth == null || !auth.startsWith("Basic ")) {
                return null;
            }
            String decoded = new String(Base64.getDecoder().decode(auth.substring(6)), StandardCharsets.UTF_8);
            int colon = decoded.indexOf(':');
            return colon < 0 ? new String[] {decoded, null} : new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
        }
    }
}
