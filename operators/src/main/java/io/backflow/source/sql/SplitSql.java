package io.backflow.source.sql;

import io.backflow.jdbc.KeysetPredicate;
import io.backflow.jdbc.PositionCodec;
import io.backflow.jdbc.SqlDialect;
import io.backflow.source.SyncType;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.split.SplitKind;
import io.backflow.source.split.WarehouseSplit;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the SQL of one model: the high-water-mark query for planning, and for a split its scope
 * ({@code WHERE}), keyset order and pages. Identifiers are quoted by the dialect and every value
 * is a bound parameter.
 *
 * <p>Scope of a keyset split:
 * <ul>
 *   <li>every primary-key column IS NOT NULL: a row without a key has no position, so it cannot
 *       be paged or resumed exactly; such rows are read by the run's NULL_KEYS split instead;
 *   <li>FULL with a cursor: {@code cursor <= hwm OR cursor IS NULL} (only {@code cursor IS NULL}
 *       when no cursor value is settled yet), leaving rows inside the delay window to the next
 *       incremental run; INCREMENTAL: {@code cursor <= hwm}, so NULL cursors are never read, and
 *       {@code cursor >= startMark} when the split has a start mark (rows at exactly the mark can
 *       arrive after the last run ended there; the mapping skips those delivered before);
 *   <li>the split's key range, if any: {@code key >= start AND key < end};
 *   <li>after the split's position: FULL {@code (key...) > (position)}; INCREMENTAL
 *       {@code cursor > c} for a cursor-only position, else {@code (cursor, key...) > (position)}.
 * </ul>
 *
 * <p>Scope of the NULL_KEYS split: some primary-key column IS NULL, the same cursor scope, and for
 * INCREMENTAL {@code cursor > cursorAfter} when the split has that bound.
 *
 * <p>The RETRY_KEYS split has no scope but its keys: {@link #retryKeys} looks a chunk of them up.
 * When the split has a start mark it leaves out the rows whose cursor lies in the run's range
 * {@code [startMark, hwm]}: the run's incremental split reads those already, so a retried row that
 * moved is sent once, not twice.
 */
public final class SplitSql {
    private final WarehouseSourceSettings settings;
    private final SqlDialect dialect;
    private final ModelColumns columns;
    private final int[] keyIndexes;
    private final int cursorIndex;

    public SplitSql(WarehouseSourceSettings settings, ModelColumns columns) {
        this.settings = settings;
        this.dialect = settings.dialect();
        this.columns = columns;
        List<String> key = settings.primaryKey();
        this.keyIndexes = new int[key.size()];
        for (int i = 0; i < keyIndexes.length; i++) {
            keyIndexes[i] = columns.require(key.get(i), "primary key");
        }
        this.cursorIndex = settings.cursorColumn() == null ? -1 : columns.require(settings.cursorColumn(), "cursor");
    }

    public ModelColumns columns() {
        return columns;
    }

    /** The index of the cursor column among {@link #columns()}, or -1 without a cursor. */
    public int cursorIndex() {
        return cursorIndex;
    }

    /**
     * The column indexes whose values make up a row's position: the key for FULL, the cursor
     * then the key for INCREMENTAL.
     */
    public int[] positionIndexes(SyncType syncType) {
        if (syncType == SyncType.FULL) {
            return keyIndexes.clone();
        }
        int[] out = new int[keyIndexes.length + 1];
        out[0] = cursorIndex;
        System.arraycopy(keyIndexes, 0, out, 1, keyIndexes.length);
        return out;
    }

    /**
     * True when the database guarantees every key column NOT NULL: then no row can have a NULL key
     * and the planner need not count them (a scan of the table on databases that do not use the
     * constraint to answer {@code IS NULL}, as PostgreSQL before 17).
     */
    /**
     * {@code SELECT COUNT(*)} of the rows whose cursor is NULL: no INCREMENTAL read can place them,
     * so a run only counts and reports them.
     */
    public BoundQuery countNullCursor() {
        requireCursor();
        return new BoundQuery("SELECT COUNT(*) FROM " + settings.fromClause() + " WHERE " + quoted(cursorIndex) + " IS NULL", List.of());
    }

    /**
     * {@code SELECT COUNT(*)} of rows whose time cursor is after the database's clock (a DATE
     * cursor: after today), which no run reads until the clock gets there; null for a cursor that
     * is not a date or timestamp.
     */
    public BoundQuery countFutureCursors() {
        requireCursor();
        int type = columns.type(cursorIndex);
        if (type != java.sql.Types.TIMESTAMP_WITH_TIMEZONE && type != java.sql.Types.TIMESTAMP && type != java.sql.Types.DATE) {
            return null;
        }
        String now = dialect.clockBound(type, java.time.Duration.ZERO);
        return new BoundQuery("SELECT COUNT(*) FROM " + settings.fromClause() + " WHERE " + quoted(cursorIndex) + " > "
                + (type == java.sql.Types.DATE ? dialect.dateOf(now) : now), List.of());
    }

    /** True when the database declares the cursor column NOT NULL. */
    public boolean cursorNeverNull() {
        return columns.neverNull(cursorIndex);
    }

    public boolean keyNeverNull() {
        for (int k : keyIndexes) {
            if (!columns.neverNull(k)) {
                return false;
            }
        }
        return true;
    }

    /** True when the key is one integer column, so a FULL run can be cut into key ranges. */
    public boolean hasSingleIntegerKey() {
        if (keyIndexes.length != 1) {
            return false;
        }
        switch (columns.type(keyIndexes[0])) {
            case Types.TINYINT:
            case Types.SMALLINT:
            case Types.INTEGER:
            case Types.BIGINT:
                return true;
            default:
                return false;
        }
    }

    /** {@code SELECT MAX(cursor)} over settled cursor values: the high-water mark. */
    public BoundQuery maxSettledCursor() {
        return maxSettledCursor(null);
    }

    /**
     * As {@link #maxSettledCursor()}, among values at or after {@code startMark} (encoded; null for
     * none): the database, not Java, decides that the mark moves forward, because only it knows how
     * its collation orders text (in MariaDB's and ICU's 'B' follows 'a'). NULL when no settled
     * value is at or after the mark.
     */
    public BoundQuery maxSettledCursor(String startMark) {
        requireCursor();
        String cursor = quoted(cursorIndex);
        String settled = dialect.settledCursorPredicate(cursor, columns.type(cursorIndex), settings.highWaterMarkDelay());
        String where = settled == null ? cursor + " IS NOT NULL" : settled;
        if (startMark == null) {
            return new BoundQuery("SELECT MAX(" + cursor + ") FROM " + settings.fromClause() + " WHERE " + where, List.of());
        }
        return new BoundQuery("SELECT MAX(" + cursor + ") FROM " + settings.fromClause() + " WHERE " + where
                + " AND " + cursor + " >= " + placeholder(cursorIndex), List.of(PositionCodec.decode(startMark)[0]));
    }

    /**
     * {@code SELECT MIN(key), MAX(key)} over the whole model (single integer key only), without the
     * split's cursor scope: the ranges cut from it are open at both ends, so they cover every row
     * in scope whatever the bounds, and without a condition on the cursor a database answers from
     * the key's index instead of scanning the table.
     */
    public BoundQuery keyRange(WarehouseSplit split) {
        requireKeyset(split);
        String key = quoted(keyIndexes[0]);
        return new BoundQuery("SELECT MIN(" + key + "), MAX(" + key + ") FROM " + settings.fromClause() + " WHERE " + key + " IS NOT NULL",
                List.of());
    }

    /**
     * {@code SELECT COUNT(*)} over a split's scope: for a keyset split from its position on, for
     * the NULL_KEYS split all of it (its position is a row count, not part of the scope).
     */
    public BoundQuery count(WarehouseSplit split) {
        if (split.isRetryKeyScan()) {
            throw new IllegalStateException("split " + split.splitId() + " reads keys; its estimate is its key count");
        }
        if (split.isNullKeyScan()) {
            List<Object> params = new ArrayList<>();
            String where = nullKeyWhere(split, params);
            return new BoundQuery("SELECT COUNT(*) FROM " + settings.fromClause() + where, params);
        }
        List<Object> params = new ArrayList<>();
        String where = where(split, split.position(), params);
        return new BoundQuery("SELECT COUNT(*) FROM " + settings.fromClause() + where, params);
    }

    /**
     * The rows of the NULL_KEYS split: in cursor order then key order when there is a cursor (so a
     * re-run query returns unchanged rows in the same order, which a restore relies on when it
     * skips the rows already emitted), else in whatever order the database returns them.
     */
    public BoundQuery nullKeyScan(WarehouseSplit split) {
        if (!split.isNullKeyScan()) {
            throw new IllegalStateException("split " + split.splitId() + " is a keyset split");
        }
        List<Object> params = new ArrayList<>();
        String where = nullKeyWhere(split, params);
        String order = "";
        if (cursorIndex >= 0) {
            List<String> columns = new ArrayList<>();
            columns.add(quoted(cursorIndex));
            for (int k : keyIndexes) {
                columns.add(quoted(k));
            }
            order = " ORDER BY " + String.join(", ", columns);
        }
        return new BoundQuery("SELECT * FROM " + settings.fromClause() + where + order, params);
    }

    private String nullKeyWhere(WarehouseSplit split, List<Object> params) {
        List<String> conditions = new ArrayList<>();
        List<String> nullKey = new ArrayList<>();
        for (int k : keyIndexes) {
            nullKey.add(quoted(k) + " IS NULL");
        }
        conditions.add("(" + String.join(" OR ", nullKey) + ")");
        cursorScope(split, conditions, params);
        if (split.cursorAfter() != null) {
            requireCursor();
            conditions.add(quoted(cursorIndex) + " > " + placeholder(cursorIndex));
            params.add(PositionCodec.decode(split.cursorAfter())[0]);
        }
        return " WHERE " + String.join(" AND ", conditions);
    }

    /** The next page of a keyset split: its scope after {@code position}, in keyset order, at most pageSize rows. */
    public BoundQuery page(WarehouseSplit split, String position) {
        requireKeyset(split);
        List<Object> params = new ArrayList<>();
        String where = where(split, position, params);
        List<String> order = new ArrayList<>();
        for (int i : positionIndexes(split.syncType())) {
            order.add(quoted(i));
        }
        return new BoundQuery("SELECT * FROM " + settings.fromClause() + where
                + " ORDER BY " + String.join(", ", order) + " " + dialect.limit(settings.pageSize()), params);
    }

    /**
     * The rows whose primary key is one of {@code keys} (each the key's values in primary-key column
     * order, none null): {@code SELECT * FROM model WHERE (k1 = ? AND k2 = ?) OR ...}, in no
     * particular order, whatever their cursor.
     */
    public BoundQuery retryKeys(WarehouseSplit split, List<Object[]> keys) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no keys to look up");
        }
        List<Object> params = new ArrayList<>(keys.size() * keyIndexes.length);
        List<String> keyEquals = new ArrayList<>(keyIndexes.length);
        for (int k : keyIndexes) {
            keyEquals.add(quoted(k) + " = " + placeholder(k));
        }
        // Every key has the same shape, so the condition per key is built once.
        String oneKey = "(" + String.join(" AND ", keyEquals) + ")";
        StringBuilder where = new StringBuilder(" WHERE ");
        for (int i = 0; i < keys.size(); i++) {
            Object[] key = keys.get(i);
            if (key.length != keyIndexes.length) {
                throw new IllegalArgumentException("retry key " + i + " has " + key.length + " values, the primary key has " + keyIndexes.length);
            }
            if (i > 0) {
                where.append(" OR ");
            }
            where.append(oneKey);
            for (Object value : key) {
                if (value == null) {
                    throw new IllegalArgumentException("retry key " + i + " has a null value");
                }
                params.add(value);
            }
        }
        Object mark = split.startMark() == null ? null : PositionCodec.decode(split.startMark())[0];
        Object hwm = split.highWaterMark() == null ? null : PositionCodec.decode(split.highWaterMark())[0];
        if (mark != null && hwm != null) {
            String cursor = quoted(cursorIndex);
            String p = placeholder(cursorIndex);
            where.insert(" WHERE ".length(), "(").append(") AND (" + cursor + " IS NULL OR " + cursor + " < " + p + " OR " + cursor + " > " + p + ")");
            params.add(mark);
            params.add(hwm);
        }
        return new BoundQuery("SELECT * FROM " + settings.fromClause() + where, params);
    }

    private static void requireKeyset(WarehouseSplit split) {
        if (split.kind() != SplitKind.KEYSET) {
            throw new IllegalStateException("split " + split.splitId() + " is a " + split.kind() + " split and has no keyset pages");
        }
    }

    private String where(WarehouseSplit split, String position, List<Object> params) {
        List<String> conditions = new ArrayList<>();
        for (int k : keyIndexes) {
            conditions.add(quoted(k) + " IS NOT NULL");
        }
        cursorScope(split, conditions, params);
        if (split.rangeStart() != null || split.rangeEnd() != null) {
            if (!hasSingleIntegerKey()) {
                throw new IllegalStateException("split " + split.splitId() + " has a key range but the key is not one integer column");
            }
            int k = keyIndexes[0];
            if (split.rangeStart() != null) {
                conditions.add(quoted(k) + " >= " + placeholder(k));
                params.add(split.rangeStart());
            }
            if (split.rangeEnd() != null) {
                conditions.add(quoted(k) + " < " + placeholder(k));
                params.add(split.rangeEnd());
            }
        }
        if (position != null) {
            conditions.add(after(split.syncType(), PositionCodec.decode(position), params));
        }
        return " WHERE " + String.join(" AND ", conditions);
    }

    private void cursorScope(WarehouseSplit split, List<String> conditions, List<Object> params) {
        if (cursorIndex < 0) {
            return;
        }
        String cursor = quoted(cursorIndex);
        Object hwm = split.highWaterMark() == null ? null : PositionCodec.decode(split.highWaterMark())[0];
        if (split.syncType() == SyncType.INCREMENTAL) {
            if (hwm == null) {
                throw new IllegalStateException("INCREMENTAL split " + split.splitId() + " has no high-water mark");
            }
            conditions.add(cursor + " <= " + placeholder(cursorIndex));
            params.add(hwm);
            if (split.startMark() != null) {
                conditions.add(cursor + " >= " + placeholder(cursorIndex));
                params.add(PositionCodec.decode(split.startMark())[0]);
            }
        } else if (hwm == null) {
            conditions.add(cursor + " IS NULL");
        } else {
            conditions.add("(" + cursor + " <= " + placeholder(cursorIndex) + " OR " + cursor + " IS NULL)");
            params.add(hwm);
        }
    }

    private String after(SyncType syncType, Object[] values, List<Object> params) {
        int[] indexes;
        if (syncType == SyncType.INCREMENTAL && values.length == 1) {
            // A cursor-only position: every row with this cursor value is done.
            params.add(values[0]);
            return quoted(cursorIndex) + " > " + placeholder(cursorIndex);
        }
        indexes = positionIndexes(syncType);
        if (values.length != indexes.length) {
            throw new IllegalArgumentException("position has " + values.length + " values, " + syncType + " expects " + indexes.length
                    + (syncType == SyncType.INCREMENTAL ? " (or 1, a cursor only)" : ""));
        }
        List<String> quotedColumns = new ArrayList<>();
        List<String> placeholders = new ArrayList<>();
        for (int i : indexes) {
            quotedColumns.add(quoted(i));
            placeholders.add(placeholder(i));
        }
        KeysetPredicate keyset = dialect.keysetAfter(quotedColumns, placeholders);
        for (int valueIndex : keyset.valueIndexes()) {
            Object value = values[valueIndex];
            if (value == null) {
                throw new IllegalArgumentException("position value " + (valueIndex + 1) + " is null; positions never hold nulls");
            }
            params.add(value);
        }
        return keyset.sql();
    }

    private void requireCursor() {
        if (cursorIndex < 0) {
            throw new IllegalStateException("no cursor column configured");
        }
    }

    private String quoted(int index) {
        return dialect.quoteIdentifier(columns.names()[index]);
    }

    private String placeholder(int index) {
        return dialect.placeholder(columns.type(index), columns.typeName(index));
    }
}
