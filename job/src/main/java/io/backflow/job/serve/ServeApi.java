package io.backflow.job.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.backflow.job.cli.HistoryCommand;
import io.backflow.job.cli.Ledgers;
import io.backflow.job.cli.StopCommand;
import io.backflow.job.cli.SyncCommand;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.ledger.SyncRun;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JSON API of {@code serve}, for orchestrators that trigger a sync and poll it (as Airflow and
 * Dagster do with Hightouch and Census). Every request needs {@code Authorization: Bearer <token>}.
 *
 * <ul>
 *   <li>{@code GET /connections}: each connection, its schedule, next run and running run.
 *   <li>{@code POST /connections/{name}/sync} {@code {"full_resync": false}}: 202 with the run id.
 *   <li>{@code POST /connections/{name}/stop} {@code {"drain": false}}: stops its running sync.
 *   <li>{@code GET /connections/{name}/runs?limit=N}: its runs, newest first.
 *   <li>{@code GET /runs/{id}}: one run.
 * </ul>
 */
final class ServeApi implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CONNECTION = Pattern.compile("/connections/([A-Za-z0-9_.-]+)(/sync|/stop|/runs)?");
    private static final Pattern RUN = Pattern.compile("/runs/([A-Za-z0-9-]+)");
    /** How long a trigger waits for its run to be recorded before answering that it is queued. */
    private static final long TRIGGER_WAIT_SECONDS = 30;

    private final HttpServer server;
    private final Scheduler scheduler;
    private final byte[] token;

    ServeApi(InetSocketAddress address, String token, Scheduler scheduler) throws IOException {
        this.scheduler = scheduler;
        this.token = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        this.server = HttpServer.create(address, 0);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "backflow-serve-api");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    /** The address the API listens on (the port chosen when 0 was asked). */
    InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange ex) throws IOException {
        // Not try-with-resources: the catch blocks below still answer on the exchange.
        try {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth == null || !MessageDigest.isEqual(token, auth.getBytes(StandardCharsets.UTF_8))) {
                send(ex, 401, error("missing or wrong bearer token (Authorization: Bearer $BACKFLOW_SERVE_TOKEN)"));
                return;
            }
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            Matcher c = CONNECTION.matcher(path);
            Matcher r = RUN.matcher(path);
            if (path.equals("/connections") && method.equals("GET")) {
                send(ex, 200, connections());
            } else if (c.matches()) {
                String name = c.group(1);
                String action = c.group(2) == null ? "" : c.group(2);
                if (action.equals("/sync") && method.equals("POST")) {
                    sync(ex, name);
                } else if (action.equals("/stop") && method.equals("POST")) {
                    stop(ex, name);
                } else if (action.equals("/runs") && method.equals("GET")) {
                    runs(ex, name);
                } else if (action.isEmpty() && method.equals("GET")) {
                    send(ex, 200, describe(scheduler.state(name)));
                } else {
                    send(ex, 405, error(method + " " + path + " is not supported"));
                }
            } else if (r.matches() && method.equals("GET")) {
                run(ex, r.group(1));
            } else {
                send(ex, 404, error("no such endpoint: " + method + " " + path));
            }
        } catch (IllegalArgumentException e) {
            send(ex, 404, error(e.getMessage()));
        } catch (RuntimeException e) {
            send(ex, 500, error(SyncCommand.rootMessage(e)));
        } finally {
            ex.close();
        }
    }

    private void sync(HttpExchange ex, String name) throws IOException {
        JsonNode body = body(ex);
        if (body == null) {
            return;
        }
        CompletableFuture<String> id;
        try {
            id = scheduler.trigger(name, body.path("full_resync").asBoolean(false));
        } catch (IllegalStateException running) {
            send(ex, 409, error(running.getMessage()));
            return;
        }
        ObjectNode answer = JSON.createObjectNode().put("connection", name);
        try {
            answer.put("run_id", id.get(TRIGGER_WAIT_SECONDS, TimeUnit.SECONDS)).put("status", "RUNNING");
            send(ex, 202, answer);
        } catch (TimeoutException e) {
            send(ex, 202, answer.put("status", "QUEUED"));
        } catch (ExecutionException e) {
            send(ex, 422, error("the sync did not start: " + SyncCommand.rootMessage(e.getCause())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            send(ex, 503, error("interrupted"));
        }
    }

    private void stop(HttpExchange ex, String name) throws IOException {
        JsonNode body = body(ex);
        if (body == null) {
            return;
        }
        ConnectionConfig config = loaded(name);
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(said, true, StandardCharsets.UTF_8)) {
            StopCommand.stop(config, body.path("drain").asBoolean(false), out);
        }
        send(ex, 200, JSON.createObjectNode().put("connection", name).put("message", said.toString(StandardCharsets.UTF_8).strip()));
    }

    private void runs(HttpExchange ex, String name) throws IOException {
        ConnectionConfig config = loaded(name);
        int limit = 50;
        String query = ex.getRequestURI().getQuery();
        if (query != null && query.matches("limit=[0-9]{1,6}")) {
            limit = Math.max(1, Integer.parseInt(query.substring(6)));
        }
        ArrayNode out = JSON.createArrayNode();
        try (Ledger ledger = Ledgers.open(config)) {
            ledger.runs(config.name(), limit).forEach(run -> out.add(HistoryCommand.json(run)));
        }
        send(ex, 200, out);
    }

    /** A run by id, from the ledger of whichever connection has it. */
    private void run(HttpExchange ex, String id) throws IOException {
        for (ConnectionConfig config : scheduler.configs()) {
            try (Ledger ledger = Ledgers.open(config)) {
                SyncRun run = ledger.run(id);
                if (run != null && run.connection().equals(config.name())) {
                    send(ex, 200, HistoryCommand.json(run).put("connection", config.name()));
                    return;
                }
            }
        }
        send(ex, 404, error("no run " + id));
    }

    private ConnectionConfig loaded(String name) {
        ConnectionState s = scheduler.state(name);
        if (s.config == null) {
            throw new IllegalArgumentException("connection " + name + " did not load: " + s.error);
        }
        return s.config;
    }

    private ArrayNode connections() {
        ArrayNode out = JSON.createArrayNode();
        List<ConnectionState> all = scheduler.all();
        all.forEach(s -> out.add(describe(s)));
        return out;
    }

    private ObjectNode describe(ConnectionState s) {
        synchronized (scheduler) {
            ObjectNode o = JSON.createObjectNode().put("name", s.name).put("file", s.file.toString());
            if (s.config == null) {
                return o.put("error", s.error);
            }
            o.put("enabled", s.config.enabled()).put("schedule", s.config.schedule().toString());
            o.put("next_run", s.nextDue == null ? null : s.nextDue.toOffsetDateTime().toString());
            o.put("running", s.running).put("running_run", s.runningRun);
            return o;
        }
    }

    /** The request's JSON object (empty body: {}); null after answering 400. */
    private JsonNode body(HttpExchange ex) throws IOException {
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(64 * 1024);
        }
        if (bytes.length == 0) {
            return JSON.createObjectNode();
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n != null && n.isObject()) {
                return n;
            }
        } catch (IOException e) {
            // Answered below.
        }
        send(ex, 400, error("the body must be a JSON object, e.g. {\"full_resync\": true}"));
        return null;
    }

    private static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", message);
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
