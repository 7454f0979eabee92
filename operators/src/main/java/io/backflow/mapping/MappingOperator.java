package io.backflow.mapping;

import io.backflow.model.SyncRecord;
import io.backflow.source.SourceRow;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline step between the warehouse source and the destination sink: turns each
 * {@link SourceRow} into a ready event or an invalid record, and passes split ends through.
 *
 * <p>Metrics (group {@code backflow}): {@code rowsMapped}, {@code rowsInvalid}. Invalid rows are
 * logged with key and reason only, never the payload: the first few per subtask at WARN, all at DEBUG.
 * A row missing a mapped column fails the task with an {@link IllegalArgumentException}: that is a
 * configuration error, not a bad row.
 */
public class MappingOperator extends ProcessFunction<SourceRow, SyncRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MappingOperator.class);
    /** Invalid rows per subtask worth a WARN line; the rest are counted and logged at DEBUG. */
    static final int WARN_LIMIT = 5;

    private final MappingSpec spec;
    private transient String[] keyColumnsOf;
    private transient int[] keyIndexes;
    private final String runId;

    private transient EventMapper mapper;
    private transient Counter rowsMapped;
    private transient Counter rowsInvalid;
    private transient int warned;
    private transient int subtask;

    public MappingOperator(MappingSpec spec, String runId) {
        this.spec = spec;
        this.runId = runId;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        mapper = new EventMapper(spec);
        mapper.open();
        MetricGroup group = getRuntimeContext().getMetricGroup().addGroup("backflow");
        rowsMapped = group.counter("rowsMapped");
        rowsInvalid = group.counter("rowsInvalid");
        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        warned = 0;
    }

    @Override
    public void processElement(SourceRow row, Context ctx, Collector<SyncRecord> out) {
        if (row.isSplitEnd()) {
            out.collect(SyncRecord.splitEnd(row.splitId(), row.position()));
            return;
        }
        MappedRow mapped = mapper.map(row, runId);
        if (mapped.isEvent()) {
            rowsMapped.inc();
            out.collect(SyncRecord.event(row.splitId(), row.position(), mapped.key(), mapped.messageId(), mapped.payload(), keyPosition(row)));
            return;
        }
        rowsInvalid.inc();
        if (warned < WARN_LIMIT) {
            warned++;
            LOG.warn("Connection {} subtask {}: invalid row {}: {}{}", spec.connectionName(), subtask, mapped.key(),
                    mapped.reason(), warned == WARN_LIMIT ? " (further invalid rows are logged at DEBUG)" : "");
        } else {
            LOG.debug("Connection {} subtask {}: invalid row {}: {}", spec.connectionName(), subtask, mapped.key(), mapped.reason());
        }
        out.collect(SyncRecord.invalid(row.splitId(), row.position(), mapped.key(), mapped.reason(), keyPosition(row)));
    }

    /** The row's primary key values as a PositionCodec string: how a failed row is found again. */
    private String keyPosition(SourceRow row) {
        if (row.columns() != keyColumnsOf) {
            keyColumnsOf = row.columns();
            keyIndexes = new int[spec.primaryKey().size()];
            for (int i = 0; i < keyIndexes.length; i++) {
                keyIndexes[i] = io.backflow.jdbc.ColumnNames.find(spec.primaryKey().get(i), row.columns());
            }
        }
        Object[] key = new Object[keyIndexes.length];
        for (int i = 0; i < key.length; i++) {
            key[i] = keyIndexes[i] < 0 ? null : row.values()[keyIndexes[i]];
        }
        return io.backflow.jdbc.PositionCodec.encode(key);
    }
}
