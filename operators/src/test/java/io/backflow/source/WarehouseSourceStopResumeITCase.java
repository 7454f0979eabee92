package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stop-with-savepoint in the middle of a read, then a run restored from the savepoint: together
 * the two runs emit every row exactly once, because split state is the last emitted row's
 * position. A gate after the source holds the pipeline so the stop lands mid-read.
 */
class WarehouseSourceStopResumeITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path dir;

    static JdbcEndpoint postgres;
    static JdbcEndpoint duckdb;

    /** Rows (or "END split") that passed the gate, per run. */
    static final Queue<String> SEEN = new ConcurrentLinkedQueue<>();
    static final Semaphore GATE = new Semaphore(0);

    @BeforeAll
    static void createTables() {
        postgres = Databases.newPostgresDatabase("stop_resume");
        duckdb = Databases.duckDb(dir, "stop_resume");
        for (JdbcEndpoint db : List.of(postgres, duckdb)) {
            String series = db == postgres ? "generate_series(1, 6000) AS g(i)" : "range(1, 6001) AS g(i)";
            Databases.execute(db,
                    "CREATE TABLE events (id BIGINT PRIMARY KEY, updated_at TIMESTAMP, name VARCHAR(20))",
                    // ids 2001..4000 share one cursor value.
                    "INSERT INTO events SELECT i, TIMESTAMP '2024-01-01 00:00:00' + "
                            + "(CASE WHEN i BETWEEN 2001 AND 4000 THEN 3000 ELSE i END) * INTERVAL '1 second', 'n' || i FROM " + series);
        }
    }

    @Test
    void fullRunWithParallelSplitsResumesExactlyOnPostgres() throws Exception {
        WarehouseSourceBuilder builder = WarehouseSource.builder()
                .endpoint(postgres).table("events").primaryKey(List.of("id"))
                .syncType(SyncType.FULL).splits(3).pageSize(300).fetchSize(50).runId("stop-full");
        stopAndResume(builder, 2, 1_500, 3);
    }

    @Test
    void incrementalRunStoppedInsideEqualCursorsResumesExactlyOnPostgres() throws Exception {
        WarehouseSourceBuilder builder = WarehouseSource.builder()
                .endpoint(postgres).table("events").primaryKey(List.of("id")).cursorColumn("updated_at")
                .syncType(SyncType.INCREMENTAL).pageSize(300).fetchSize(50).runId("stop-incremental");
        stopAndResume(builder, 1, 2_500, 1);
    }

    @Test
    void incrementalRunStoppedInsideEqualCursorsResumesExactlyOnDuckDb() throws Exception {
        WarehouseSourceBuilder builder = WarehouseSource.builder()
                .endpoint(duckdb).table("events").primaryKey(List.of("id")).cursorColumn("updated_at")
                .syncType(SyncType.INCREMENTAL).pageSize(300).fetchSize(50).runId("stop-incremental-duck");
        stopAndResume(builder, 2, 3_100, 1);
    }

    private void stopAndResume(WarehouseSourceBuilder builder, int parallelism, int rowsBeforeStop, int splits) throws Exception {
        SEEN.clear();
        GATE.drainPermits();

        // Run 1: let rowsBeforeStop rows through, then stop with a savepoint.
        JobClient first = submit(builder.build(), parallelism, null);
        GATE.release(rowsBeforeStop);
        waitUntil(() -> SEEN.size() >= rowsBeforeStop, "first " + rowsBeforeStop + " rows");
        CompletableFuture<String> savepoint = first.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String savepointPath = null;
        while (savepointPath == null) {
            // The barrier must pass the gate: let a few rows through at a time until the savepoint is taken.
            GATE.release(5);
            try {
                savepointPath = savepoint.get(100, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("stop-with-savepoint did not complete");
                }
            }
        }
        first.getJobExecutionResult().get(60, TimeUnit.SECONDS);
        List<String> run1 = new ArrayList<>(SEEN);
        assertTrue(run1.size() >= rowsBeforeStop && run1.size() < 6_000, "run 1 stopped mid-read, saw " + run1.size());

        // Run 2: restored from the savepoint, no gate.
        SEEN.clear();
        GATE.release(1_000_000);
        JobClient second = submit(builder.build(), parallelism, savepointPath);
        second.getJobExecutionResult().get(120, TimeUnit.SECONDS);
        assertEquals(JobStatus.FINISHED, second.getJobStatus().get(10, TimeUnit.SECONDS));
        List<String> run2 = new ArrayList<>(SEEN);

        List<String> rows = new ArrayList<>();
        Map<String, Integer> ends = new HashMap<>();
        for (String seen : concat(run1, run2)) {
            if (seen.startsWith("END ")) {
                ends.merge(seen, 1, Integer::sum);
            } else {
                rows.add(seen);
            }
        }
        Set<String> unique = new HashSet<>(rows);
        assertEquals(rows.size(), unique.size(), "a row was emitted twice across stop and resume");
        assertEquals(6_000, unique.size(), "every row is read by one of the two runs");
        assertEquals(splits, ends.size());
        assertTrue(ends.values().stream().allMatch(n -> n == 1), "each split ends once: " + ends);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static JobClient submit(WarehouseSource source, int parallelism, String savepointPath) throws Exception {
        Configuration conf = new Configuration();
        if (savepointPath != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepointPath);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.getConfig().enableObjectReuse();
        env.enableCheckpointing(Duration.ofSeconds(1).toMillis());
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "warehouse").uid("warehouse-source")
                .map(new Gate()).uid("gate")
                .sinkTo(new DiscardingSink<>()).uid("discard");
        return env.executeAsync("stop-resume");
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        synchronized (SEEN) {
            while (!condition.getAsBoolean()) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new AssertionError("timed out waiting for " + what);
                }
                SEEN.wait(left);
            }
        }
    }

    /** Blocks each record until the test lets it through, then records it. */
    static final class Gate implements MapFunction<SourceRow, String> {
        @Override
        public String map(SourceRow row) throws Exception {
            GATE.acquire();
            String seen = row.isSplitEnd() ? "END " + row.splitId() : row.position();
            synchronized (SEEN) {
                SEEN.add(seen);
                SEEN.notifyAll();
            }
            return seen;
        }
    }
}
