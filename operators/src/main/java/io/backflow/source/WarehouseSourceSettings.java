package io.backflow.source;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.SqlDialect;
import io.backflow.source.split.WarehouseSplit;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * The validated configuration of one {@link WarehouseSource}, shared by its enumerator and readers.
 * Built only by {@link WarehouseSourceBuilder}.
 */
public final class WarehouseSourceSettings implements Serializable {
    private static final long serialVersionUID = 1L;

    private final JdbcEndpoint endpoint;
    private final String table;
    private final String query;
    private final List<String> primaryKey;
    private final String cursorColumn;
    private final SyncType syncType;
    private final String startAfter;
    private final long highWaterMarkDelayMillis;
    private final int fetchSize;
    private final int pageSize;
    private final int splits;
    private final String runId;
    private final SyncPlanListener planListener;
    private final boolean estimateRows;
    private final String resumeHighWaterMark;
    private final List<WarehouseSplit> resumeSplits;
    private final List<String> retryKeys;
    private final String startMark;
    private final long lastSuccessfulSyncMillis;
    private final String resumedRunId;
    private final Duration every;
    private final RunSequence runSequence;

    WarehouseSourceSettings(
            JdbcEndpoint endpoint,
            String table,
            String query,
            List<String> primaryKey,
            String cursorColumn,
            SyncType syncType,
            String startAfter,
            Duration highWaterMarkDelay,
            int fetchSize,
            int pageSize,
            int splits,
            String runId,
            SyncPlanListener planListener,
            boolean estimateRows,
            String resumeHighWaterMark,
            List<WarehouseSplit> resumeSplits,
            List<String> retryKeys,
            String startMark,
            java.time.Instant lastSuccessfulSync,
            String resumedRunId,
            Duration every,
            RunSequence runSequence) {
        this.endpoint = endpoint;
        this.table = table;
        this.query = query;
        this.primaryKey = List.copyOf(primaryKey);
        this.cursorColumn = cursorColumn;
        this.syncType = syncType;
        this.startAfter = startAfter;
        this.highWaterMarkDelayMillis = highWaterMarkDelay.toMillis();
        this.fetchSize = fetchSize;
        this.pageSize = pageSize;
        this.splits = splits;
        this.runId = runId;
        this.planListener = planListener;
        this.estimateRows = estimateRows;
        this.resumeHighWaterMark = resumeHighWaterMark;
        this.resumeSplits = resumeSplits == null ? null : List.copyOf(resumeSplits);
        this.retryKeys = List.copyOf(retryKeys);
        this.startMark = startMark;
        this.lastSuccessfulSyncMillis = lastSuccessfulSync == null ? -1 : lastSuccessfulSync.toEpochMilli();
        this.resumedRunId = resumedRunId;
        this.every = every;
        this.runSequence = runSequence;
    }

    /**
     * The settings the enumerator plans a continuous job's next run with: the same model, for
     * {@code runId}, INCREMENTAL from {@code startMark} (FULL when null) with {@code retryKeys}.
     */
    public WarehouseSourceSettings nextRun(String runId, SyncType type, String startMark, List<String> retryKeys) {
        boolean incremental = type == SyncType.INCREMENTAL;
        return new WarehouseSourceSettings(endpoint, table, query, primaryKey, cursorColumn, type, null, highWaterMarkDelay(), fetchSize,
                pageSize, splits, runId, planListener, estimateRows, null, null, incremental ? retryKeys : List.of(),
                incremental ? startMark : null, null, null, every, runSequence);
    }

    /**
     * The run this job's run continues from a savepoint, or null: the restored splits (and the
     * enumerator's restored run) of that run belong to {@link #runId()} now.
     */
    public String resumedRunId() {
        return resumedRunId;
    }

    /** True for a continuous job: one run after another, a new one every {@link #every()}. */
    public boolean continuous() {
        return every != null;
    }

    /** How often a continuous job starts a run (once the previous one completed), or null for a single run. */
    public Duration every() {
        return every;
    }

    /** Where a continuous job records its runs, or null for a single run. */
    public RunSequence runSequence() {
        return runSequence;
    }

    /** The run a restored split or state belongs to: {@code runId}, or this job's run for none or the resumed one. */
    public String ownRun(String runId) {
        return runId == null || runId.equals(resumedRunId) ? this.runId : runId;
    }

    /** When this connection's last successful sync finished, in epoch milliseconds; -1 for never or not told. */
    public long lastSuccessfulSyncMillis() {
        return lastSuccessfulSyncMillis;
    }

    public JdbcEndpoint endpoint() {
        return endpoint;
    }

    public SqlDialect dialect() {
        return endpoint.dialect();
    }

    /** The table name as given (possibly schema-qualified), or null for a query model. */
    public String table() {
        return table;
    }

    /** The user's SQL, or null for a table model. */
    public String query() {
        return query;
    }

    /**
     * The model as a {@code FROM} item: the quoted table, or the user's query wrapped as a subquery.
     * User SQL is only ever wrapped, never combined with values: values are bound parameters.
     */
    public String fromClause() {
        return dialect().modelRelation(table, query);
    }

    public List<String> primaryKey() {
        return primaryKey;
    }

    /** The cursor column, or null without one. */
    public String cursorColumn() {
        return cursorColumn;
    }

    public SyncType syncType() {
        return syncType;
    }

    /** The encoded position to read after, or null to read from the start. */
    public String startAfter() {
        return startAfter;
    }

    /**
     * INCREMENTAL: the committed high-water mark the run continues from, read inclusively (see
     * {@link WarehouseSplit#startMark()}), or null.
     */
    public String startMark() {
        return startMark;
    }

    public Duration highWaterMarkDelay() {
        return Duration.ofMillis(highWaterMarkDelayMillis);
    }

    public int fetchSize() {
        return fetchSize;
    }

    public int pageSize() {
        return pageSize;
    }

    public int splits() {
        return splits;
    }

    public String runId() {
        return runId;
    }

    /** The listener told about the plan, or null. */
    public SyncPlanListener planListener() {
        return planListener;
    }

    /** Whether the enumerator counts the rows of each planned split. */
    public boolean estimateRows() {
        return estimateRows;
    }

    /** The high-water mark of a resumed run (may be null), see {@link #resumeSplits()}. */
    public String resumeHighWaterMark() {
        return resumeHighWaterMark;
    }

    /**
     * The splits a resumed run reads instead of planning (each with its position and finished
     * flag), or null for a run that plans.
     */
    public List<WarehouseSplit> resumeSplits() {
        return resumeSplits;
    }

    /**
     * The primary keys of rows to read again whatever their cursor (INCREMENTAL only), each a
     * {@link io.backflow.jdbc.PositionCodec} string of the key's values; empty for none.
     */
    public List<String> retryKeys() {
        return retryKeys;
    }

    /** A description for logs: never the password, never the user's SQL in full. */
    @Override
    public String toString() {
        return "WarehouseSource{" + endpoint.redactedUrl()
                + ", model=" + (table != null ? table : "query")
                + ", key=" + primaryKey
                + (cursorColumn == null ? "" : ", cursor=" + cursorColumn)
                + ", " + syncType + ", run=" + runId
                + (resumeSplits == null ? "" : ", resuming " + resumeSplits.size() + " split(s)")
                + (retryKeys.isEmpty() ? "" : ", retrying " + retryKeys.size() + " key(s)")
                + (every == null ? "" : ", continuous every " + every) + "}";
    }
}
