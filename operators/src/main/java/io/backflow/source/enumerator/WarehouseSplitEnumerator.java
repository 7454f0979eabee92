package io.backflow.source.enumerator;

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
 */
public final class WarehouseSplitEnumerator implements SplitEnumerator<WarehouseSplit, WarehouseEnumeratorState> {
    private static final Logger LOG = LoggerFactory.getLogger(WarehouseSplitEnumerator.class);

    private final SplitEnumeratorContext<WarehouseSplit> context;
    private final WarehouseSourceSettings settings;
    private final Callable<SyncPlan> planner;
    /** Counts the planned splits' rows after they are handed out, or null (counted while planning, or not at all). */
    private final SplitCounter counter;
    /** The plan of this enumerator's run, once made here (not restored). */
    private SyncPlan plan;
    private final Deque<WarehouseSplit> unassigned = new ArrayDeque<>();
    private final Set<Integer> waitingReaders = new LinkedHashSet<>();
    private boolean planned;
    private String highWaterMark;
    private EnumeratorMetrics metrics = EnumeratorMetrics.of(null);

    public WarehouseSplitEnumerator(
            SplitEnumeratorContext<WarehouseSplit> context,
            WarehouseSourceSettings settings,
            Callable<SyncPlan> planner,
            WarehouseEnumeratorState restored) {
        this(context, settings, planner, null, restored);
    }

    public WarehouseSplitEnumerator(
            SplitEnumeratorContext<WarehouseSplit> context,
            WarehouseSourceSettings settings,
            Callable<SyncPlan> planner,
            SplitCounter counter,
            WarehouseEnumeratorState restored) {
        this.context = context;
        this.settings = settings;
        this.planner = planner;
        this.counter = counter;
        this.planned = restored.planned();
        this.highWaterMark = restored.highWaterMark();
        this.unassigned.addAll(restored.unassigned());
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
    }

    /** Plans and tells the listener (the ledger) off the coordinator thread: both do JDBC work. */
    private SyncPlan planAndRecord() throws Exception {
        SyncPlan plan = planner.call();
        SyncPlanListener listener = settings.planListener();
        if (listener != null) {
            listener.planned(settings.runId(), plan.highWaterMark(), plan.splits());
        }
        return plan;
    }

    private void onPlanned(SyncPlan plan, Throwable error) {
        if (error != null) {
            throw new FlinkRuntimeException("Planning sync run " + settings.runId() + " of " + settings + " failed: " + error.getMessage(), error);
        }
        this.plan = plan;
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
        LOG.info("{} sync run {} ({}): {} split(s) to read, {}", settings.resumeSplits() != null ? "Resuming" : "Planned", settings.runId(),
                settings.syncType(), toRead, metrics.plannedRows >= 0 ? metrics.plannedRows + " row(s) estimated" : "rows not counted yet");
        if (metrics.rowsWithNullKey > 0) {
            LOG.warn("Sync run {}: {} row(s) have a NULL primary-key column ({}); split {} reads them so they are reported invalid",
                    settings.runId(), metrics.rowsWithNullKey, settings.primaryKey(), WarehouseSplit.NULL_KEYS_ID);
        }
        if (plan.rowsWithNullCursor() > 0) {
            LOG.warn("Sync run {}: {} row(s) have a NULL cursor ({}); INCREMENTAL syncs cannot read them, a FULL sync (--full-resync) sends them",
                    settings.runId(), plan.rowsWithNullCursor(), settings.cursorColumn());
        }
        for (WarehouseSplit split : plan.splits()) {
            if (split.isRetryKeyScan() && !split.isFinished()) {
                LOG.info("Sync run {}: split {} retries {} key(s) the destination rejected before",
                        settings.runId(), split.splitId(), split.retryKeys().size());
            }
        }
        List<Integer> waiting = new ArrayList<>(waitingReaders);
        waitingReaders.clear();
        for (int subtask : waiting) {
            serve(subtask);
        }
        if (counter != null && settings.resumeSplits() == null && plan.estimatedRows() < 0) {
            // Reading has begun; the counts only feed the progress metrics.
            List<WarehouseSplit> splits = plan.splits();
            context.callAsync(() -> counter.count(splits), this::onCounted);
        }
    }

    /** The splits' row counts arrived: into the plan's total, the splits still unassigned, and every reader. */
    private void onCounted(Map<String, Long> counts, Throwable error) {
        if (error != null) {
            LOG.warn("Sync run {}: could not count the rows to read, so progress has no estimate: {}", settings.runId(), error.getMessage());
            return;
        }
        long total = 0;
        for (WarehouseSplit split : plan.splits()) {
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
        LOG.info("Sync run {}: {} row(s) to read", settings.runId(), total);
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
                ? new WarehouseEnumeratorState(true, highWaterMark, new ArrayList<>(unassigned))
                : WarehouseEnumeratorState.unplanned();
    }

    @Override
    public void close() {
        io.backflow.jdbc.JdbcDrivers.releaseOwnDrivers();
    }
}
