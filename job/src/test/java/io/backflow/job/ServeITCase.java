package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code backflow serve} as its own process, as a user runs it: connections on schedules
 * deliver exactly their rows; the API is driven with the JDK's HTTP client (trigger, poll to
 * SUCCEEDED, stop with drain, 401 without the token); and a serve killed with -9 mid-sync and
 * started again finishes the sync without losing a row.
 */
class ServeITCase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "serve-test-token-0123456789";
    private static final Pattern LISTENING = Pattern.compile("API on (http://[0-9.]+:[0-9]+)");

    @TempDir Path dir;
    HttpReceiver fast;
    HttpReceiver slow;
    JdbcEndpoint db;
    Path connections;
    final List<Process> processes = new ArrayList<>();
    final HttpClient http = HttpClient.newHttpClient();
    /** serve's --max-parallel; a continuous connection holds one slot for as long as it runs. */
    int maxParallel = 2;

    @BeforeEach
    void start() throws Exception {
        fast = HttpReceiver.start();
        slow = HttpReceiver.start();
        // A slow destination, so a sync is still going when it is stopped or killed.
        slow.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(40)));
        db = Databases.newPostgresDatabase("serve");
        connections = Files.createDirectories(dir.resolve("connections"));
    }

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
        fast.close();
        slow.close();
    }

    private void table(String name, int rows) {
        Databases.execute(db, "CREATE TABLE " + name + " (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)");
        insert(name, 1, rows);
    }

    private void insert(String table, int from, int to) {
        Databases.execute(db, "INSERT INTO " + table + " SELECT i, 'u' || (i % 9), i, TIMESTAMP '2024-01-01' + i * INTERVAL '1 second'"
                + " FROM generate_series(" + from + ", " + to + ") i");
    }

    private void connection(String name, String schedule, HttpReceiver receiver) throws IOException {
        Files.writeString(connections.resolve(name + ".yaml"), String.join("\n",
                BackflowCli.ordersSource(db).replace("table: orders", "table: " + name),
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 20",
                "  max_in_flight: 1",
                "sync:",
                "  checkpoint_interval: 200ms",
                "  savepoint_dir: " + dir.resolve("savepoints"),
                schedule,
                ""));
    }

    /** Starts serve on a free port and returns its API's base URL. */
    private String serve(Path log, String... extra) throws Exception {
        List<String> command = BackflowCli.processCommand("serve", "--connections", connections.toString(), "--listen", "127.0.0.1:0",
                "--max-parallel", String.valueOf(maxParallel));
        command.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("BACKFLOW_SERVE_TOKEN", TOKEN);
        Process p = pb.start();
        processes.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && p.isAlive()) {
            Matcher m = LISTENING.matcher(read(log));
            if (m.find()) {
                return m.group(1);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("serve did not start: " + read(log));
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private HttpResponse<String> call(String method, String url, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode json(String method, String url, String body, int expectedStatus) throws Exception {
        HttpResponse<String> r = call(method, url, body, TOKEN);
        assertEquals(expectedStatus, r.statusCode(), method + " " + url + ": " + r.body());
        return JSON.readTree(r.body());
    }

    private static void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    /** Polls {@code GET /runs/{id}} until the run is final, as an orchestrator does; returns it. */
    private JsonNode pollUntilFinal(String api, String runId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            JsonNode run = json("GET", api + "/runs/" + runId, null, 200);
            if (!run.get("status").asText().equals("RUNNING")) {
                return run;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("run " + runId + " never finished");
    }

    private static Map<String, Map<Long, Integer>> byConnection(HttpReceiver receiver) {
        Map<String, Map<Long, Integer>> out = new HashMap<>();
        for (JsonNode e : receiver.deliveredEvents()) {
            JsonNode b = e.get("context").get("backflow");
            out.computeIfAbsent(b.get("connection").asText(), k -> new HashMap<>()).merge(b.get("primary_key").get("id").asLong(), 1, Integer::sum);
        }
        return out;
    }

    private static Map<Long, Integer> once(int from, int to) {
        Map<Long, Integer> out = new HashMap<>();
        for (long i = from; i <= to; i++) {
            out.put(i, 1);
        }
        return out;
    }

    @Test
    void scheduledConnectionsDeliverExactlyTheirRowsAndTheApiTriggersPollsAndStops() throws Exception {
        table("hourly", 30);
        table("often", 40);
        table("manual", 25);
        table("slow", 2000);
        connection("hourly", "schedule: {every: 3s}", fast);
        connection("often", "schedule: {every: 2s}", fast);
        // Both schedules are under a minute: each is one continuous job holding a slot, and two more run the others.
        maxParallel = 4;
        connection("manual", "", fast);
        connection("slow", "schedule: manual", slow);
        Path log = dir.resolve("serve.log");
        int prometheus = freePort();
        String api = serve(log, "--prometheus=" + prometheus);

        assertEquals(401, call("GET", api + "/connections", null, null).statusCode());
        assertEquals(401, call("POST", api + "/connections/manual/sync", "{}", "wrong-token").statusCode());
        JsonNode listed = json("GET", api + "/connections", null, 200);
        assertEquals(4, listed.size(), listed.toString());

        // Both scheduled connections deliver their rows, then new rows on a later tick, each once.
        await(() -> byConnection(fast).getOrDefault("hourly", Map.of()).size() == 30
                && byConnection(fast).getOrDefault("often", Map.of()).size() == 40, Duration.ofSeconds(90), "the first scheduled runs: " + read(log));
        insert("often", 41, 45);
        insert("hourly", 31, 33);
        await(() -> byConnection(fast).getOrDefault("hourly", Map.of()).size() == 33
                && byConnection(fast).getOrDefault("often", Map.of()).size() == 45, Duration.ofSeconds(90), "the next ticks: " + read(log));
        Thread.sleep(3_000);
        assertEquals(once(1, 33), byConnection(fast).get("hourly"));
        assertEquals(once(1, 45), byConnection(fast).get("often"));
        assertTrue(!byConnection(fast).containsKey("manual"), "a manual connection runs only when triggered");

        // Trigger and poll, as Airflow does.
        JsonNode triggered = json("POST", api + "/connections/manual/sync", "{\"full_resync\": false}", 202);
        String runId = triggered.get("run_id").asText();
        JsonNode done = pollUntilFinal(api, runId);
        assertEquals("SUCCEEDED", done.get("status").asText(), done.toString());
        assertEquals(25, done.get("succeeded").asLong());
        assertEquals(once(1, 25), byConnection(fast).get("manual"));
        JsonNode runs = json("GET", api + "/connections/manual/runs", null, 200);
        assertEquals(runId, runs.get(0).get("id").asText());
        assertEquals(404, call("POST", api + "/connections/nowhere/sync", "{}", TOKEN).statusCode());
        assertEquals(404, call("GET", api + "/runs/00000000-0000-0000-0000-000000000000", null, TOKEN).statusCode());

        // A slow sync: a second trigger is refused while it runs, and a stop with drain ends it.
        String slowRun = json("POST", api + "/connections/slow/sync", "{}", 202).get("run_id").asText();
        assertEquals(409, call("POST", api + "/connections/slow/sync", "{}", TOKEN).statusCode());
        assertTrue(slow.awaitDelivered(100, Duration.ofSeconds(60)));
        dashboardShowsTheJobAndBackflowMetrics(dashboard(log), "Backflow sync slow");
        String scraped = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + prometheus + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String metric : List.of("backflow_rowsReadPerSecond", "backflow_eventsDeliveredPerSecond", "backflow_requestLatencyMs",
                "backflow_estimatedSecondsRemaining", "backflow_lastSuccessfulSyncTime")) {
            assertTrue(scraped.contains(metric), metric + " not scraped from Prometheus' endpoint:\n"
                    + scraped.lines().filter(l -> l.contains("backflow")).limit(40).reduce("", (x, y) -> x + y + "\n"));
        }
        JsonNode stopped = json("POST", api + "/connections/slow/stop", "{\"drain\": true}", 200);
        assertTrue(stopped.get("message").asText().contains("Stopped sync " + slowRun), stopped.toString());
        JsonNode slowDone = pollUntilFinal(api, slowRun);
        assertEquals("CANCELLED", slowDone.get("status").asText(), slowDone.toString());
        assertEquals(slowDone.get("read").asLong(), slowDone.get("succeeded").asLong(), "drain delivers everything it read");
    }

    private static final Pattern DASHBOARD = Pattern.compile("(?:Flink dashboard on|Flink dashboard:) (http://[0-9.]+:[0-9]+)");

    private static int freePort() throws IOException {
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            return free.getLocalPort();
        }
    }

    private static String dashboard(Path log) {
        Matcher m = DASHBOARD.matcher(read(log));
        assertTrue(m.find(), read(log));
        return m.group(1);
    }

    private JsonNode get(String url) throws Exception {
        HttpResponse<String> r = call("GET", url, null, null);
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** The dashboard's REST API lists the running job by its name, and its operators' Backflow metrics with values. */
    private void dashboardShowsTheJobAndBackflowMetrics(String dashboard, String jobName) throws Exception {
        String jobId = null;
        for (JsonNode job : get(dashboard + "/jobs/overview").get("jobs")) {
            if (job.get("name").asText().startsWith(jobName) && job.get("state").asText().equals("RUNNING")) {
                jobId = job.get("jid").asText();
            }
        }
        assertNotNull(jobId, "no running job named " + jobName);
        List<String> expected = List.of("rowsRead", "rowsReadPerSecond", "estimatedRowsRemaining", "estimatedSecondsRemaining",
                "rowsMappedPerSecond", "rowsInvalidPerSecond", "eventsDeliveredPerSecond", "eventsFailedPerSecond", "requestLatencyMs_p99");
        // The dashboard's metric fetcher answers from its last fetch (every 2 s here), so the first
        // answers may list no operator metrics yet: ask again until they are there.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
        java.util.Set<String> names = new java.util.TreeSet<>();
        java.util.Set<String> metrics = new java.util.TreeSet<>();
        while (true) {
            names.clear();
            metrics.clear();
            for (JsonNode vertex : get(dashboard + "/jobs/" + jobId).get("vertices")) {
                names.add(vertex.get("name").asText());
                String vertexUrl = dashboard + "/jobs/" + jobId + "/vertices/" + vertex.get("id").asText() + "/metrics";
                for (JsonNode m : get(vertexUrl)) {
                    String id = m.get("id").asText();
                    if (id.contains(".backflow.")) {
                        metrics.add(id.substring(id.indexOf(".backflow.") + ".backflow.".length()));
                    }
                }
            }
            if (metrics.containsAll(expected) || System.nanoTime() > deadline) {
                break;
            }
            TimeUnit.MILLISECONDS.sleep(500);
        }
        assertTrue(names.toString().contains("Read warehouse") && names.toString().contains("Deliver to webhook"), names.toString());
        for (String m : expected) {
            assertTrue(metrics.contains(m), m + " not in " + metrics);
        }
    }

    @Test
    void aSyncWithWebUiShowsTheFlinkDashboardWhileItRuns() throws Exception {
        // Enough rows that the sync is still running while the dashboard's metrics are read (about 20 s).
        table("slow", 10_000);
        connection("slow", "", slow);
        int port = freePort();
        Path log = dir.resolve("sync.log");
        Process sync = new ProcessBuilder(BackflowCli.processCommand("sync", "--connection", connections.resolve("slow.yaml").toString(),
                "--web-ui=127.0.0.1:" + port)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(sync);
        assertTrue(slow.awaitDelivered(200, Duration.ofSeconds(90)), read(log));
        assertEquals("http://127.0.0.1:" + port, dashboard(log));
        dashboardShowsTheJobAndBackflowMetrics("http://127.0.0.1:" + port, "Backflow sync slow");
        sync.destroy();
        assertTrue(sync.waitFor(60, TimeUnit.SECONDS));
        assertEquals(3, sync.exitValue(), read(log));
    }

    @Test
    void aServeKilledWithMinus9MidSyncIsStartedAgainAndTheSyncLosesNothing() throws Exception {
        table("slow", 3000);
        connection("slow", "schedule: {every: 1h}", slow);
        Path firstLog = dir.resolve("serve-1.log");
        String api = serve(firstLog);
        String first = json("POST", api + "/connections/slow/sync", "{}", 202).get("run_id").asText();
        assertTrue(slow.awaitDelivered(300, Duration.ofSeconds(90)), read(firstLog));
        Process killed = processes.get(0);
        killed.destroyForcibly();
        assertTrue(killed.waitFor(30, TimeUnit.SECONDS));

        Path secondLog = dir.resolve("serve-2.log");
        String again = serve(secondLog);
        JsonNode resumed = json("POST", again + "/connections/slow/sync", "{}", 202);
        JsonNode done = pollUntilFinal(again, resumed.get("run_id").asText());
        assertEquals("SUCCEEDED", done.get("status").asText(), done + "\n" + read(secondLog));
        Map<Long, Integer> got = byConnection(slow).get("slow");
        for (long id = 1; id <= 3000; id++) {
            assertNotNull(got.get(id), "row " + id + " was lost");
        }
        JsonNode killedRun = json("GET", again + "/runs/" + first, null, 200);
        assertTrue(!killedRun.get("status").asText().equals("RUNNING"), killedRun.toString());
        // SIGTERM: the running sync (none now) and serve stop; nothing was stopped, so exit 0.
        Process second = processes.get(1);
        second.destroy();
        assertTrue(second.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, second.exitValue(), read(secondLog));
    }

    @Test
    void aScheduleUnderAMinuteIsOneContinuousJobThatStopsOnSigtermAndResumes() throws Exception {
        table("ticks", 30);
        connection("ticks", "schedule: {every: 1s}", fast);
        // A diff connection (no cursor) cannot run continuously: its file is refused in one line naming the field.
        Databases.execute(db, "CREATE TABLE nocursor (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2))");
        Files.writeString(connections.resolve("nocursor.yaml"), Files.readString(connections.resolve("ticks.yaml"))
                .replace("table: ticks", "table: nocursor").replace("  cursor: updated_at\n", ""));
        Path log = dir.resolve("serve-1.log");
        String api = serve(log);
        JsonNode refused = json("GET", api + "/connections/nocursor", null, 200);
        assertTrue(refused.get("error").asText().contains("source.change_detection: diff cannot run continuously"), refused.toString());

        await(() -> byConnection(fast).getOrDefault("ticks", Map.of()).size() == 30, Duration.ofSeconds(90), "the first run: " + read(log));
        insert("ticks", 31, 40);
        await(() -> byConnection(fast).getOrDefault("ticks", Map.of()).size() == 40, Duration.ofSeconds(60), "a later tick: " + read(log));
        insert("ticks", 41, 55);
        await(() -> byConnection(fast).getOrDefault("ticks", Map.of()).size() == 55, Duration.ofSeconds(60), "another tick: " + read(log));
        JsonNode state = json("GET", api + "/connections/ticks", null, 200);
        assertTrue(state.get("running").asBoolean(), state.toString());
        JsonNode runs = json("GET", api + "/connections/ticks/runs?limit=1000", null, 200);
        assertTrue(runs.size() >= 3, "one run per tick: " + runs);
        // One Flink job ran them all.
        assertEquals(1, Pattern.compile("Continuous sync of ticks in Flink job").matcher(read(log)).results().count(), read(log));

        // SIGTERM stops the job with a savepoint; serve exits 3.
        Process first = processes.get(0);
        first.destroy();
        assertTrue(first.waitFor(60, TimeUnit.SECONDS));
        assertEquals(3, first.exitValue(), read(log));
        assertTrue(read(log).contains("Continuous sync of ticks ended"), read(log));

        // Started again, it resumes and goes on: rows inserted meanwhile arrive, each once.
        insert("ticks", 56, 70);
        Path again = dir.resolve("serve-2.log");
        String api2 = serve(again);
        await(() -> byConnection(fast).getOrDefault("ticks", Map.of()).size() == 70, Duration.ofSeconds(90), "after the restart: " + read(again));
        Process second = processes.get(1);
        second.destroy();
        assertTrue(second.waitFor(60, TimeUnit.SECONDS));
        assertEquals(once(1, 70), byConnection(fast).get("ticks"));
        long succeeded = 0;
        for (JsonNode run : BackflowCli.history(connections.resolve("ticks.yaml"))) {
            assertTrue(!run.get("status").asText().equals("RUNNING"), run.toString());
            assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong(),
                    run.toString());
            succeeded += run.get("succeeded").asLong();
        }
        assertEquals(70, succeeded, "the runs' counts add up to what arrived");
        assertTrue(api2.startsWith("http://"));
    }
}
