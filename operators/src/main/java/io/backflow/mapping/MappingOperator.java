package io.backflow.mapping;

import io.backflow.jdbc.Position;
import io.backflow.model.MarkRow;
import io.backflow.model.SyncRecord;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
 *
 * <p>Rows at the run's start mark (the committed high-water mark, read again inclusively) are
 * checked against what the last run resolved there ({@link AlreadyDelivered}): a row resolved in
 * the same form is dropped and counted in {@code rowsAlreadyDelivered}, a new or changed one goes
 * on. Rows at the run's own high-water mark carry their {@link MarkRow identity} to the sink, so
 * the ledger can remember them for the next run.
 */
public class MappingOperator extends ProcessFunction<SourceRow, SyncRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MappingOperator.class);
    /**
     * The Flink accumulator counting the rows this run has read and handed on so far (skipped rows
     * at the mark excluded), which a client can poll while the job runs: the ledger's counts only
     * move at checkpoints.
     */
    public static final String ROWS_READ_ACCUMULATOR = "backflow-rows-read";
    /** Invalid rows per subtask worth a WARN line; the rest are counted and logged at DEBUG. */
    static final int WARN_LIMIT = 5;

    private final MappingSpec spec;
    private transient String[] keyColumnsOf;
    private transient int[] keyIndexes;
    private final String runId;
    private final AlreadyDeliveredByRun alreadyDelivered;

    private transient EventMapper mapper;
    private transient MarkIdentity identity;
    private transient CompletableFuture<RowVersions> delivered;
    /** The run {@link #delivered} was loaded for. */
    private transient String deliveredRun;
    private transient Counter rowsAlreadyDelivered;
    private transient org.apache.flink.api.common.accumulators.LongCounter rowsReadSoFar;
    private transient boolean keyComplete;
    private transient Counter rowsMapped;
    private transient Counter rowsInvalid;
    private transient int warned;
    private transient int subtask;

    public MappingOperator(MappingSpec spec, String runId) {
        this(spec, runId, null);
    }

    /**
     * @param alreadyDelivered what the last run resolved at this run's start mark, or null when the
     *     run has no start mark (FULL, diff)
     */
    public MappingOperator(MappingSpec spec, String runId, AlreadyDelivered alreadyDelivered) {
        this(spec, alreadyDelivered == null ? null : run -> alreadyDelivered, runId);
    }

    private MappingOperator(MappingSpec spec, AlreadyDeliveredByRun alreadyDelivered, String runId) {
        this.spec = spec;
        this.runId = runId;
        this.alreadyDelivered = alreadyDelivered;
    }

    /**
     * The mapping of a continuous job, whose rows belong to one run after another.
     *
     * @param runId the run of rows that do not name one
     * @param alreadyDelivered per run, what the run that committed its start mark resolved there
     */
    public static MappingOperator continuous(MappingSpec spec, String runId, AlreadyDeliveredByRun alreadyDelivered) {
        return new MappingOperator(spec, alreadyDelivered, runId);
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        mapper = new EventMapper(spec);
        mapper.open();
        MetricGroup group = getRuntimeContext().getMetricGroup().addGroup("backflow");
        rowsMapped = group.counter("rowsMapped");
        rowsInvalid = group.counter("rowsInvalid");
        group.meter("rowsMappedPerSecond", new org.apache.flink.metrics.MeterView(rowsMapped));
        group.meter("rowsInvalidPerSecond", new org.apache.flink.metrics.MeterView(rowsInvalid));
        rowsAlreadyDelivered = group.counter("rowsAlreadyDelivered");
        rowsReadSoFar = getRuntimeContext().getLongCounter(ROWS_READ_ACCUMULATOR);
        identity = new MarkIdentity(spec.connectionName());
        // Loaded in the background from the start, so the first row at the mark rarely waits.
        deliveredRun = null;
        delivered = null;
        if (alreadyDelivered != null) {
            loadDelivered(runId);
        }
        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        warned = 0;
    }

    @Override
    public void processElement(SourceRow row, Context ctx, Collector<SyncRecord> out) {
        String run = row.runId() != null ? row.runId() : runId;
        if (row.isSplitEnd()) {
            out.collect(SyncRecord.splitEnd(run, row.splitId(), row.positionValue()));
            return;
        }
        if (alreadyDelivered != null && !run.equals(deliveredRun)) {
            // A continuous job's next run: it continues from another mark.
            loadDelivered(run);
        }
        MappedRow mapped = mapper.map(row, run);
        Position keyPosition = keyPosition(row);
        MarkRow mark = row.atStartMark() || row.atHighWaterMark() ? identity.of(row.values(), keyPosition.encoded(), keyComplete, mapped) : null;
        if (row.atStartMark() && alreadyDelivered != null && deliveredAtMark().contains(mark)) {
            rowsAlreadyDelivered.inc();
            return;
        }
        rowsReadSoFar.add(1L);
        if (mapped.isEvent()) {
            rowsMapped.inc();
            SyncRecord event = SyncRecord.event(run, row.splitId(), row.positionValue(), mapped.key(), mapped.messageId(), mapped.payload(), keyPosition);
            out.collect(row.atHighWaterMark() ? event.atHighWaterMark(mark) : event);
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
        SyncRecord invalid = SyncRecord.invalid(run, row.splitId(), row.positionValue(), mapped.key(), mapped.reason(), keyPosition);
        out.collect(row.atHighWaterMark() ? invalid.atHighWaterMark(mark) : invalid);
    }

    /** Starts loading, off the task thread, what {@code run} skips at its start mark. */
    private void loadDelivered(String run) {
        AlreadyDelivered source = alreadyDelivered.of(run);
        deliveredRun = run;
        delivered = CompletableFuture.supplyAsync(() -> {
            try {
                return source == null ? new RowVersions() : source.load();
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, task -> {
            Thread loader = new Thread(task, "backflow-mark-rows-" + spec.connectionName());
            loader.setDaemon(true);
            loader.start();
        });
    }

    /** What the last run resolved at the mark; waits for the load started in {@link #open}. */
    private RowVersions deliveredAtMark() {
        try {
            return delivered.join();
        } catch (CompletionException e) {
            throw new IllegalStateException("could not read which rows the last sync of " + spec.connectionName()
                    + " delivered at its high-water mark: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * The row's primary key values: how a failed row is found again (encoded only then).
     * Sets {@link #keyComplete}.
     */
    private Position keyPosition(SourceRow row) {
        if (row.columns() != keyColumnsOf) {
            keyColumnsOf = row.columns();
            keyIndexes = new int[spec.primaryKey().size()];
            for (int i = 0; i < keyIndexes.length; i++) {
                keyIndexes[i] = io.backflow.jdbc.ColumnNames.find(spec.primaryKey().get(i), row.columns());
            }
        }
        Object[] key = new Object[keyIndexes.length];
        keyComplete = true;
        for (int i = 0; i < key.length; i++) {
            key[i] = keyIndexes[i] < 0 ? null : row.values()[keyIndexes[i]];
            keyComplete &= key[i] != null;
        }
        return Position.of(key);
    }
}
