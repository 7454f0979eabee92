package io.backflow.source.enumerator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.source.SyncType;
import io.backflow.source.WarehouseSource;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.split.WarehouseSplit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.connector.testutils.source.reader.TestingSplitEnumeratorContext;
import org.junit.jupiter.api.Test;

/** Planning once, one split per request, no-more-splits, splits coming back, restore without re-planning. */
class WarehouseSplitEnumeratorTest {
    static final List<String> PLANS = new ArrayList<>();

    static WarehouseSplit split(String id) {
        return new WarehouseSplit(id, SyncType.FULL, null, null, "[[\"long\",9]]", null, -1, false);
    }

    static WarehouseSourceSettings settings() {
        PLANS.clear();
        return WarehouseSource.builder()
                .endpoint(new JdbcEndpoint("jdbc:duckdb:", null, null))
                .table("t").primaryKey(List.of("id")).runId("run-7")
                .planListener((run, hwm, splits) -> PLANS.add(run + " " + hwm + " " + splits.stream().map(WarehouseSplit::splitId).toList()))
                .build().settings();
    }

    @Test
    void rowsAreCountedAfterTheSplitsAreHandedOutAndTheCountsReachTheReadersAndTheWaitingSplits() {
        TestingSplitEnumeratorContext<WarehouseSplit> context = new TestingSplitEnumeratorContext<>(2);
        context.registerReader(0, "h");
        context.registerReader(1, "h");
        Callable<SyncPlan> planner = () -> new SyncPlan("[[\"long\",9]]", List.of(split("full-0"), split("full-1")), 0);
        List<String> counted = new ArrayList<>();
        List<Boolean> handedOutFirst = new ArrayList<>();
        SplitCounter counter = splits -> {
            handedOutFirst.add(context.getSplitAssignments().containsKey(0));
            splits.forEach(s -> counted.add(s.splitId()));
            return java.util.Map.of("full-0", 600L, "full-1", 400L);
        };
        WarehouseSplitEnumerator enumerator = new WarehouseSplitEnumerator(context, settings(), planner, next -> null, counter,
                WarehouseEnumeratorState.unplanned());
        enumerator.start();
        enumerator.handleSplitRequest(0, "h");
        context.triggerAllActions();
        // The waiting reader got its split before any row was counted.
        assertEquals(List.of(true), handedOutFirst);
        assertEquals(List.of(split("full-0")), context.getSplitAssignments().get(0).getAssignedSplits());
        assertEquals(List.of("full-0", "full-1"), counted);
        for (int reader : List.of(0, 1)) {
            assertEquals(java.util.Map.of("full-0", 600L, "full-1", 400L),
                    ((SplitRowCounts) context.getSentEvents().get(reader).get(0)).rowsBySplit());
        }
        // The split still waiting carries its count to the reader that takes it.
        enumerator.handleSplitRequest(1, "h");
        assertEquals(400, context.getSplitAssignments().get(1).getAssignedSplits().get(0).estimatedRemaining());
    }

    @Test
    void plansOnceAndHandsOutOneSplitPerRequest() {
        TestingSplitEnumeratorContext<WarehouseSplit> context = new TestingSplitEnumeratorContext<>(2);
        context.registerReader(0, "h");
        context.registerReader(1, "h");
        AtomicInteger plans = new AtomicInteger();
        Callable<SyncPlan> planner = () -> {
            plans.incrementAndGet();
            return new SyncPlan("[[\"long\",9]]", List.of(split("full-0"), split("full-1"), split("full-2")), 0);
        };
        WarehouseSplitEnumerator enumerator = new WarehouseSplitEnumerator(context, settings(), planner, WarehouseEnumeratorState.unplanned());
        enumerator.start();

        // A request before planning finishes waits for the plan.
        enumerator.handleSplitRequest(0, "h");
        assertTrue(context.getSplitAssignments().isEmpty());
        assertFalse(enumerator.snapshotState(1).planned());
        context.triggerAllActions();
        assertEquals(1, plans.get());
        assertEquals(List.of("run-7 [[\"long\",9]] [full-0, full-1, full-2]"), PLANS);
        assertEquals(List.of(split("full-0")), context.getSplitAssignments().get(0).getAssignedSplits());

        enumerator.handleSplitRequest(1, "h");
        enumerator.handleSplitRequest(0, "h");
        assertEquals(List.of(split("full-1")), context.getSplitAssignments().get(1).getAssignedSplits());
        assertEquals(List.of(split("full-0"), split("full-2")), context.getSplitAssignments().get(0).getAssignedSplits());

        // Reader 1 failed: its split goes to the next reader asking.
        enumerator.addSplitsBack(List.of(split("full-1")), 1);
        WarehouseEnumeratorState state = enumerator.snapshotState(2);
        assertTrue(state.planned());
        assertEquals(List.of(split("full-1")), state.unassigned());
        enumerator.handleSplitRequest(0, "h");
        assertEquals(3, context.getSplitAssignments().get(0).getAssignedSplits().size());

        enumerator.handleSplitRequest(1, "h");
        assertTrue(context.getSplitAssignments().get(1).hasReceivedNoMoreSplitsSignal());
        assertFalse(context.getSplitAssignments().get(0).hasReceivedNoMoreSplitsSignal());
        assertEquals(1, plans.get());
        assertEquals(1, PLANS.size());
    }

    @Test
    void restoredEnumeratorNeitherPlansNorAnnouncesAgain() {
        TestingSplitEnumeratorContext<WarehouseSplit> context = new TestingSplitEnumeratorContext<>(1);
        context.registerReader(0, "h");
        WarehouseEnumeratorState restored = new WarehouseEnumeratorState(true, "[[\"long\",9]]", List.of(split("full-2")));
        Callable<SyncPlan> planner = () -> {
            throw new AssertionError("must not plan again");
        };
        WarehouseSplitEnumerator enumerator = new WarehouseSplitEnumerator(context, settings(), planner, restored);
        enumerator.start();
        context.triggerAllActions();
        enumerator.handleSplitRequest(0, "h");
        enumerator.handleSplitRequest(0, "h");
        // A state of version 1 names no run: its splits are the job's run's.
        assertEquals(List.of(split("full-2").withRunId("run-7")), context.getSplitAssignments().get(0).getAssignedSplits());
        assertTrue(context.getSplitAssignments().get(0).hasReceivedNoMoreSplitsSignal());
        assertTrue(PLANS.isEmpty());
    }

    @Test
    void resumedRunAnnouncesEverySplitOnceAndHandsOutOnlyUnfinishedOnes() throws Exception {
        String hwm = "[[\"long\",9]]";
        WarehouseSplit done = split("full-0").withProgress("[[\"long\",3]]", -1, true);
        WarehouseSplit middle = split("full-1").withProgress("[[\"long\",5]]", -1, false);
        WarehouseSplit nullKeys = WarehouseSplit.nullKeys(SyncType.FULL, hwm, null, -1).withProgress(WarehouseSplit.rowsEmittedPosition(2), -1, false);
        // The ledger's descriptors may name the run that planned them; the resuming run reads them as its own.
        WarehouseSplit doneBefore = done.withRunId("run-3");
        List<String> announced = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<List<WarehouseSplit>> announcedSplits = new java.util.concurrent.CopyOnWriteArrayList<>();
        WarehouseSource source = WarehouseSource.builder()
                .endpoint(new JdbcEndpoint("jdbc:duckdb:", null, null))
                .table("t").primaryKey(List.of("id")).runId("run-8")
                .resumeSplits(hwm, List.of(doneBefore, middle, nullKeys))
                .planListener((run, h, splits) -> {
                    announced.add(run + " " + h);
                    announcedSplits.add(splits);
                })
                .build();
        done = done.withRunId("run-8");
        middle = middle.withRunId("run-8");
        nullKeys = nullKeys.withRunId("run-8");
        assertEquals(List.of(done, middle, nullKeys), source.plan().splits());

        TestingSplitEnumeratorContext<WarehouseSplit> context = new TestingSplitEnumeratorContext<>(2);
        context.registerReader(0, "h");
        context.registerReader(1, "h");
        var enumerator = source.createEnumerator(context);
        enumerator.start();
        context.triggerAllActions();
        assertEquals(List.of("run-8 " + hwm), announced);
        assertEquals(List.of(List.of(done, middle, nullKeys)), announcedSplits);

        enumerator.handleSplitRequest(0, "h");
        enumerator.handleSplitRequest(1, "h");
        enumerator.handleSplitRequest(0, "h");
        assertEquals(List.of(middle), context.getSplitAssignments().get(0).getAssignedSplits());
        assertEquals(List.of(nullKeys), context.getSplitAssignments().get(1).getAssignedSplits());
        assertTrue(context.getSplitAssignments().get(0).hasReceivedNoMoreSplitsSignal());

        // Restored from a checkpoint of the resumed run: no second announcement.
        WarehouseEnumeratorState state = enumerator.snapshotState(1);
        assertTrue(state.planned());
        TestingSplitEnumeratorContext<WarehouseSplit> again = new TestingSplitEnumeratorContext<>(1);
        again.registerReader(0, "h");
        var restored = source.restoreEnumerator(again, new WarehouseEnumeratorState(true, hwm, List.of(nullKeys)));
        restored.start();
        again.triggerAllActions();
        restored.handleSplitRequest(0, "h");
        assertEquals(List.of(nullKeys), again.getSplitAssignments().get(0).getAssignedSplits());
        assertEquals(1, announced.size());
    }

    @Test
    void emptyPlanIsAnnouncedAndEveryReaderIsToldThereIsNothing() {
        TestingSplitEnumeratorContext<WarehouseSplit> context = new TestingSplitEnumeratorContext<>(2);
        context.registerReader(0, "h");
        context.registerReader(1, "h");
        WarehouseSplitEnumerator enumerator = new WarehouseSplitEnumerator(context, settings(), () -> new SyncPlan(null, List.of(), -1),
                WarehouseEnumeratorState.unplanned());
        enumerator.start();
        enumerator.handleSplitRequest(0, "h");
        enumerator.handleSplitRequest(1, "h");
        context.triggerAllActions();
        assertEquals(List.of("run-7 null []"), PLANS);
        assertTrue(context.getSplitAssignments().get(0).hasReceivedNoMoreSplitsSignal());
        assertTrue(context.getSplitAssignments().get(1).hasReceivedNoMoreSplitsSignal());
        assertNull(enumerator.snapshotState(3).highWaterMark());
    }

    @Test
    void planningFailureFailsTheEnumeratorWithTheCause() {
        TestingSplitEnumeratorContext<WarehouseSplit> context = new TestingSplitEnumeratorContext<>(1);
        WarehouseSplitEnumerator enumerator = new WarehouseSplitEnumerator(context, settings(), () -> {
            throw new java.sql.SQLException("relation \"t\" does not exist");
        }, WarehouseEnumeratorState.unplanned());
        enumerator.start();
        RuntimeException e = assertThrows(RuntimeException.class, context::triggerAllActions);
        Throwable t = e;
        boolean found = false;
        while (t != null) {
            found |= String.valueOf(t.getMessage()).contains("relation \"t\" does not exist");
            t = t.getCause();
        }
        assertTrue(found, "the cause is in the failure");
    }

    @Test
    void rangesAreContiguousNonEmptyAndOpenAtBothEnds() {
        WarehouseSplit whole = split("full-0");
        List<WarehouseSplit> four = SyncPlanner.ranges(0, 399, 4, whole);
        assertEquals(4, four.size());
        assertNull(four.get(0).rangeStart());
        assertEquals(100L, four.get(0).rangeEnd());
        assertEquals(100L, four.get(1).rangeStart());
        assertEquals(300L, four.get(3).rangeStart());
        assertNull(four.get(3).rangeEnd());
        assertEquals("full-3", four.get(3).splitId());

        assertEquals(2, SyncPlanner.ranges(5, 6, 8, whole).size());
        List<WarehouseSplit> extreme = SyncPlanner.ranges(Long.MIN_VALUE, Long.MAX_VALUE, 3, whole);
        assertEquals(3, extreme.size());
        assertTrue(extreme.get(0).rangeEnd() < extreme.get(1).rangeEnd());
        assertEquals(1, SyncPlanner.ranges(7, 7, 3, whole).size());
    }
}
