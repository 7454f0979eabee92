package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.ledger.Ledger;
import io.backflow.ledger.LedgerStore;
import io.backflow.ledger.RunStatus;
import io.backflow.ledger.SyncRun;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sync --continuous} against PostgreSQL and a webhook receiver: one Flink job that starts
 * an INCREMENTAL run at every tick once the one before completed. Rows inserted between ticks
 * (some at exactly the committed cursor value) arrive once; each run is a row of the ledger
 * that reconciles and moves the committed position; a stop with savepoint in the middle of a
 * run, and the sync that restores that savepoint, lose nothing.
 */
class ContinuousSyncITCase {
    private static final int BATCH = 20;
    private static final int IN_FLIGHT = 1;

    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;
    Path savepoints;
    final List<CompletableFuture<BackflowCli.Result>> running = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
        db = Databases.newPostgresDatabase("continuous");
        savepoints = dir.resolve("savepoints");
        // The cursor is a number shared by ten ids, so new rows keep arriving at the committed mark.
        Databases.execute(db, "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at BIGINT)");
    }

    @AfterEach
    void stop() throws Exception {
        for (CompletableFuture<BackflowCli.Result> sync : running) {
            if (!sync.isDone()) {
                BackflowCli.run("stop", "--connection", dir.resolve("orders.yaml").toString());
                sync.get(2, TimeUnit.MINUTES);
            }
        }
        receiver.close();
    }

    private Path connection(int parallelism) {
        return BackflowCli.write(dir, "orders", String.join("\n",
                BackflowCli.ordersSource(db, "  page_size: 500"),
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: " + BATCH,
                "  max_in_flight: " + IN_FLIGHT,
                "sync:",
                "  parallelism: " + parallelism,
                "  checkpoint_interval: 200ms",
                "  savepoint_dir: " + savepoints,
                "schedule: {every: 1s}",
                ""));
    }

    private void insert(int from, int to) {
        Databases.execute(db, "INSERT INTO orders SELECT i, 'u' || (i % 7), i, i / 10 FROM generate_series(" + from + ", " + to + ") i");
    }

    private CompletableFuture<BackflowCli.Result> continuous(Path conn) {
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn, "--continuous"));
        running.add(sync);
        return sync;
    }

    private Map<Long, Integer> deliveredCounts() {
        Map<Long, Integer> counts = new HashMap<>();
        for (JsonNode e : receiver.deliveredEvents()) {
            counts.merge(e.get("context").get("backflow").get("primary_key").get("id").asLong(), 1, Integer::sum);
        }
        return counts;
    }

    private static void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** The connection's runs, oldest first. */
    private List<SyncRun> runs() {
        try (Ledger ledger = new LedgerStore(db, "backflow").open()) {
            List<SyncRun> runs = new ArrayList<>(ledger.runs("orders", 10_000));
            Collections.reverse(runs);
            return runs;
        }
    }

    private static void assertReconciles(SyncRun run) {
        assertEquals(run.read(), run.succeeded() + run.failed() + run.invalid(), run.id() + " " + run.status());
    }

    @Test
    void rowsInsertedBetweenTicksArriveOnceInOneRunPerTick() throws Exception {
        insert(1, 95);
        Path conn = connection(2);
        CompletableFuture<BackflowCli.Result> sync = continuous(conn);
        await(() -> deliveredCounts().size() == 95, Duration.ofSeconds(90), "the first run's 95 rows");

        // Three rounds between ticks; each starts at the committed cursor value (ids 96 to 99 share 9 with ids 90 to 95).
        insert(96, 130);
        // A row without a user id is invalid: recorded, not sent, and counted in its run.
        Databases.execute(db, "INSERT INTO orders VALUES (131, NULL, 131, 13)");
        await(() -> deliveredCounts().size() == 130, Duration.ofSeconds(60), "rows 96 to 130");
        insert(132, 200);
        await(() -> deliveredCounts().size() == 199, Duration.ofSeconds(60), "rows 132 to 200");
        // Wait for a few runs that find nothing new: ticks go on without rows.
        int before = runs().size();
        await(() -> runs().stream().filter(r -> r.status() == RunStatus.SUCCEEDED).count() >= before + 2, Duration.ofSeconds(60),
                "two more runs");
        insert(201, 210);
        await(() -> deliveredCounts().size() == 209, Duration.ofSeconds(60), "rows 201 to 210");

        BackflowCli.Result stop = BackflowCli.run("stop", "--connection", conn.toString());
        assertEquals(0, stop.exitCode(), stop.toString());
        BackflowCli.Result result = sync.get(2, TimeUnit.MINUTES);
        assertEquals(3, result.exitCode(), result.toString());
        assertTrue(result.out().contains("Continuous sync of orders ended after"), result.toString());

        Map<Long, Integer> counts = deliveredCounts();
        assertEquals(209, counts.size());
        assertEquals(0, counts.values().stream().mapToInt(c -> c - 1).sum(), "every row once: " + counts);
        assertNull(counts.get(131L), "the invalid row is not sent");

        List<SyncRun> runs = runs();
        assertTrue(runs.size() >= 5, "one run per tick: " + runs.size());
        assertEquals("FULL", runs.get(0).type());
        long succeeded = 0;
        long invalid = 0;
        for (int i = 0; i < runs.size(); i++) {
            SyncRun run = runs.get(i);
            assertReconciles(run);
            assertTrue(run.status() != RunStatus.RUNNING, "nothing is left RUNNING: " + run.id());
            assertEquals(runs.get(0).jobId(), run.jobId(), "every run is the one job's");
            succeeded += run.succeeded();
            invalid += run.invalid();
            if (i > 0 && run.status() == RunStatus.SUCCEEDED) {
                assertEquals("INCREMENTAL", run.type());
                // Each run continues from the position the run before committed.
                assertEquals(runs.get(i - 1).highWaterMark(), run.startPosition(), "run " + i);
            }
        }
        assertEquals(209, succeeded, "the runs' counts add up to what arrived");
        assertEquals(1, invalid);

        // The next plain sync finds nothing the continuous job had not sent.
        receiver.reset();
        BackflowCli.Result next = BackflowCli.sync(conn);
        assertEquals(0, next.exitCode(), next.toString());
        assertEquals(0, receiver.deliveredEvents().size());
    }

    @Test
    void aStopWithSavepointMidRunAndItsRestoreLoseNothing() throws Exception {
        // A slow destination, so the stop lands inside a run.
        receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(25)));
        insert(1, 40);
        Path conn = connection(1);
        CompletableFuture<BackflowCli.Result> first = continuous(conn);
        await(() -> deliveredCounts().size() == 40, Duration.ofSeconds(90), "the first run");
        insert(41, 2000);
        await(() -> deliveredCounts().size() >= 200, Duration.ofSeconds(90), "part of the second run");
        BackflowCli.Result stop = BackflowCli.run("stop", "--connection", conn.toString());
        assertEquals(0, stop.exitCode(), stop.toString());
        assertEquals(3, first.get(2, TimeUnit.MINUTES).exitCode());
        List<SyncRun> before = runs();
        SyncRun stopped = before.get(before.size() - 1);
        assertEquals(RunStatus.CANCELLED, stopped.status(), "stopped mid-run");
        assertNotNull(stopped.savepoint());
        assertTrue(deliveredCounts().size() < 2000, "the stop came before the run's end");

        // The next continuous sync restores the savepoint: the stopped run continues, then runs go on.
        CompletableFuture<BackflowCli.Result> second = continuous(conn);
        await(() -> runs().stream().anyMatch(r -> stopped.id().equals(r.resumedFrom()) && r.status() != RunStatus.RUNNING),
                Duration.ofSeconds(120), "the resumed run");
        SyncRun resumed = runs().stream().filter(r -> stopped.id().equals(r.resumedFrom())).findFirst().orElseThrow();
        assertTrue(resumed.reason().contains("from its savepoint"), resumed.reason());
        assertEquals(RunStatus.SUCCEEDED, resumed.status());
        assertEquals(stopped.highWaterMark(), resumed.highWaterMark(), "it reads the stopped run's scope");
        insert(2001, 2050);
        await(() -> deliveredCounts().size() == 2050, Duration.ofSeconds(90), "every row");
        stop = BackflowCli.run("stop", "--connection", conn.toString());
        assertEquals(0, stop.exitCode(), stop.toString());
        assertEquals(3, second.get(2, TimeUnit.MINUTES).exitCode());

        Map<Long, Integer> counts = deliveredCounts();
        assertEquals(2050, counts.size());
        int duplicates = counts.values().stream().mapToInt(c -> c - 1).sum();
        System.out.println("ContinuousSyncITCase: " + duplicates + " duplicate deliveries after a stop with savepoint");
        assertTrue(duplicates <= BATCH * IN_FLIGHT, duplicates + " duplicates exceed what was in flight at the stop");
        long succeeded = 0;
        for (SyncRun run : runs()) {
            assertReconciles(run);
            succeeded += run.succeeded();
        }
        // The ledger counted what arrived: the stopped run and its resumption read each row once between them.
        assertEquals(receiver.deliveredEvents().size(), succeeded);
    }
}
