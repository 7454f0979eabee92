package io.backflow.source;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.source.split.SplitKind;
import io.backflow.source.split.WarehouseSplit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Builds a {@link WarehouseSource}; {@link #build()} checks the combination and names the setting
 * at fault.
 *
 * <pre>{@code
 * WarehouseSource source = WarehouseSource.builder()
 *         .endpoint(endpoint)
 *         .table("analytics.users")
 *         .primaryKey(List.of("id"))
 *         .cursorColumn("updated_at")
 *         .syncType(SyncType.INCREMENTAL)
 *         .startAtMark(committedHighWaterMark)
 *         .highWaterMarkDelay(Duration.ofMinutes(5))
 *         .runId(runId)
 *         .build();
 * }</pre>
 *
 * <p>A stopped run can be continued without its savepoint by giving it the splits the ledger kept
 * ({@link #resumeSplits}), with the run's own sync type and the same model settings.
 */
public final class WarehouseSourceBuilder {
    private JdbcEndpoint endpoint;
    private String table;
    private String query;
    private List<String> primaryKey;
    private String cursorColumn;
    private SyncType syncType = SyncType.FULL;
    private String startAfter;
    private Duration highWaterMarkDelay = Duration.ZERO;
    private int fetchSize = 5_000;
    private int pageSize = 50_000;
    private int splits = 1;
    private String runId;
    private java.time.Instant lastSuccessfulSync;
    private SyncPlanListener planListener;
    private boolean estimateRows = true;
    private boolean resume;
    private String resumeHighWaterMark;
    private List<WarehouseSplit> resumeSplits;
    private List<String> retryKeys = List.of();
    private String startMark;
    private String resumedRunId;
    private Duration every;
    private RunSequence runSequence;

    WarehouseSourceBuilder() {}

    public WarehouseSourceBuilder endpoint(JdbcEndpoint endpoint) {
        this.endpoint = endpoint;
        return this;
    }

    /** Reads a table or view, possibly schema-qualified ({@code schema.table}); parts are quoted as given. */
    public WarehouseSourceBuilder table(String table) {
        this.table = table;
        return this;
    }

    /** Reads the result of a SQL query, wrapped as {@code SELECT * FROM (<sql>) AS backflow_model}. */
    public WarehouseSourceBuilder query(String sql) {
        this.query = sql;
        return this;
    }

    /** The columns that identify a row (required; must be unique and not null). */
    public WarehouseSourceBuilder primaryKey(List<String> columns) {
        this.primaryKey = columns == null ? null : new ArrayList<>(columns);
        return this;
    }

    /** A column that grows whenever a row is inserted or changed (required for INCREMENTAL). */
    public WarehouseSourceBuilder cursorColumn(String column) {
        this.cursorColumn = column;
        return this;
    }

    /** FULL (default) or INCREMENTAL. */
    public WarehouseSourceBuilder syncType(SyncType syncType) {
        this.syncType = syncType;
        return this;
    }

    /**
     * The encoded ({@link PositionCodec}) position to continue after. INCREMENTAL: a one-value
     * cursor position (everything up to that cursor is done) or a full {@code (cursor, key...)}
     * tuple (resume inside a run). FULL: a key tuple; the run then reads one split. Either way the
     * NULL_KEYS split (if any) covers its whole scope, INCREMENTAL from after the cursor given; to
     * continue a stopped run split by split, use {@link #resumeSplits} instead.
     */
    public WarehouseSourceBuilder startAfter(String encodedPosition) {
        this.startAfter = encodedPosition;
        return this;
    }

    /**
     * INCREMENTAL: continue from the high-water mark the last run committed (a one-value
     * {@link PositionCodec} cursor), inclusively: rows whose cursor equals it are read again,
     * because rows can arrive later with exactly that value, and each emitted row says whether it is
     * at the mark ({@link SourceRow#atStartMark()}) so the mapping can skip the ones delivered
     * before. Every split of the run carries it; the retry-keys split then leaves out the rows the
     * incremental split reads. Use this instead of {@link #startAfter} with a cursor only, whose
     * exclusive bound loses such rows.
     */
    public WarehouseSourceBuilder startAtMark(String encodedCursor) {
        this.startMark = encodedCursor;
        return this;
    }

    /** How far behind the database clock a date/timestamp cursor must be to be read (default 0). */
    public WarehouseSourceBuilder highWaterMarkDelay(Duration delay) {
        this.highWaterMarkDelay = delay;
        return this;
    }

    /** Rows the driver fetches per round trip (default 5000). */
    public WarehouseSourceBuilder fetchSize(int fetchSize) {
        this.fetchSize = fetchSize;
        return this;
    }

    /** Rows per keyset page query (default 50 000). */
    public WarehouseSourceBuilder pageSize(int pageSize) {
        this.pageSize = pageSize;
        return this;
    }

    /** Desired splits for FULL runs over a single integer primary key (default 1). */
    public WarehouseSourceBuilder splits(int splits) {
        this.splits = splits;
        return this;
    }

    /** The sync run this source reads for; handed to the plan listener. */
    public WarehouseSourceBuilder runId(String runId) {
        this.runId = runId;
        return this;
    }

    /**
     * This run continues {@code runId} from its savepoint: splits restored with that run (or with
     * none, from an older savepoint) are read for this source's run.
     */
    public WarehouseSourceBuilder resumes(String runId) {
        this.resumedRunId = runId;
        return this;
    }

    /**
     * Makes the source unbounded: after this run, the enumerator asks {@code runs} to record the
     * next run once the previous one completed and at least {@code every} after the previous start,
     * plans it (INCREMENTAL from the committed position) and hands its splits out, for as long as
     * the job runs.
     */
    public WarehouseSourceBuilder continuous(Duration every, RunSequence runs) {
        this.every = every;
        this.runSequence = runs;
        return this;
    }

    /** When the connection's last successful sync finished (null: never), for the {@code lastSuccessfulSyncTime} gauge. */
    public WarehouseSourceBuilder lastSuccessfulSync(java.time.Instant finishedAt) {
        this.lastSuccessfulSync = finishedAt;
        return this;
    }

    /** Told the plan (high-water mark and splits) once per run. */
    public WarehouseSourceBuilder planListener(SyncPlanListener listener) {
        this.planListener = listener;
        return this;
    }

    /** Whether to count the planned rows once for progress metrics (default true; one COUNT per split). */
    public WarehouseSourceBuilder estimateRows(boolean estimateRows) {
        this.estimateRows = estimateRows;
        return this;
    }

    /**
     * Rows to read again in this INCREMENTAL run by primary key, whatever their cursor: rows the
     * destination rejected in an earlier run, which the cursor has moved past. They are read by one
     * extra split, {@value WarehouseSplit#RETRY_KEYS_ID}, in their current form (a key without a row,
     * deleted since, is skipped). A row that also changed since the last run is read by the
     * incremental split too, with the same values: its messageId is the same, so downstream dedup
     * absorbs it. Exact duplicate entries are dropped. Not for FULL runs, which resend every row,
     * nor with {@link #resumeSplits}, where the resumed retry-keys split carries its own keys.
     *
     * @param keyPositions one {@link PositionCodec} string per row, its primary-key values in
     *     {@link #primaryKey} column order, e.g. {@code [["long",42]]} or
     *     {@code [["string","eu"],["long",7]]}; the split (and so each checkpoint and ledger
     *     descriptor) holds them all, so keep the list small (the job passes at most 10 000);
     *     empty or null for none
     */
    public WarehouseSourceBuilder retryKeys(List<String> keyPositions) {
        this.retryKeys = keyPositions == null ? List.of() : new ArrayList<>(keyPositions);
        return this;
    }

    /**
     * Continues a run from explicit splits instead of planning a new one: the enumerator uses
     * exactly these splits (each with its position and finished flag, e.g. descriptors from
     * {@link io.backflow.source.split.WarehouseSplitSerializer#fromBase64} moved on with
     * {@link WarehouseSplit#withProgress}), tells the plan listener all of them once, and hands
     * only the unfinished ones to readers, which continue strictly after each split's position (the
     * NULL_KEYS split skips as many rows as its position counts). The sync type must be the
     * splits' type; {@link #startAfter} and {@link #splits(int)} do not apply.
     *
     * @param highWaterMark the run's high-water mark as first planned (null when it had none);
     *     every split must carry the same one
     * @param splits every split of the run, finished ones included; an empty list reads nothing
     */
    public WarehouseSourceBuilder resumeSplits(String highWaterMark, List<WarehouseSplit> splits) {
        this.resume = true;
        this.resumeHighWaterMark = highWaterMark;
        this.resumeSplits = splits == null ? null : new ArrayList<>(splits);
        return this;
    }

    public WarehouseSource build() {
        if (endpoint == null) {
            throw new IllegalArgumentException("endpoint is required");
        }
        boolean hasTable = table != null && !table.isBlank();
        boolean hasQuery = query != null && !query.isBlank();
        if (hasTable == hasQuery) {
            throw new IllegalArgumentException(hasTable
                    ? "set either table or query, not both"
                    : "a model is required: set table or query");
        }
        String sql;
        try {
            sql = hasQuery ? io.backflow.jdbc.ModelSql.singleQuery(query) : null;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("query " + e.getMessage(), e);
        }
        if (primaryKey == null || primaryKey.isEmpty()) {
            throw new IllegalArgumentException("primaryKey is required: at least one column that identifies a row");
        }
        Set<String> seen = new HashSet<>();
        for (String column : primaryKey) {
            if (column == null || column.isBlank()) {
                throw new IllegalArgumentException("primaryKey has a blank column name: " + primaryKey);
            }
            if (!seen.add(column)) {
                throw new IllegalArgumentException("primaryKey lists column '" + column + "' twice");
            }
        }
        if (cursorColumn != null && cursorColumn.isBlank()) {
            throw new IllegalArgumentException("cursorColumn is blank; leave it unset for no cursor");
        }
        if (syncType == null) {
            throw new IllegalArgumentException("syncType is required: FULL or INCREMENTAL");
        }
        if (syncType == SyncType.INCREMENTAL && cursorColumn == null) {
            throw new IllegalArgumentException("INCREMENTAL sync needs a cursorColumn");
        }
        if (highWaterMarkDelay == null || highWaterMarkDelay.isNegative()) {
            throw new IllegalArgumentException("highWaterMarkDelay must be zero or positive, got " + highWaterMarkDelay);
        }
        if (fetchSize <= 0) {
            throw new IllegalArgumentException("fetchSize must be positive, got " + fetchSize);
        }
        if (pageSize <= 0) {
            throw new IllegalArgumentException("pageSize must be positive, got " + pageSize);
        }
        if (splits <= 0) {
            throw new IllegalArgumentException("splits must be positive, got " + splits);
        }
        if (runId == null || runId.isBlank()) {
            throw new IllegalArgumentException("runId is required");
        }
        if (every != null && (every.isNegative() || every.isZero() || runSequence == null || cursorColumn == null)) {
            throw new IllegalArgumentException("a continuous source needs a positive interval, a run sequence and a cursorColumn");
        }
        validateStartAfter();
        validateStartMark();
        validateResume();
        List<String> keys = validateRetryKeys();
        return new WarehouseSource(new WarehouseSourceSettings(
                endpoint,
                hasTable ? table.trim() : null,
                sql,
                primaryKey,
                cursorColumn,
                syncType,
                startAfter,
                highWaterMarkDelay,
                fetchSize,
                pageSize,
                splits,
                runId,
                planListener,
                estimateRows,
                resume ? resumeHighWaterMark : null,
                resume ? resumeSplits : null,
                keys,
                startMark,
                lastSuccessfulSync,
                resumedRunId,
                every,
                runSequence));
    }

    private void validateStartAfter() {
        if (startAfter == null) {
            return;
        }
        Object[] values = decodePosition("startAfter", startAfter);
        int keys = primaryKey.size();
        if (syncType == SyncType.INCREMENTAL && values.length != 1 && values.length != 1 + keys) {
            throw new IllegalArgumentException("startAfter has " + values.length + " values; INCREMENTAL expects 1 (cursor) or "
                    + (1 + keys) + " (cursor, " + String.join(", ", primaryKey) + ")");
        }
        if (syncType == SyncType.FULL && values.length != keys) {
            throw new IllegalArgumentException("startAfter has " + values.length + " values; FULL expects "
                    + keys + " (" + String.join(", ", primaryKey) + ")");
        }
    }

    private void validateStartMark() {
        if (startMark == null) {
            return;
        }
        if (syncType != SyncType.INCREMENTAL) {
            throw new IllegalArgumentException("startAtMark applies to INCREMENTAL syncs only");
        }
        if (startAfter != null || resume) {
            throw new IllegalArgumentException("set one of startAtMark, startAfter and resumeSplits: resumed splits carry their own start mark");
        }
        if (decodePosition("startAtMark", startMark).length != 1) {
            throw new IllegalArgumentException("startAtMark must hold one value (a cursor)");
        }
    }

    private void validateResume() {
        if (!resume) {
            return;
        }
        if (resumeSplits == null) {
            throw new IllegalArgumentException("resumeSplits needs a list of splits (empty when the run had none)");
        }
        if (startAfter != null) {
            throw new IllegalArgumentException("set either startAfter or resumeSplits, not both: resumed splits carry their own positions");
        }
        if (resumeHighWaterMark != null && decodePosition("resumeSplits high-water mark", resumeHighWaterMark).length != 1) {
            throw new IllegalArgumentException("resumeSplits high-water mark must hold one value (a cursor)");
        }
        // Only a run with no new rows has no high-water mark, and then at most a retry-keys split.
        boolean readsByCursor = resumeSplits.stream().anyMatch(s -> s != null && s.kind() != SplitKind.RETRY_KEYS);
        if (syncType == SyncType.INCREMENTAL && resumeHighWaterMark == null && readsByCursor) {
            throw new IllegalArgumentException("resumeSplits: an INCREMENTAL run needs the high-water mark it was planned with");
        }
        Set<String> ids = new HashSet<>();
        boolean nullKeySplit = false;
        boolean retryKeySplit = false;
        for (WarehouseSplit split : resumeSplits) {
            if (split == null) {
                throw new IllegalArgumentException("resumeSplits holds a null split");
            }
            String name = "resumeSplits: split " + split.splitId();
            if (!ids.add(split.splitId())) {
                throw new IllegalArgumentException("resumeSplits lists split " + split.splitId() + " twice");
            }
            if (split.syncType() != syncType) {
                throw new IllegalArgumentException(name + " is " + split.syncType() + " but syncType is " + syncType
                        + "; a run resumes with the type it was planned with");
            }
            if (!Objects.equals(split.highWaterMark(), resumeHighWaterMark)) {
                throw new IllegalArgumentException(name + " has high-water mark " + split.highWaterMark()
                        + ", not the run's " + resumeHighWaterMark);
            }
            if (split.kind() == SplitKind.NULL_KEYS) {
                if (nullKeySplit) {
                    throw new IllegalArgumentException(name + " is a second NULL_KEYS split; a run has at most one");
                }
                nullKeySplit = true;
                try {
                    split.rowsEmitted();
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
                }
                if (split.cursorAfter() != null && decodePosition(name + " cursorAfter", split.cursorAfter()).length != 1) {
                    throw new IllegalArgumentException(name + " cursorAfter must hold one value (a cursor)");
                }
            } else if (split.kind() == SplitKind.RETRY_KEYS) {
                if (retryKeySplit) {
                    throw new IllegalArgumentException(name + " is a second RETRY_KEYS split; a run has at most one");
                }
                retryKeySplit = true;
                try {
                    split.keysDone();
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
                }
                for (int i = 0; i < split.retryKeys().size(); i++) {
                    validateKey(name + " retry key [" + i + "]", split.retryKeys().get(i));
                }
            } else {
                validateKeysetSplit(name, split);
            }
        }
    }

    /** The retry keys without exact duplicates, each checked to be a full primary key. */
    private List<String> validateRetryKeys() {
        if (retryKeys.isEmpty()) {
            return List.of();
        }
        if (syncType != SyncType.INCREMENTAL) {
            throw new IllegalArgumentException("retryKeys apply to INCREMENTAL syncs only: a FULL sync resends every row anyway");
        }
        if (resume) {
            throw new IllegalArgumentException("set either retryKeys or resumeSplits, not both: a resumed retry-keys split carries its own keys");
        }
        for (int i = 0; i < retryKeys.size(); i++) {
            validateKey("retryKeys[" + i + "]", retryKeys.get(i));
        }
        return List.copyOf(new LinkedHashSet<>(retryKeys));
    }

    /** Checks one retry key; messages name it by index only, since key values can be personal data. */
    private void validateKey(String what, String encoded) {
        if (encoded == null || encoded.isBlank()) {
            throw new IllegalArgumentException(what + " is empty; expected an encoded position of the primary key");
        }
        Object[] values;
        try {
            values = PositionCodec.decode(encoded);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(what + " is not an encoded position (e.g. [[\"long\",42]])");
        }
        if (values.length != primaryKey.size()) {
            throw new IllegalArgumentException(what + " has " + values.length + " value(s); the primary key ("
                    + String.join(", ", primaryKey) + ") has " + primaryKey.size());
        }
        for (Object v : values) {
            if (v == null) {
                throw new IllegalArgumentException(what + " has a null value; a primary key has none");
            }
        }
    }

    private void validateKeysetSplit(String name, WarehouseSplit split) {
        int keys = primaryKey.size();
        if (split.position() != null) {
            int n = decodePosition(name + " position", split.position()).length;
            if (syncType == SyncType.FULL && n != keys) {
                throw new IllegalArgumentException(name + " position has " + n + " values; FULL expects "
                        + keys + " (" + String.join(", ", primaryKey) + ")");
            }
            if (syncType == SyncType.INCREMENTAL && n != 1 && n != 1 + keys) {
                throw new IllegalArgumentException(name + " position has " + n + " values; INCREMENTAL expects 1 (cursor) or "
                        + (1 + keys) + " (cursor, " + String.join(", ", primaryKey) + ")");
            }
        }
        if (split.rangeStart() != null || split.rangeEnd() != null) {
            if (syncType != SyncType.FULL) {
                throw new IllegalArgumentException(name + " has a key range; only FULL splits have one");
            }
            if (keys != 1) {
                throw new IllegalArgumentException(name + " has a key range but the primary key has " + keys + " columns");
            }
            if (split.rangeStart() != null && split.rangeEnd() != null && split.rangeStart() >= split.rangeEnd()) {
                throw new IllegalArgumentException(name + " has an empty key range [" + split.rangeStart() + ", " + split.rangeEnd() + ")");
            }
        }
    }

    /** Decodes a position a caller gave, naming it in the error; positions never hold nulls. */
    private static Object[] decodePosition(String what, String encoded) {
        Object[] values;
        try {
            values = PositionCodec.decode(encoded);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(what + " is not an encoded position: " + e.getMessage(), e);
        }
        if (values.length == 0) {
            throw new IllegalArgumentException(what + " is an empty position");
        }
        for (Object v : values) {
            if (v == null) {
                throw new IllegalArgumentException(what + " has a null value; positions never hold nulls");
            }
        }
        return values;
    }

    @Override
    public String toString() {
        return "WarehouseSourceBuilder{" + Objects.toString(endpoint) + "}";
    }
}
