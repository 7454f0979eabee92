package io.backflow.source.enumerator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.source.RunSequence;
import io.backflow.source.SyncType;
import io.backflow.source.WarehouseSource;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.split.WarehouseSplit;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.flink.connector.testutils.source.reader.TestingSplitEnumeratorContext;
import org.junit.jupiter.api.Test;

/**
 * A continuous job's enumerator: readers wait instead of being told there is no more work; the
 * next run is recorded and planned only once the previous one completed; a failover goes on with
 * its run, and a new job from a savepoint takes over the run it resumes or plans its own.
 */
class ContinuousEnumeratorTest {
    static final String HWM = "[[\"long\",9]]";

    /** A ledger in memory: run states, and the runs it recorded after each. */
    static final class FakeRuns implements RunSequence {
        private static final long serialVersionUID = 1L;
        final Map<String, State> states = new ConcurrentHashMap<>();
        final List<String> started = new CopyOnWriteArrayList<>();
        volatile int progressAsked;

        @Override
        public Progress progress(String runId) {
            progressAsked++;
            State s = states.getOrDefault(runId, State.RUNNING);
            // Run n succeeded at n seconds after the epoch.
            return new Progress(s, s == State.COMPLETED ? 1_000L * Long.parseLong(runId.substring("run-".length())) : -1, s.name());
        }

        @Override
        public NextRun startAfter(String previousRunId) {
            String id = "run-" + (started.size() + 2);
            started.add(previousRunId + "->" + id);
            return new NextRun(id, SyncType.INCREMENTAL, HWM, List.of());
        }

        @Override
        public void close() {}
    }

    static WarehouseSourceSettings settings(FakeRuns runs, String runId, String resumes) {
        return WarehouseSource.builder()
                .endpoint(new JdbcEndpoint("jdbc:duckdb:", null, null))
                .table("t").primaryKey(List.of("id")).cursorColumn("c").syncType(SyncType.INCREMENTAL).runId(runId).resumes(resumes)
                .continuous(Duration.ofMillis(1), runs)
                .build().settings();
    }

    static WarehouseSplit split(String runId) {
        return new WarehouseSplit("incremental-0", SyncType.INCREMENTAL, null, null, HWM, null, -1, false).withRunId(runId);
    }

    /** Plans a next run as the planner would, from the settings it is given. */
    static SyncPlan planOf(WarehouseSourceSettings s) {
        return new SyncPlan(HWM, List.of(split(s.runId())), 0);
    }

    /** Runs the enumerator's periodic poll and the ledger calls it starts. */
    static void poll(TestingSplitEnumeratorContext<WarehouseSplit> context) throws Exception {
        for (int i = 0; i < 3; i++) {
            context.getExecutorService().triggerPeriodicScheduledTasks();
            context.triggerAllActions();
        }
    }

    /** Polls until {@code done}, for at most 10 s: the interval between runs runs on the real clock. */
    static void pollUntil(TestingSplitEnumeratorContext<WarehouseSplit> context, java.util.function.BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        do {
            poll(context);
        } while (!done.getAsBoolean() && System.nanoTime() < deadline);
    }

    @Test
    void readersWaitAndEachRunStartsOnlyAfterThePreviousCompleted() throws Exception {
        FakeRuns runs = new FakeRuns();
        TestingSplitEnumeratorContext<WarehouseSplit> context = new TestingSplitEnumeratorContext<>(1);
        context.registerReader(0, "h");
        WarehouseSplitEnumerator enumerator = new WarehouseSplitEnumerator(context, settings(runs, "run-1", null),
                () -> new SyncPlan(HWM, List.of(split("run-1")), 0), ContinuousEnumeratorTest::planOf, WarehouseEnumeratorState.unplanned());
        enumerator.start();
        poll(context);
        enumerator.handleSplitRequest(0, "h");
        enumerator.handleSplitRequest(0, "h");
        assertEquals(List.of(split("run-1")), context.getSplitAssignments().get(0).getAssignedSplits());
        assertFalse(context.getSplitAssignments().get(0).hasReceivedNoMoreSplitsSignal());

        // Run 1 is still being acknowledged: no run 2, however often the enumerator asks.
        pollUntil(context, () -> runs.progressAsked >= 2);
        assertTrue(runs.started.isEmpty());

        // Once it completed, run 2 starts at a poll after the interval (1 ms on the real clock).
        runs.states.put("run-1", RunSequence.State.COMPLETED);
        pollUntil(context, () -> !runs.started.isEmpty());
        assertEquals(List.of("run-1->run-2"), runs.started);
        // The waiting reader got run 2's split.
        assertEquals(List.of(split("run-1"), split("run-2")), context.getSplitAssignments().get(0).getAssignedSplits());
        WarehouseEnumeratorState state = enumerator.snapshotState(3);
        assertEquals("run-2", state.runId());
        assertEquals("run-1", state.jobRunId());

        // A failover of the same job goes on with run 2 and does not plan run 1 again.
        TestingSplitEnumeratorContext<WarehouseSplit> again = new TestingSplitEnumeratorContext<>(1);
        again.registerReader(0, "h");
        WarehouseSplitEnumerator restored = new WarehouseSplitEnumerator(again, settings(runs, "run-1", null),
                () -> {
                    throw new AssertionError("must not plan run 1 again");
                }, ContinuousEnumeratorTest::planOf,
                new WarehouseEnumeratorState(true, HWM, List.of(split("run-2")), "run-2", "run-1"));
        restored.start();
        restored.handleSplitRequest(0, "h");
        assertEquals(List.of(split("run-2")), again.getSplitAssignments().get(0).getAssignedSplits());
        assertEquals("run-2", restored.snapshotState(4).runId());
    }

    @Test
    void aNewJobTakesOverTheRunItResumesOrPlansItsOwn() throws Exception {
        FakeRuns runs = new FakeRuns();
        // Restored from the savepoint of run 2 (of a job started for run 1), resumed by run 7: run 7 reads its splits.
        TestingSplitEnumeratorContext<WarehouseSplit> context = new TestingSplitEnumeratorContext<>(1);
        context.registerReader(0, "h");
        WarehouseSplitEnumerator enumerator = new WarehouseSplitEnumerator(context, settings(runs, "run-7", "run-2"),
                () -> {
                    throw new AssertionError("a resumed run does not plan");
                }, ContinuousEnumeratorTest::planOf,
                new WarehouseEnumeratorState(true, HWM, List.of(split("run-2")), "run-2", "run-1"));
        enumerator.start();
        enumerator.handleSplitRequest(0, "h");
        assertEquals(List.of(split("run-7")), context.getSplitAssignments().get(0).getAssignedSplits());
        assertEquals("run-7", enumerator.snapshotState(1).runId());

        // Restored from a savepoint taken between runs (run 2 had completed): run 8 is planned afresh.
        TestingSplitEnumeratorContext<WarehouseSplit> between = new TestingSplitEnumeratorContext<>(1);
        between.registerReader(0, "h");
        WarehouseSplitEnumerator fresh = new WarehouseSplitEnumerator(between, settings(runs, "run-8", null),
                () -> new SyncPlan(HWM, List.of(split("run-8")), 0), ContinuousEnumeratorTest::planOf,
                new WarehouseEnumeratorState(true, HWM, List.of(), "run-2", "run-1"));
        fresh.start();
        fresh.handleSplitRequest(0, "h");
        poll(between);
        assertEquals(List.of(split("run-8")), between.getSplitAssignments().get(0).getAssignedSplits());
    }

    /** The coordinator's metric group, readable: Flink's testing context hands out a new, unregistered one per call. */
    static final class ListenedGroup extends org.apache.flink.runtime.metrics.groups.ProxyMetricGroup<org.apache.flink.metrics.MetricGroup>
            implements org.apache.flink.metrics.groups.SplitEnumeratorMetricGroup {
        ListenedGroup(org.apache.flink.metrics.MetricGroup parent) {
            super(parent);
        }

        @Override
        public <G extends org.apache.flink.metrics.Gauge<Long>> G setUnassignedSplitsGauge(G gauge) {
            return gauge;
        }
    }

    /** The lastSuccessfulSyncTime gauge of a continuous job follows each run that succeeds, not only the one before the job. */
    @Test
    void lastSuccessfulSyncTimeMovesWithEveryRun() throws Exception {
        FakeRuns runs = new FakeRuns();
        org.apache.flink.metrics.testutils.MetricListener listener = new org.apache.flink.metrics.testutils.MetricListener();
        ListenedGroup group = new ListenedGroup(listener.getMetricGroup());
        TestingSplitEnumeratorContext<WarehouseSplit> context = new TestingSplitEnumeratorContext<>(1) {
            @Override
            public org.apache.flink.metrics.groups.SplitEnumeratorMetricGroup metricGroup() {
                return group;
            }
        };
        context.registerReader(0, "h");
        WarehouseSplitEnumerator enumerator = new WarehouseSplitEnumerator(context, settings(runs, "run-1", null),
                () -> new SyncPlan(HWM, List.of(split("run-1")), 0), ContinuousEnumeratorTest::planOf, WarehouseEnumeratorState.unplanned());
        enumerator.start();
        poll(context);
        enumerator.handleSplitRequest(0, "h");
        java.util.function.LongSupplier gauge = () -> listener.<Long>getGauge("backflow", "lastSuccessfulSyncTime").orElseThrow().getValue();
        assertEquals(-1, gauge.getAsLong(), "no sync of this connection has succeeded yet");

        runs.states.put("run-1", RunSequence.State.COMPLETED);
        pollUntil(context, () -> runs.started.size() == 1);
        assertEquals(1_000, gauge.getAsLong());

        enumerator.handleSplitRequest(0, "h");
        runs.states.put("run-2", RunSequence.State.COMPLETED);
        pollUntil(context, () -> runs.started.size() == 2);
        assertEquals(List.of("run-1->run-2", "run-2->run-3"), runs.started);
        assertEquals(2_000, gauge.getAsLong());
    }
}
