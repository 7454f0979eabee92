package io.backflow.source.reader;

import io.backflow.source.SourceRow;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.metrics.WarehouseReaderMetrics;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.split.WarehouseSplitState;
import io.backflow.source.enumerator.SplitRowCounts;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.connector.base.source.reader.SingleThreadMultiplexSourceReaderBase;

/**
 * Reads the splits assigned to one subtask, one after the other, on one fetcher thread; asks the
 * enumerator for the next split when it has none.
 */
public final class WarehouseSourceReader
        extends SingleThreadMultiplexSourceReaderBase<SourceRow, SourceRow, WarehouseSplit, WarehouseSplitState> {

    private final WarehouseReaderMetrics metrics;
    /** The states of this reader's unfinished splits, by id; used on the task thread only. */
    private final Map<String, WarehouseSplitState> states = new java.util.HashMap<>();
    private final WarehouseSourceSettings settings;

    public WarehouseSourceReader(WarehouseSourceSettings settings, SourceReaderContext context) {
        this(settings, context, new WarehouseReaderMetrics(context.metricGroup()));
    }

    private WarehouseSourceReader(WarehouseSourceSettings settings, SourceReaderContext context, WarehouseReaderMetrics metrics) {
        super(() -> new WarehouseSplitReader(settings), new WarehouseRecordEmitter(metrics), context.getConfiguration(), context);
        this.metrics = metrics;
        this.settings = settings;
    }

    @Override
    public void start() {
        // Restored splits are read first; only an empty reader asks for work now.
        if (getNumberOfCurrentlyAssignedSplits() == 0) {
            context.sendSplitRequest();
        }
    }

    @Override
    public void addSplits(List<WarehouseSplit> splits) {
        List<WarehouseSplit> own = new java.util.ArrayList<>(splits.size());
        for (WarehouseSplit split : splits) {
            // A split restored from an older savepoint, or of the run this job resumes, is this job's run's.
            // A single run's job reads only its own run, whatever a restored split says.
            WarehouseSplit mine = split.withRunId(settings.continuous() ? settings.ownRun(split.runId()) : settings.runId());
            metrics.splitAdded(mine);
            own.add(mine);
        }
        super.addSplits(own);
    }

    @Override
    protected void onSplitFinished(Map<String, WarehouseSplitState> finishedSplitIds) {
        states.keySet().removeAll(finishedSplitIds.keySet());
        context.sendSplitRequest();
    }

    @Override
    protected WarehouseSplitState initializedState(WarehouseSplit split) {
        WarehouseSplitState state = new WarehouseSplitState(split);
        states.put(split.splitId(), state);
        return state;
    }

    /** The enumerator counted the splits' rows after handing them out: the estimate of those this reader holds. */
    @Override
    public void handleSourceEvents(SourceEvent event) {
        if (event instanceof SplitRowCounts) {
            for (Map.Entry<String, Long> counted : ((SplitRowCounts) event).rowsBySplit().entrySet()) {
                WarehouseSplitState state = states.get(counted.getKey());
                long remaining = state == null ? -1 : state.rowsCounted(counted.getValue());
                if (remaining >= 0) {
                    metrics.rowsAdded(remaining);
                }
            }
        } else {
            super.handleSourceEvents(event);
        }
    }

    @Override
    protected WarehouseSplit toSplitType(String splitId, WarehouseSplitState state) {
        return state.toSplit();
    }

    /** For tests and the job's progress report. */
    public WarehouseReaderMetrics metrics() {
        return metrics;
    }
}
