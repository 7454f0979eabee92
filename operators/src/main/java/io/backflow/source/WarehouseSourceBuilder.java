package io.backflow.source;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
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
 *         .startAfter(committedPosition)
 *         .highWaterMarkDelay(Duration.ofMinutes(5))
 *         .runId(runId)
 *         .build();
 * }</pre>
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
    private SyncPlanListener planListener;
    private boolean estimateRows = true;

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
     * tuple (resume inside a run). FULL: a key tuple; the run then reads one split.
     */
    public WarehouseSourceBuilder startAfter(String encodedPosition) {
        this.startAfter = encodedPosition;
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

    /** Told the plan (high-water mark and split ids) once per run. */
    public WarehouseSourceBuilder planListener(SyncPlanListener listener) {
        this.planListener = listener;
        return this;
    }

    /** Whether to count the planned rows once for progress metrics (default true; one COUNT per split). */
    public WarehouseSourceBuilder estimateRows(boolean estimateRows) {
        this.estimateRows = estimateRows;
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
        String sql = hasQuery ? stripTrailingSemicolons(query) : null;
        if (hasQuery && sql.isEmpty()) {
            throw new IllegalArgumentException("query is empty");
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
        validateStartAfter();
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
                estimateRows));
    }

    private void validateStartAfter() {
        if (startAfter == null) {
            return;
        }
        Object[] values;
        try {
            values = PositionCodec.decode(startAfter);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("startAfter is not an encoded position: " + e.getMessage(), e);
        }
        for (Object v : values) {
            if (v == null) {
                throw new IllegalArgumentException("startAfter has a null value; positions never hold nulls");
            }
        }
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

    private static String stripTrailingSemicolons(String sql) {
        String s = sql.strip();
        while (s.endsWith(";")) {
            s = s.substring(0, s.length() - 1).strip();
        }
        return s;
    }

    @Override
    public String toString() {
        return "WarehouseSourceBuilder{" + Objects.toString(endpoint) + "}";
    }
}
