package io.backflow.ledger;

import io.backflow.sink.DeliveryCommittable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.model.RowError;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The ledger on both databases it ships with: idempotent commits, completion, concurrency. */
class LedgerTest {
    private static EmbeddedPostgres postgres;
    @TempDir static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgres.start();
    }

    @AfterAll
    static void stop() throws Exception {
        postgres.close();
    }

    static Stream<String> databases() {
        return Stream.of("postgres", "duckdb");
    }

    private static LedgerStore store(String db, String schema) {
        JdbcEndpoint endpoint = db.equals("postgres")
                ? new JdbcEndpoint(postgres.getJdbcUrl("postgres", "postgres"), "postgres", "postgres")
                : new JdbcEndpoint("jdbc:duckdb:" + tmp.resolve("ledger.duckdb"), null, null);
        return new LedgerStore(endpoint, schema);
    }

    private static DeliveryCommittable committable(String run, int subtask, long checkpoint, long succeeded, long failed, long invalid,
            Map<String, String> positions, Set<String> finished) {
        List<RowError> errors = new ArrayList<>();
        for (int i = 0; i < failed; i++) {
            errors.add(new RowError(RowError.Kind.FAILED, "{\"id\":" + i + "}", "m" + i, "HTTP 400: bad"));
        }
        for (int i = 0; i < invalid; i++) {
            errors.add(new RowError(RowError.Kind.INVALID, "{\"id\":" + (100 + i) + "}", null, "user_id is null"));
        }
        return new DeliveryCommittable(run, subtask, checkpoint, succeeded + failed + invalid, succeeded, failed, invalid, positions, finished, errors);
    }

    private static List<Ledger.SplitProgress> splits(String... ids) {
        List<Ledger.SplitProgress> out = new ArrayList<>();
        for (String id : ids) {
            out.add(new Ledger.SplitProgress(id, "descriptor-" + id, null, false));
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aRunSucceedsOnlyWhenEverySplitIsFinishedAndThenMovesThePosition(String db) {
        try (Ledger ledger = store(db, "l_complete").open()) {
            String run = ledger.startRun("orders", "INCREMENTAL", null, "first");
            ledger.planned(run, "[[\"long\",99]]", splits("s0", "s1"));
            assertTrue(ledger.commit(committable(run, 0, 1, 10, 1, 2, Map.of("s0", "[[\"long\",5]]"), Set.of())));
            assertTrue(ledger.commit(committable(run, 1, 1, 5, 0, 0, Map.of("s1", "[[\"long\",50]]"), Set.of("s1"))));
            assertEquals(RunStatus.RUNNING, ledger.run(run).status());
            assertNull(ledger.committedPosition("orders"));

            assertTrue(ledger.commit(committable(run, 0, 2, 3, 0, 0, Map.of("s0", "[[\"long\",9]]"), Set.of("s0"))));
            SyncRun done = ledger.run(run);
            // One row failed at the destination: finished, and owed to the next sync.
            assertEquals(RunStatus.PARTIAL, done.status());
            assertTrue(done.completed());
            assertEquals("1 row(s) failed at the destination; they are retried by the next sync (first failure: HTTP 400: bad)", done.outcome());
            assertEquals(21, done.read());
            assertEquals(18, done.succeeded());
            assertTrue(done.reconciles());
            assertEquals("[[\"long\",99]]", ledger.committedPosition("orders"));
            assertEquals(Map.of("s0", "[[\"long\",9]]", "s1", "[[\"long\",50]]"), ledger.splitPositions(run));
            assertEquals(3, ledger.rowErrors(run, 100).size());
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aCommittableHandedOverTwiceIsAppliedOnce(String db) {
        try (Ledger ledger = store(db, "l_idem").open()) {
            String run = ledger.startRun("c", "FULL", null, "first");
            ledger.planned(run, null, splits("s0"));
            DeliveryCommittable c = committable(run, 0, 7, 4, 0, 1, Map.of("s0", "[[\"long\",4]]"), Set.of());
            assertTrue(ledger.commit(c));
            assertFalse(ledger.commit(c));
            assertEquals(5, ledger.run(run).read());
            assertEquals(1, ledger.rowErrors(run, 10).size());
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aRunWithNothingToReadSucceedsAtOnceAndKeepsThePosition(String db) {
        try (Ledger ledger = store(db, "l_empty").open()) {
            String run = ledger.startRun("c", "INCREMENTAL", "[[\"long\",3]]", "next");
            ledger.planned(run, null, splits());
            assertEquals(RunStatus.SUCCEEDED, ledger.run(run).status());
            assertNull(ledger.committedPosition("c"));
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void finishRunLeavesAFinalRunAlone(String db) {
        try (Ledger ledger = store(db, "l_finish").open()) {
            String run = ledger.startRun("c", "FULL", null, "first");
            ledger.planned(run, null, splits());
            assertFalse(ledger.finishRun(run, RunStatus.FAILED, "late"));
            assertEquals(RunStatus.SUCCEEDED, ledger.run(run).status());
            String other = ledger.startRun("c", "FULL", null, "again");
            assertTrue(ledger.finishRun(other, RunStatus.CANCELLED, "stopped"));
            assertEquals(List.of(other, run), ledger.runs("c", 10).stream().map(SyncRun::id).toList());
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void concurrentCommittersNeverLoseACount(String db) throws Exception {
        LedgerStore store = store(db, "l_conc");
        String run;
        try (Ledger ledger = store.open()) {
            run = ledger.startRun("c", "FULL", null, "first");
            ledger.planned(run, null, splits("s0", "s1", "s2", "s3"));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int subtask = t;
            futures.add(pool.submit(() -> {
                try (Ledger ledger = store.open()) {
                    for (int cp = 1; cp <= 25; cp++) {
                        ledger.commit(committable(run, subtask, cp, 10, 0, 0, Map.of("s" + subtask, "[[\"long\"," + cp + "]]"),
                                cp == 25 ? Set.of("s" + subtask) : Set.of()));
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        pool.shutdown();
        try (Ledger ledger = store.open()) {
            SyncRun done = ledger.run(run);
            assertEquals(1000, done.read());
            assertEquals(1000, done.succeeded());
            assertEquals(RunStatus.SUCCEEDED, done.status());
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aSecondRunOfAConnectionIsRefusedWhileOneRuns(String db) throws Exception {
        LedgerStore store = store(db, "l_lock");
        try (Ledger ledger = store.open()) {
            String first = ledger.startRun("c", "FULL", null, "first");
            RunAlreadyRunningException e = org.junit.jupiter.api.Assertions.assertThrows(RunAlreadyRunningException.class,
                    () -> ledger.startRun("c", "FULL", null, "second"));
            assertEquals(first, e.runningRun());
            assertTrue(ledger.markStopped(first, null, "stopped"));
            String second = ledger.startRun("c", "FULL", null, "after the stop");
            assertEquals(List.of(second, first), ledger.runs("c", 10).stream().map(SyncRun::id).toList(), "newest first");
        }
        // Many syncs of a new connection started at once: exactly one wins, every time.
        ExecutorService pool = Executors.newFixedThreadPool(6);
        for (int round = 0; round < 5; round++) {
            String connection = "racy-" + round;
            List<Future<String>> attempts = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                attempts.add(pool.submit(() -> {
                    try (Ledger ledger = store.open()) {
                        return ledger.startRun(connection, "FULL", null, "race");
                    } catch (RunAlreadyRunningException e) {
                        return null;
                    }
                }));
            }
            int winners = 0;
            for (Future<String> f : attempts) {
                winners += f.get() == null ? 0 : 1;
            }
            assertEquals(1, winners, connection);
        }
        pool.shutdown();
    }

    @ParameterizedTest
    @MethodSource("databases")
    void planningAgainBeforeAnyCommitReplacesThePlan(String db) {
        try (Ledger ledger = store(db, "l_replan").open()) {
            String run = ledger.startRun("c", "FULL", null, "first");
            ledger.planned(run, null, splits("full-0", "full-1", "full-2"));
            ledger.planned(run, null, splits("full-0", "full-1"));
            assertEquals(2, ledger.splitProgress(run).size());
            ledger.commit(committable(run, 0, 1, 1, 0, 0, Map.of("full-0", "[[\"long\",1]]"), Set.of()));
            ledger.planned(run, null, splits("full-0"));
            assertEquals(2, ledger.splitProgress(run).size(), "after a commit the first plan stands");
        }
    }

    @org.junit.jupiter.api.Test
    void thePositionNeverMovesBack() {
        assertTrue(Ledger.movesBack("[[\"long\",5]]", "[[\"long\",9]]"));
        assertFalse(Ledger.movesBack("[[\"long\",9]]", "[[\"long\",9]]"));
        assertFalse(Ledger.movesBack("[[\"timestamp\",\"2024-02-01T00:00\"]]", "[[\"timestamp\",\"2024-01-01T00:00\"]]"));
        assertFalse(Ledger.movesBack("[[\"long\",5]]", null));
    }

    /**
     * More rows owed than one sync retries: a row refused again goes to the back, so the next sync
     * retries the others. Oldest first retried the same rows forever while newer ones starved.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void aRowRefusedAgainGoesToTheBackOfTheRetryList(String db) {
        try (Ledger ledger = store(db, "l_rotation").open()) {
            String first = ledger.startRun("c", "INCREMENTAL", "[[\"long\",0]]", "first");
            ledger.planned(first, "[[\"long\",9]]", splits("incremental-0"));
            ledger.commit(new DeliveryCommittable(first, 0, 1, 2, 0, 2, 0, Map.of("incremental-0", "[[\"long\",9]]"),
                    Set.of("incremental-0"), List.of(new RowError(RowError.Kind.FAILED, "{\"id\":3}", "m3", "HTTP 422", "[[\"long\",3]]"),
                            new RowError(RowError.Kind.FAILED, "{\"id\":5}", "m5", "HTTP 422", "[[\"long\",5]]"))));
            assertEquals(List.of("[[\"long\",3]]"), ledger.failedKeys("c", 1));
            // The next failure must get a later last_failed_at than the first run's: wait until the clock has moved.
            long later = System.currentTimeMillis() + 2;
            while (System.currentTimeMillis() < later) {
                Thread.onSpinWait();
            }
            String second = ledger.startRun("c", "INCREMENTAL", "[[\"long\",9]]", "next");
            ledger.recordRetryKeys(second, ledger.failedKeys("c", 1));
            ledger.planned(second, "[[\"long\",9]]", splits(Ledger.RETRY_SPLIT));
            ledger.commit(new DeliveryCommittable(second, 0, 1, 1, 0, 1, 0, Map.of(Ledger.RETRY_SPLIT, "[[\"long\",1]]"),
                    Set.of(Ledger.RETRY_SPLIT), List.of(new RowError(RowError.Kind.FAILED, "{\"id\":3}", "m3", "HTTP 422", "[[\"long\",3]]"))));
            assertEquals(List.of("[[\"long\",5]]", "[[\"long\",3]]"), ledger.failedKeys("c", 100));
            assertEquals(List.of("[[\"long\",5]]"), ledger.failedKeys("c", 1), "key 5 waited longer: its turn");
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void refusedRowsWaitForTheNextSyncAndAreForgottenOnceDelivered(String db) {
        try (Ledger ledger = store(db, "l_failed").open()) {
            String first = ledger.startRun("c", "INCREMENTAL", "[[\"long\",0]]", "first");
            ledger.planned(first, "[[\"long\",9]]", splits("incremental-0"));
            List<RowError> errors = List.of(
                    new RowError(RowError.Kind.FAILED, "{\"id\":3}", "m3", "HTTP 422", "[[\"long\",3]]"),
                    new RowError(RowError.Kind.FAILED, "{\"id\":5}", "m5", "HTTP 503 after 8 attempts", "[[\"long\",5]]"),
                    new RowError(RowError.Kind.INVALID, "{\"id\":6}", null, "user_id is null", null));
            ledger.commit(new DeliveryCommittable(first, 0, 1, 10, 7, 2, 1, Map.of("incremental-0", "[[\"long\",9]]"),
                    Set.of("incremental-0"), errors));
            assertEquals(RunStatus.PARTIAL, ledger.run(first).status());
            assertEquals(List.of("[[\"long\",3]]", "[[\"long\",5]]"), ledger.failedKeys("c", 100));

            // The next run retries both; key 5 is refused again, key 3 goes through.
            String second = ledger.startRun("c", "INCREMENTAL", "[[\"long\",9]]", "next");
            ledger.recordRetryKeys(second, ledger.failedKeys("c", 100));
            ledger.planned(second, "[[\"long\",9]]", splits(Ledger.RETRY_SPLIT));
            ledger.commit(new DeliveryCommittable(second, 0, 1, 2, 1, 1, 0, Map.of(Ledger.RETRY_SPLIT, "[[\"long\",2]]"),
                    Set.of(Ledger.RETRY_SPLIT), List.of(new RowError(RowError.Kind.FAILED, "{\"id\":5}", "m5", "HTTP 422", "[[\"long\",5]]"))));
            assertEquals(List.of("[[\"long\",5]]"), ledger.failedKeys("c", 100));

            // A FULL run resends every row: what failed before it is settled.
            String full = ledger.startRun("c", "FULL", null, "resync");
            ledger.planned(full, "[[\"long\",9]]", splits("full-0"));
            ledger.commit(new DeliveryCommittable(full, 0, 1, 10, 10, 0, 0, Map.of("full-0", "[[\"long\",10]]"), Set.of("full-0"), List.of()));
            assertEquals(0, ledger.failedRowCount("c"));
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aStoppedRunsLateProgressFinishesTheSplitsOfTheRunThatResumedIt(String db) {
        try (Ledger ledger = store(db, "l_late").open()) {
            String stopped = ledger.startRun("c", "FULL", null, "first");
            ledger.planned(stopped, null, splits("full-0", "full-1"));
            ledger.commit(committable(stopped, 0, 1, 5, 0, 0, Map.of("full-0", "[[\"long\",5]]"), Set.of()));
            ledger.markStopped(stopped, "file:/tmp/sp", "stopped");
            String resumed = ledger.startRun("c", "FULL", null, "resumes", stopped, null);
            ledger.copyPlan(stopped, resumed);
            // The stop savepoint's own progress arrives late: full-0 had ended before the stop.
            ledger.commit(committable(stopped, 0, 2, 1, 0, 0, Map.of("full-0", "[[\"long\",6]]"), Set.of("full-0")));
            ledger.commit(committable(resumed, 1, 3, 4, 0, 0, Map.of("full-1", "[[\"long\",9]]"), Set.of("full-1")));
            assertEquals(RunStatus.SUCCEEDED, ledger.run(resumed).status());
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void purgeForgetsTheDetailOfOldRunsButKeepsTheirHistoryAndTheNewestRun(String db) {
        try (Ledger ledger = store(db, "l_purge").open()) {
            String old = ledger.startRun("c", "FULL", null, "first");
            ledger.planned(old, null, splits("full-0"));
            ledger.commit(committable(old, 0, 1, 3, 1, 1, Map.of("full-0", "[[\"long\",5]]"), Set.of("full-0")));
            String newest = ledger.startRun("c", "FULL", null, "second");
            ledger.planned(newest, null, splits("full-0"));
            ledger.commit(committable(newest, 0, 1, 3, 1, 1, Map.of("full-0", "[[\"long\",5]]"), Set.of()));
            ledger.markStopped(newest, null, "stopped");
            assertTrue(ledger.purge("c", java.time.Instant.now().plusSeconds(60)) > 0);
            assertTrue(ledger.rowErrors(old, 10).isEmpty());
            assertTrue(ledger.splitProgress(old).isEmpty());
            assertEquals(2, ledger.rowErrors(newest, 10).size(), "the newest run may still be resumed and inspected");
            assertEquals(1, ledger.splitProgress(newest).size());
            assertEquals(5, ledger.run(old).read(), "counts stay in the history");
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void theLastSplitsFinishingAtTheSameMomentStillCompleteTheRun(String db) throws Exception {
        LedgerStore store = store(db, "l_skew");
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            for (int round = 0; round < 10; round++) {
                String run;
                try (Ledger ledger = store.open()) {
                    run = ledger.startRun("skew-" + round, "FULL", null, "race");
                    ledger.planned(run, null, splits("full-0", "full-1", "full-2"));
                }
                // Each subtask's last committable only says its split ended: nothing to count.
                List<Future<?>> ends = new ArrayList<>();
                for (int subtask = 0; subtask < 3; subtask++) {
                    int s = subtask;
                    ends.add(pool.submit(() -> {
                        try (Ledger ledger = store.open()) {
                            ledger.commit(new DeliveryCommittable(run, s, 9, 0, 0, 0, 0, Map.of(), Set.of("full-" + s), List.of()));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : ends) {
                    f.get();
                }
                try (Ledger ledger = store.open()) {
                    assertEquals(RunStatus.SUCCEEDED, ledger.run(run).status(), "round " + round);
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    /** A mark row of key {@code k<n>} resolved as id {@code v}: a UUID whose last digits are {@code v}. */
    private static io.backflow.model.MarkRow row(int key, int version) {
        return io.backflow.model.MarkRow.of("k" + key, String.format("00000000-0000-4000-8000-%012d", version));
    }

    private static List<String> rowsAtMark(Ledger ledger, String mark) {
        io.backflow.mapping.RowVersions latest = new io.backflow.mapping.RowVersions();
        List<String> out = new ArrayList<>();
        ledger.forEachRowAtMark("orders", mark, latest::put);
        for (int key = 0; key < 20; key++) {
            for (int version = 0; version < 20; version++) {
                if (latest.contains(row(key, version))) {
                    out.add("k" + key + "=v" + version);
                }
            }
        }
        assertEquals(out.size(), latest.size());
        return out;
    }

    private static DeliveryCommittable marked(String run, long checkpoint, Set<String> finished, io.backflow.model.MarkRow... rows) {
        io.backflow.model.MarkRows.Builder b = new io.backflow.model.MarkRows.Builder();
        for (io.backflow.model.MarkRow r : rows) {
            b.add(r);
        }
        return new DeliveryCommittable(run, 0, checkpoint, rows.length, rows.length, 0, 0, Map.of(), finished, List.of(), b.drain());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void theRowsResolvedAtTheHighWaterMarkBecomeTheConnectionsMarkRowsWhenTheRunCompletes(String db) {
        String t1 = "[[\"timestamp\",\"2024-01-01T00:00\"]]";
        String t2 = "[[\"timestamp\",\"2024-01-02T00:00\"]]";
        try (Ledger ledger = store(db, "l_marks").open()) {
            String full = ledger.startRun("orders", "FULL", null, "first");
            ledger.planned(full, t1, splits("s0"));
            ledger.commit(marked(full, 1, Set.of(), row(1, 1), row(2, 2)));
            assertEquals(List.of(), rowsAtMark(ledger, t1), "nothing moves before the run completes");
            // A re-read row's newer version replaces the older one.
            ledger.commit(marked(full, 2, Set.of("s0"), row(2, 12)));
            assertEquals(RunStatus.SUCCEEDED, ledger.run(full).status());
            assertEquals(List.of("k1=v1", "k2=v12"), rowsAtMark(ledger, t1));

            // Same mark again (nothing newer): the run's rows are added to the mark's.
            String same = ledger.startRun("orders", "INCREMENTAL", t1, "more at the mark");
            ledger.planned(same, t1, splits("s0"));
            ledger.commit(marked(same, 1, Set.of("s0"), row(3, 3), row(1, 11)));
            assertEquals(List.of("k1=v11", "k2=v12", "k3=v3"), rowsAtMark(ledger, t1));

            // A stopped run leaves the mark alone; the run resuming it completes with both runs' rows.
            String stopped = ledger.startRun("orders", "INCREMENTAL", t1, "newer rows");
            ledger.planned(stopped, t2, splits("s0"));
            ledger.commit(marked(stopped, 1, Set.of(), row(9, 9)));
            ledger.markStopped(stopped, null, "stopped");
            assertEquals(List.of(), rowsAtMark(ledger, t2));
            String resumed = ledger.startRun("orders", "INCREMENTAL", t1, "resumes", stopped, null);
            ledger.copyPlan(stopped, resumed);
            ledger.commit(marked(resumed, 2, Set.of("s0"), row(10, 10), row(9, 19)));
            assertEquals(RunStatus.SUCCEEDED, ledger.run(resumed).status());
            assertEquals(List.of("k9=v19", "k10=v10"), rowsAtMark(ledger, t2));
            assertEquals(List.of(), rowsAtMark(ledger, t1), "the old mark's rows are gone");

            ledger.resetPosition("orders");
            assertEquals(List.of(), rowsAtMark(ledger, t2));
        }
    }

    /**
     * Row errors a writer staged (beyond what a committable carries) reach the error table and the
     * refused rows at the commit, once, and leave the stage; a committable whose stage lacks rows
     * is not applied at all. What a checkpoint that never completed staged goes with the run.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void stagedRowErrorsAreMovedAtTheCommitOnceAndNeverLost(String db) throws Exception {
        LedgerStore store = store(db, "l_staged");
        try (Ledger ledger = store.open(); io.backflow.sink.RowErrorStage stage = LedgerCommitter.factory(store).errorStage()) {
            String run = ledger.startRun("c", "INCREMENTAL", "[[\"long\",0]]", "first");
            ledger.planned(run, "[[\"long\",30000]]", splits("incremental-0"));
            List<RowError> chunk = new ArrayList<>();
            for (int i = 0; i < 25_000; i++) {
                chunk.add(i % 5 == 0
                        ? new RowError(RowError.Kind.FAILED, "{\"id\":" + i + "}", "m" + i, "HTTP 422", "[[\"long\"," + i + "]]")
                        : new RowError(RowError.Kind.INVALID, "{\"id\":" + i + "}", null, "user_id is null", "[[\"long\"," + i + "]]"));
            }
            // Key 5 failed twice in this committable (say its retry and its new version): one attempt.
            chunk.set(24_999, new RowError(RowError.Kind.FAILED, "{\"id\":5}", "m5b", "HTTP 422 again", "[[\"long\",5]]"));
            stage.write(run, "w1/0", 0, chunk.subList(0, 10_000));
            stage.write(run, "w1/0", 10_000, chunk.subList(10_000, 25_000));
            // A checkpoint that never completed staged these; its rows were read again.
            stage.write(run, "w0/3", 0, chunk.subList(0, 100));

            // Counts 2 more rows than the stage holds: refused whole, nothing applied.
            DeliveryCommittable short_ = new DeliveryCommittable(run, 0, 1, 25_002, 0, 5_002, 20_000, Map.of(), Set.of(), List.of(),
                    io.backflow.model.MarkRows.EMPTY, "w1/0", 25_002);
            assertThrows(LedgerException.class, () -> ledger.commit(short_));
            assertEquals(0, ledger.run(run).read());

            List<RowError> inline = List.of(new RowError(RowError.Kind.INVALID, "{\"id\":29999}", null, "user_id is null", "[[\"long\",29999]]"));
            DeliveryCommittable c = new DeliveryCommittable(run, 0, 2, 30_000, 4_999, 5_001, 20_000, Map.of("incremental-0", "[[\"long\",30000]]"),
                    Set.of("incremental-0"), inline, io.backflow.model.MarkRows.EMPTY, "w1/0", 25_000);
            assertTrue(ledger.commit(c));
            assertFalse(ledger.commit(c));
            SyncRun done = ledger.run(run);
            assertEquals(RunStatus.PARTIAL, done.status());
            assertEquals(30_000, done.read());
            assertEquals(25_001, ledger.rowErrors(run, 100_000).size());
            assertEquals(5_000, ledger.failedRowCount("c"));
            assertEquals("[[\"long\",0]]", ledger.failedKeys("c", 1).get(0));
            assertEquals(0, count(store, "SELECT COUNT(*) FROM l_staged.staged_row_errors"), "the stage is empty once the run completed");
            assertEquals(5_000, count(store, "SELECT SUM(attempts) FROM l_staged.failed_rows"), "each key once per committable");
        }
    }

    private static long count(LedgerStore store, String sql) throws java.sql.SQLException {
        try (java.sql.Connection conn = store.endpoint().open(); java.sql.Statement st = conn.createStatement();
                java.sql.ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * A stopped run resumed after its retention has passed keeps its commit ids and staged row
     * errors while the run resuming it runs: its savepoint's progress is committed once the job
     * starts, and it must be applied once, with all its row errors.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void purgeKeepsTheDetailOfTheRunBeingResumed(String db) throws Exception {
        LedgerStore store = store(db, "l_purge_resumed");
        try (Ledger ledger = store.open(); io.backflow.sink.RowErrorStage stage = LedgerCommitter.factory(store).errorStage()) {
            String stopped = ledger.startRun("c", "FULL", null, "first");
            ledger.planned(stopped, null, splits("full-0"));
            ledger.commit(committable(stopped, 0, 1, 5, 0, 0, Map.of("full-0", "[[\"long\",5]]"), Set.of()));
            List<RowError> invalid = new ArrayList<>();
            for (int i = 0; i < 2_000; i++) {
                invalid.add(new RowError(RowError.Kind.INVALID, "{\"id\":" + (10 + i) + "}", null, "user_id is null", null));
            }
            stage.write(stopped, "w/2", 0, invalid);
            ledger.markStopped(stopped, "file:/tmp/sp", "stopped");
            String resumed = ledger.startRun("c", "FULL", null, "resumes", stopped, null);
            ledger.copyPlan(stopped, resumed);

            ledger.purge("c", java.time.Instant.now().plusSeconds(3600));
            // The savepoint's committable of the stopped run arrives now: applied once, in full.
            DeliveryCommittable late = new DeliveryCommittable(stopped, 0, 2, 2_000, 0, 0, 2_000, Map.of("full-0", "[[\"long\",2010]]"),
                    Set.of(), List.of(), io.backflow.model.MarkRows.EMPTY, "w/2", 2_000);
            assertTrue(ledger.commit(late));
            assertFalse(ledger.commit(committable(stopped, 0, 1, 5, 0, 0, Map.of("full-0", "[[\"long\",5]]"), Set.of())),
                    "the stopped run's earlier commit is still known");
            assertEquals(2_005, ledger.run(stopped).read());
            assertEquals(2_000, ledger.rowErrors(stopped, 10_000).size());
        }
    }
}
