package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stop Now, drain and resume, through the command line against a slow destination: seeded random
 * stop points (the seed is printed; set -Dbackflow.test.seed=N to replay one), each followed by a
 * resume with the savepoint or without it. In the end the destination holds every row, duplicates
 * stay within the in-flight window, and every finished run reconciles.
 */
class StopResumeITCase {
    private static final int BATCH = 20;
    private static final int IN_FLIGHT = 1;

    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;
    /** The ledger's database when it is not the source's (MariaDB cannot hold it), else null. */
    JdbcEndpoint ledger;
    Path savepoints;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
        // A slow destination, so a sync is still running when the stop arrives.
        receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(25)));
        db = Databases.newPostgresDatabase("stop");
        savepoints = dir.resolve("savepoints");
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    /** The random-stop tests run on each warehouse with a real server here. */
    private void use(String database) {
        if (database.equals("mariadb")) {
            db = Databases.newMariaDbDatabase("stop");
            ledger = Databases.newPostgresDatabase("stop_ledger");
        }
    }

    private boolean mariadb() {
        return db.url().startsWith("jdbc:mariadb:");
    }

    private Path connection(int parallelism) {
        return BackflowCli.write(dir, "orders", String.join("\n",
                BackflowCli.ordersSource(db, "  page_size: 500"),
                ledger == null ? "" : "state:\n  url: " + ledger.url() + "\n  user: " + ledger.user(),
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: " + BATCH,
                "  max_in_flight: " + IN_FLIGHT,
                "  retry: {max_attempts: 5, initial_backoff: 50ms, max_backoff: 500ms, max_duration: 30s}",
                "sync:",
                "  parallelism: " + parallelism,
                "  checkpoint_interval: 200ms",
                "  savepoint_dir: " + savepoints,
                ""));
    }

    private static long seed() {
        long seed = Long.getLong("backflow.test.seed", System.nanoTime());
        System.out.println("StopResumeITCase seed: " + seed + " (replay with -Dbackflow.test.seed=" + seed + ")");
        return seed;
    }

    private void createOrdersTable() {
        Databases.execute(db, "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at "
                + (mariadb() ? "DATETIME(6)" : "TIMESTAMP") + ")");
    }

    private void insertOrders(int from, int to, String cursor) {
        if (mariadb()) {
            // MariaDB's sequence engine instead of generate_series; the cursor expressions use i too.
            String spelled = cursor.replaceAll("\\bi\\b", "seq").replaceAll("TIMESTAMP '([0-9-]{10})'", "TIMESTAMP '$1 00:00:00'");
            Databases.execute(db, "INSERT INTO orders SELECT seq, CONCAT('u', seq % 50), seq, " + spelled
                    + " FROM seq_" + from + "_to_" + to);
            return;
        }
        Databases.execute(db, "INSERT INTO orders SELECT i, 'u' || (i % 50), i, " + cursor + " FROM generate_series(" + from + ", " + to + ") i");
    }

    /** {@code TIMESTAMP 'day' + (i / per) * step}, written the way the database spells it ({@code step}: second or minute). */
    private String timestamps(String day, int per, String step) {
        return mariadb() ? "TIMESTAMP '" + day + "' + INTERVAL (i DIV " + per + ") " + step.toUpperCase(java.util.Locale.ROOT)
                : "TIMESTAMP '" + day + "' + (i / " + per + ") * INTERVAL '1 " + step + "'";
    }

    /** Distinct order ids the destination received, and how many events arrived twice. */
    private Map<Long, Integer> deliveredCounts() {
        Map<Long, Integer> counts = new HashMap<>();
        for (JsonNode e : receiver.deliveredEvents()) {
            counts.merge(e.get("context").get("backflow").get("primary_key").get("id").asLong(), 1, Integer::sum);
        }
        return counts;
    }

    /**
     * Runs syncs, stopping each at a random point, until one finishes; odd stops lose their
     * savepoint first. Returns how many stops took effect.
     */
    private int syncWithRandomStops(Path conn, Random random, int stops, int rowsInScope, String expectedType) throws Exception {
        int stopped = 0;
        for (int attempt = 0; attempt < stops + 1; attempt++) {
            CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
            BackflowCli.Result result;
            if (attempt < stops) {
                int already = receiver.deliveredEvents().size();
                // At least one event of this run first: a stop before the run is recorded finds
                // nothing to stop (and says so), and the run would then simply finish.
                int target = already + 1 + random.nextInt(Math.max(1, rowsInScope / (stops + 1)));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (receiver.deliveredEvents().size() < target && !sync.isDone() && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(2_000_000);
                }
                BackflowCli.Result stop = BackflowCli.run("stop", "--connection", conn.toString());
                assertEquals(0, stop.exitCode(), stop.toString());
                result = sync.get(2, TimeUnit.MINUTES);
                if (result.exitCode() == 3) {
                    stopped++;
                    JsonNode run = BackflowCli.history(conn).get(0);
                    assertEquals("CANCELLED", run.get("status").asText(), result.toString());
                    assertEquals(expectedType, run.get("type").asText());
                    if (attempt % 2 == 1) {
                        BackflowCli.deleteTree(savepoints);
                    }
                    continue;
                }
                System.out.println("StopResumeITCase: stop " + attempt + " did not take effect: " + stop);
            } else {
                result = sync.get(2, TimeUnit.MINUTES);
            }
            assertEquals(0, result.exitCode(), result.toString());
            JsonNode run = BackflowCli.history(conn).get(0);
            assertEquals("SUCCEEDED", run.get("status").asText());
            assertEquals(expectedType, run.get("type").asText());
            return stopped;
        }
        throw new AssertionError("no sync finished after " + stops + " stops");
    }

    private void assertEveryRowOnceWithinTheInFlightWindow(Path conn, int rows, int stops, int parallelism) {
        Map<Long, Integer> counts = deliveredCounts();
        List<Long> missing = new ArrayList<>();
        for (long id = 1; id <= rows; id++) {
            if (!counts.containsKey(id)) {
                missing.add(id);
            }
        }
        assertTrue(missing.isEmpty(), missing.size() + " rows never delivered, e.g. " + missing.subList(0, Math.min(10, missing.size())));
        int duplicates = counts.values().stream().mapToInt(c -> c - 1).sum();
        int window = stops * BATCH * IN_FLIGHT * parallelism;
        System.out.println("StopResumeITCase: " + rows + " rows, " + stops + " stops, " + duplicates + " duplicate deliveries (window " + window + ")");
        assertTrue(duplicates <= window, duplicates + " duplicates exceed the in-flight window " + window);
        for (JsonNode run : BackflowCli.history(conn)) {
            assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong(), run.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void randomStopsDuringAFullSyncLoseNothing(String database) throws Exception {
        use(database);
        Random random = new Random(seed());
        createOrdersTable();
        insertOrders(1, 4000, timestamps("2024-01-01", 7, "second"));
        Path conn = connection(2);
        int stops = syncWithRandomStops(conn, random, 6, 4000, "FULL");
        assertTrue(stops >= 4, "only " + stops + " of 6 stops took effect");
        assertEveryRowOnceWithinTheInFlightWindow(conn, 4000, stops, 2);
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        JsonNode next = BackflowCli.history(conn).get(0);
        assertEquals("INCREMENTAL", next.get("type").asText(), "after the resumed FULL finished, syncs are incremental");
        assertEquals(0, next.get("read").asLong());
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void randomStopsDuringAnIncrementalSyncLoseNothing(String database) throws Exception {
        use(database);
        Random random = new Random(seed());
        createOrdersTable();
        insertOrders(1, 200, "TIMESTAMP '2024-01-01'");
        Path conn = connection(1);
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        // Many rows share a cursor value, so stops land inside runs of equal cursors.
        insertOrders(201, 4000, timestamps("2024-02-01", 300, "minute"));
        int stops = syncWithRandomStops(conn, random, 6, 3800, "INCREMENTAL");
        assertTrue(stops >= 4, "only " + stops + " of 6 stops took effect");
        assertEveryRowOnceWithinTheInFlightWindow(conn, 4000, stops, 1);
        receiver.reset();
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        assertEquals(0, receiver.deliveredEvents().size(), "nothing is sent again after the resumed run finished");
    }

    @Test
    void drainDeliversEverythingReadAndTheNextSyncSendsNothingTwice() throws Exception {
        createOrdersTable();
        insertOrders(1, 3000, "TIMESTAMP '2024-01-01'");
        Path conn = connection(1);
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
        assertTrue(receiver.awaitDelivered(300, Duration.ofSeconds(60)));
        BackflowCli.Result stop = BackflowCli.run("stop", "--connection", conn.toString(), "--drain");
        assertEquals(0, stop.exitCode(), stop.toString());
        BackflowCli.Result result = sync.get(2, TimeUnit.MINUTES);
        assertEquals(3, result.exitCode(), result.toString());
        JsonNode stopped = BackflowCli.history(conn).get(0);
        assertEquals("CANCELLED", stopped.get("status").asText());
        assertEquals(stopped.get("read").asLong(), stopped.get("succeeded").asLong(), "everything read was delivered: " + stopped);
        assertEquals(stopped.get("succeeded").asLong(), receiver.deliveredEvents().size());

        assertEquals(0, BackflowCli.sync(conn).exitCode());
        Map<Long, Integer> counts = deliveredCounts();
        assertEquals(3000, counts.size());
        assertEquals(0, counts.values().stream().mapToInt(c -> c - 1).sum(), "a drained run leaves nothing to send twice");
        assertEquals("FULL", BackflowCli.history(conn).get(0).get("type").asText(), "a stopped FULL continues as FULL");
    }

    @Test
    void stopsThatFindNothingRunningAnswerInOneLine() throws Exception {
        createOrdersTable();
        insertOrders(1, 50, "TIMESTAMP '2024-01-01'");
        Path conn = connection(1);
        BackflowCli.Result none = BackflowCli.run("stop", "--connection", conn.toString());
        assertEquals(0, none.exitCode());
        assertEquals("Nothing to stop: connection orders has no running sync.", none.out().trim());
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        BackflowCli.Result after = BackflowCli.run("stop", "--connection", conn.toString());
        assertEquals(0, after.exitCode());
        assertTrue(after.out().trim().matches("Nothing to stop: connection orders has no running sync \\(its last run \\S+ is SUCCEEDED\\)\\."), after.out());
        assertTrue(after.err().isEmpty(), after.err());
    }

    @Test
    void aStopRacingTheEndOfASyncAndTwoStopsAtOnceLoseNothing() throws Exception {
        createOrdersTable();
        insertOrders(1, 600, "TIMESTAMP '2024-01-01'");
        Path conn = connection(1);
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
        assertTrue(receiver.awaitDelivered(560, Duration.ofSeconds(60)));
        CompletableFuture<BackflowCli.Result> stop1 = CompletableFuture.supplyAsync(() -> BackflowCli.run("stop", "--connection", conn.toString()));
        CompletableFuture<BackflowCli.Result> stop2 = CompletableFuture.supplyAsync(() -> BackflowCli.run("stop", "--connection", conn.toString()));
        assertEquals(0, stop1.get(2, TimeUnit.MINUTES).exitCode(), stop1.get().toString());
        assertEquals(0, stop2.get(2, TimeUnit.MINUTES).exitCode(), stop2.get().toString());
        BackflowCli.Result result = sync.get(2, TimeUnit.MINUTES);
        assertTrue(result.exitCode() == 0 || result.exitCode() == 3, result.toString());
        while (!"SUCCEEDED".equals(BackflowCli.history(conn).get(0).get("status").asText())) {
            assertEquals(0, BackflowCli.sync(conn).exitCode());
        }
        assertEquals(600, deliveredCounts().size());
    }

    @Test
    void aTaskManagerLostMidSyncRecoversWithoutLoss(@InjectMiniCluster MiniCluster cluster) throws Exception {
        createOrdersTable();
        insertOrders(1, 3000, "TIMESTAMP '2024-01-01'");
        Path conn = connection(1);
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
        assertTrue(receiver.awaitDelivered(500, Duration.ofSeconds(60)));
        cluster.terminateTaskManager(0).get();
        cluster.startTaskManager();
        BackflowCli.Result result = sync.get(3, TimeUnit.MINUTES);
        assertEquals(0, result.exitCode(), result.toString());
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals("SUCCEEDED", run.get("status").asText());
        assertEquals(3000, deliveredCounts().size());
        assertNotNull(run.get("finished_at").asText(null));
    }

    @Test
    void theNextSyncAfterAStopHasTheStoppedRunsTypeUnlessAFullResyncIsAsked() throws Exception {
        createOrdersTable();
        insertOrders(1, 2000, "TIMESTAMP '2024-01-01'");
        Path conn = connection(1);
        stopAfter(conn, 200);
        assertEquals("FULL", BackflowCli.history(conn).get(0).get("type").asText());
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        assertEquals("FULL", BackflowCli.history(conn).get(0).get("type").asText(), "a stopped FULL continues as FULL");

        insertOrders(2001, 4000, "TIMESTAMP '2024-03-01'");
        stopAfter(conn, receiver.deliveredEvents().size() + 200);
        assertEquals("INCREMENTAL", BackflowCli.history(conn).get(0).get("type").asText());
        stopAfter(conn, receiver.deliveredEvents().size() + 200);
        JsonNode second = BackflowCli.history(conn).get(0);
        assertEquals("INCREMENTAL", second.get("type").asText(), "a stopped INCREMENTAL continues as INCREMENTAL");

        assertEquals(0, BackflowCli.sync(conn, "--full-resync").exitCode());
        assertEquals("FULL", BackflowCli.history(conn).get(0).get("type").asText(), "--full-resync overrides");
        assertEquals(4000, deliveredCounts().size());
    }

    @Test
    void disablingAConnectionDrainsItsSyncAndSyncRefusesUntilEnabled() throws Exception {
        createOrdersTable();
        insertOrders(1, 2000, "TIMESTAMP '2024-01-01'");
        Path conn = connection(1);
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
        assertTrue(receiver.awaitDelivered(200, Duration.ofSeconds(60)));
        BackflowCli.Result disable = BackflowCli.run("disable", "--connection", conn.toString());
        assertEquals(0, disable.exitCode(), disable.toString());
        assertEquals(3, sync.get(2, TimeUnit.MINUTES).exitCode());
        JsonNode drained = BackflowCli.history(conn).get(0);
        assertEquals("CANCELLED", drained.get("status").asText());
        assertEquals(drained.get("read").asLong(), drained.get("succeeded").asLong(), "a disabled connection's sync is drained");

        BackflowCli.Result refused = BackflowCli.sync(conn);
        assertEquals(1, refused.exitCode());
        assertTrue(refused.err().contains("connection orders is disabled; enable it with: enable --connection"), refused.toString());

        assertEquals(0, BackflowCli.run("enable", "--connection", conn.toString()).exitCode());
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        assertEquals(2000, deliveredCounts().size());
        assertEquals(0, deliveredCounts().values().stream().mapToInt(c -> c - 1).sum());
    }

    @Test
    void settingEnabledFalseInTheFileDrainsTheRunningSync() throws Exception {
        createOrdersTable();
        insertOrders(1, 2000, "TIMESTAMP '2024-01-01'");
        Path conn = connection(1);
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
        assertTrue(receiver.awaitDelivered(200, Duration.ofSeconds(60)));
        Files.writeString(conn, "enabled: false\n" + Files.readString(conn));
        BackflowCli.Result result = sync.get(2, TimeUnit.MINUTES);
        assertEquals(3, result.exitCode(), result.toString());
        assertTrue(result.out().contains("was disabled in"), result.out());
        BackflowCli.Result refused = BackflowCli.sync(conn);
        assertEquals(1, refused.exitCode());
        assertTrue(refused.err().contains("is disabled (enabled: false in"), refused.toString());
    }

    private void stopAfter(Path conn, int delivered) throws Exception {
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
        assertTrue(receiver.awaitDelivered(delivered, Duration.ofSeconds(60)));
        assertEquals(0, BackflowCli.run("stop", "--connection", conn.toString()).exitCode());
        assertEquals(3, sync.get(2, TimeUnit.MINUTES).exitCode());
    }
}
