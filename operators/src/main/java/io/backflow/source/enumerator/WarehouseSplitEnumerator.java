package io.backflow.source.enumerator;

import io.backflow.source.RunSequence;
import io.backflow.source.SyncPlanListener;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.split.WarehouseSplit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.util.FlinkRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans the run once (off the coordinator thread), announces the plan to the
 * {@link SyncPlanListener}, then hands one unfinished split at a time to readers that ask for one
 * and tells a reader there is no more work once every split is out. Splits of a failed reader come
 * back and go to the next reader that asks. A run resumed from explicit splits is "planned" from
 * those splits, and announced the same way, once.
 *
 * <p>In a continuous job ({@link WarehouseSourceSettings#continuous()}) readers are never told
 * there is no more work: they wait. Once every split of the current run is out, the enumerator
 * asks the {@link RunSequence} (the ledger) whether that run completed, and when it has and the
 * interval since the previous start has passed, has the next run recorded, plans it, announces it
 * like the first and hands its splits out. A run is never planned while the previous one still
 * has a row unacknowledged, so two runs never overlap.
 */
public final class WarehouseSplitEnumerator implements SplitEnumerator<WarehouseSplit, WarehouseEnumeratorState> {
    private static final Logger LOG = LoggerFactory.getLogger(WarehouseSplitEnumerator.class);
    /** How often a continuous job asks the ledger about its run, at most. */
    static final long MAX_POLL_MS = 1_000;

    /** Plans a continuous job's next run from its settings; {@link SyncPlanner} in a job. */
    @FunctionalInterface
    public interface RunPlanner {
        SyncPlan plan(WarehouseSourceSettings settings) throws Exception;
    }

    private final SplitEnumeratorContext<WarehouseSplit> context;
    private final WarehouseSourceSettings settings;
    private final Callable<SyncPlan> planner;
    private final RunPlanner nextPlanner;
    /** Counts each new plan's rows after its splits are handed out, or null (counted while planning, or not at all). */
    private final SplitCounter counter;
    /** This enumerator's own run sequence (continuous jobs), or null. */
    private final RunSequence runs;
    private final Deque<WarehouseSplit> unassigned = new ArrayDeque<>();
    private final Set<Integer> waitingReaders = new LinkedHashSet<>();
    private boolean planned;
    private String highWaterMark;
    /** The run whose splits are handed out now. */
    private String currentRun;
    private EnumeratorMetrics metrics = EnumeratorMetrics.of(null);
    /** A continuous job's ledger call is under way: no second one. */
    private boolean stepping;
    private long nextRunAtNanos;
    private String reportedEnded;
    private long warnedNullCursors = -1;
    private long warnedFutureCursors = -1;

    public WarehouseSplitEnumerator(
            SplitEnumeratorContext<WarehouseSplit> context,
            WarehouseSourceSettings settings,
            Callable<SyncPlan> planner,
            WarehouseEnumeratorState restored) {
        this(context, settings, planner, s -> new SyncPlanner(s).plan(), null, restored);
    }

    public WarehouseSplitEnumerator(
            SplitEnumeratorContext<WarehouseSplit> context,
            WarehouseSourceSettings settings,
            Callable<SyncPlan> planner,
            RunPlanner nextPlanner,
            WarehouseEnumeratorState restored) {
        this(context, settings, planner, nextPlanner, null, restored);
    }

    public WarehouseSplitEnumerator(
            SplitEnumeratorContext<WarehouseSplit> context,
            WarehouseSourceSettings settings,
            Callable<SyncPlan> planner,
            RunPlanner nextPlanner,
            SplitCounter counter,
            WarehouseEnumeratorState restored) {
        this.context = context;
        this.settings = settings;
        this.planner = planner;
        this.nextPlanner = nextPlanner;
        this.counter = counter;
        this.runs = settings.runSequence() == null ? null : settings.runSequence().copy();
        this.highWaterMark = restored.highWaterMark();
        boolean sameJob = restored.jobRunId() != null && restored.jobRunId().equals(settings.runId());
        String restoredRun = sameJob ? restored.runId() : settings.ownRun(restored.runId());
        if (restored.planned() && (sameJob || restoredRun.equals(settings.runId()))) {
            // A failover goes on with its run; a new job takes over the run it resumes.
            this.planned = true;
            this.currentRun = restoredRun;
            for (WarehouseSplit split : restored.unassigned()) {
                unassigned.add(sameJob ? split : split.withRunId(settings.ownRun(split.runId())));
            }
        } else {
            // Fresh, or a savepoint whose run had completed (a continuous job stopped between
            // runs): this job's own run is planned.
            this.planned = false;
            this.currentRun = settings.runId();
            if (restored.planned()) {
                LOG.info("Restored state belongs to run {}, which is over; run {} plans afresh", restored.runId(), settings.runId());
                this.highWaterMark = null;
            }
        }
        // After a restore the run may have completed already: the next one may start at once.
        this.nextRunAtNanos = System.nanoTime() + (restored.planned() ? 0 : everyNanos());
    }

    @Override
    public void start() {
        metrics = EnumeratorMetrics.of(context.metricGroup());
        metrics.highWaterMark = highWaterMark;
        metrics.lastSuccessfulSyncMillis = settings.lastSuccessfulSyncMillis();
        if (!planned) {
            // Planning queries can take a while on a big model: keep them off the coordinator thread.
            context.callAsync(this::planAndRecord, this::onPlanned);
        }
        if (settings.continuous()) {
            long pollMs = Math.max(50, Math.min(MAX_POLL_MS, settings.every().toMillis()));
            context.callAsync(() -> null, (ignored, error) -> step(), pollMs, pollMs);
        }
    }

    private long everyNanos() {
        return settings.continuous() ? settings.every().toNanos() : 0;
    }

    /** Plans and tells the listener (the ledger) off the coordinator thread: both do JDBC work. */
    private SyncPlan planAndRecord() throws Exception {
        return announce(settings.runId(), planner.call());
    }

    private SyncPlan announce(String runId, SyncPlan plan) {
        SyncPlanListener listener = settings.planListener();
        if (listener != null) {
            listener.planned(runId, plan.highWaterMark(), plan.splits());
        }
        return plan;
    }

    private void onPlanned(SyncPlan plan, Throwable error) {
        if (error != null) {
            throw new FlinkRuntimeException("Planning sync run " + settings.runId() + " of " + settings + " failed: " + error.getMessage(), error);
        }
        boolean resumed = settings.resumeSplits() != null;
        accept(settings.runId(), plan, resumed ? "Resuming" : "Planned", settings.retryKeys().size(), !resumed);
    }

    /** Makes {@code plan} of {@code runId} the current run and hands its splits to waiting readers. */
    private void accept(String runId, SyncPlan plan, String verb, int retryKeys, boolean countLater) {
        currentRun = runId;
        highWaterMark = plan.highWaterMark();
        metrics.highWaterMark = highWaterMark;
        metrics.plannedRows = plan.estimatedRows();
        metrics.rowsWithNullKey = plan.rowsWithNullKey();
        metrics.rowsWithNullCursor = plan.rowsWithNullCursor();
        int toRead = 0;
        for (WarehouseSplit split : plan.splits()) {
            // A resumed run lists its finished splits too, for the listener; they are not read again.
            if (!split.isFinished()) {
                unassigned.add(split);
                toRead++;
            }
        }
        planned = true;
        // A continuous job's quiet ticks (nothing new) would fill the log with one line a tick.
        boolean quietTick = settings.continuous() && metrics.plannedRows == 0 && !runId.equals(settings.runId());
        if (!quietTick || LOG.isDebugEnabled()) {
            String line = String.format("%s sync run %s (%s): %d split(s) to read, %s", verb, runId,
                    plan.splits().isEmpty() ? settings.syncType() : plan.splits().get(0).syncType(), toRead,
                    metrics.plannedRows >= 0 ? metrics.plannedRows + " row(s) estimated" : "rows not counted yet");
            if (quietTick) {
                LOG.debug("{}", line);
            } else {
                LOG.info("{}", line);
            }
        }
        if (metrics.rowsWithNullKey > 0) {
            LOG.warn("Sync run {}: {} row(s) have a NULL primary-key column ({}); split {} reads them so they are reported invalid",
                    runId, metrics.rowsWithNullKey, settings.primaryKey(), WarehouseSplit.NULL_KEYS_ID);
        }
        if (plan.rowsWithNullCursor() > 0 && plan.rowsWithNullCursor() != warnedNullCursors) {
            // Once per count: a continuous job plans a run every tick.
            warnedNullCursors = plan.rowsWithNullCursor();
            LOG.warn("Sync run {}: {} row(s) have a NULL cursor ({}); INCREMENTAL syncs cannot read them, a FULL sync (--full-resync) sends them",
                    runId, plan.rowsWithNullCursor(), settings.cursorColumn());
        }
        for (WarehouseSplit split : plan.splits()) {
            if (split.isRetryKeyScan() && !split.isFinished()) {
                LOG.info("Sync run {}: split {} retries {} key(s) the destination rejected before", runId, split.splitId(), retryKeys);
            }
        }
        List<Integer> waiting = new ArrayList<>(waitingReaders);
        waitingReaders.clear();
        for (int subtask : waiting) {
            serve(subtask);
        }
        if (countLater && counter != null && plan.estimatedRows() < 0) {
            // Reading has begun; the counts only feed the progress metrics.
            List<WarehouseSplit> splits = plan.splits();
            context.callAsync(() -> counter.count(splits), (counts, countError) -> onCounted(runId, splits, counts, countError));
        }
    }

    /** A run's row counts arrived: into its total, its splits still unassigned, and every reader. */
    private void onCounted(String runId, List<WarehouseSplit> splits, Map<String, Long> counts, Throwable error) {
        if (!runId.equals(currentRun)) {
            return;
        }
        if (error != null) {
            LOG.warn("Sync run {}: could not count the rows to read, so progress has no estimate: {}", runId, error.getMessage());
            return;
        }
        Long future = counts.get(SyncPlanner.FUTURE_CURSORS);
        if (future != null) {
            metrics.rowsWithFutureCursor = future;
            if (future > 0 && future != warnedFutureCursors) {
                warnedFutureCursors = future;
                LOG.warn("Sync run {}: {} row(s) have a cursor ({}) later than the database's clock; no sync reads them before the clock gets"
                        + " there, which for 'infinity' or a far-future date such as 9999-12-31 it never does", runId, future, settings.cursorColumn());
            }
        }
        long total = 0;
        for (WarehouseSplit split : splits) {
            Long counted = counts.get(split.splitId());
            long rows = counted != null ? counted : split.estimatedRemaining();
            if (rows < 0) {
                total = -1;
                break;
            }
            total += rows;
        }
        metrics.plannedRows = total;
        List<WarehouseSplit> waiting = new ArrayList<>(unassigned);
        unassigned.clear();
        for (WarehouseSplit split : waiting) {
            Long counted = counts.get(split.splitId());
            unassigned.add(counted == null ? split : split.withProgress(split.position(), counted, split.isFinished()));
        }
        for (int subtask : context.registeredReaders().keySet()) {
            context.sendEventToSourceReader(subtask, new SplitRowCounts(counts));
        }
        LOG.info("Sync run {}: {} row(s) to read", runId, total);
    }

    /** What one continuous step found: the current run's progress, and the next run if one was planned. */
    private record Step(String run, RunSequence.Progress progress, RunSequence.NextRun next, SyncPlan plan) {}

    /** Continuous jobs, on the coordinator thread at each poll: asks the ledger once every split is out. */
    private void step() {
        if (stepping || !planned || !unassigned.isEmpty()) {
            return;
        }
        stepping = true;
        String run = currentRun;
        boolean due = System.nanoTime() - nextRunAtNanos >= 0;
        context.callAsync(() -> nextStep(run, due), this::onStep);
    }

    /** Off the coordinator thread: the ledger's answer, and (when it is time) the next run, recorded and planned. */
    private Step nextStep(String run, boolean due) throws Exception {
        RunSequence.Progress progress = runs.progress(run);
        if (progress.state() != RunSequence.State.COMPLETED || !due) {
            return new Step(run, progress, null, null);
        }
        RunSequence.NextRun next = runs.startAfter(run);
        if (next == null) {
            return new Step(run, progress, null, null);
        }
        SyncPlan plan = nextPlanner.plan(settings.nextRun(next.runId(), next.type(), next.startMark(), next.retryKeys()));
        return new Step(run, progress, next, announce(next.runId(), plan));
    }

    private void onStep(Step step, Throwable error) {
        stepping = false;
        if (error != null) {
            // The ledger or the warehouse did not answer: the current run stands, the next poll asks again.
            LOG.warn("Continuous sync after run {}: {}; trying again", currentRun, error.getMessage());
            runs.close();
            return;
        }
        if (step.progress().succeededAtMillis() > 0) {
            metrics.lastSuccessfulSyncMillis = step.progress().succeededAtMillis();
        }
        if (step.progress().state() == RunSequence.State.ENDED && !step.run().equals(reportedEnded)) {
            reportedEnded = step.run();
            LOG.warn("Sync run {} ended {} outside this job; no further run starts until the job is restarted", step.run(),
                    step.progress().status());
        }
        if (step.next() != null) {
            nextRunAtNanos = System.nanoTime() + everyNanos();
            accept(step.next().runId(), step.plan(), "Continuous: planned", step.next().retryKeys().size(), true);
        }
    }

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {
        if (planned) {
            serve(subtaskId);
        } else {
            waitingReaders.add(subtaskId);
        }
    }

    private void serve(int subtask) {
        if (!context.registeredReaders().containsKey(subtask)) {
            // The reader failed after asking; its replacement asks again.
            return;
        }
        WarehouseSplit split = unassigned.poll();
        if (split != null) {
            LOG.debug("Assigning {} to subtask {}", split, subtask);
            context.assignSplit(split, subtask);
        } else if (settings.continuous()) {
            // The next run's splits go to the readers waiting then.
            waitingReaders.add(subtask);
        } else {
            context.signalNoMoreSplits(subtask);
        }
    }

    @Override
    public void addSplitsBack(List<WarehouseSplit> splits, int subtaskId) {
        // Back at the front, in their order: they were planned (and handed out) before the rest.
        for (int i = splits.size() - 1; i >= 0; i--) {
            unassigned.addFirst(splits.get(i));
        }
    }

    @Override
    public void addReader(int subtaskId) {
        // Readers ask for splits themselves when they start and after each finished split.
    }

    @Override
    public WarehouseEnumeratorState snapshotState(long checkpointId) {
        return planned
                ? new WarehouseEnumeratorState(true, highWaterMark, new ArrayList<>(unassigned), currentRun, settings.runId())
                : new WarehouseEnumeratorState(false, null, List.of(), currentRun, settings.runId());
    }

    @Override
    public void close() {
        if (counter != null) {
            counter.cancel();
        }
        if (runs != null) {
            runs.dispose();
        }
        io.backflow.jdbc.JdbcDrivers.releaseOwnDrivers();
    }
}
