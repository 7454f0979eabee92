package io.backflow.source.reader;

import io.backflow.jdbc.JdbcValues;
import io.backflow.jdbc.Position;
import io.backflow.source.SourceRow;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.sql.BoundQuery;
import io.backflow.source.sql.ModelColumns;
import io.backflow.source.sql.SplitSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * What every split reader shares: its own read-only connection, the model's columns, one query
 * streamed at a time (checked to still have the model's columns), and the position reached.
 */
abstract class JdbcScan implements RowScan {
    protected final WarehouseSourceSettings settings;
    protected final WarehouseSplit split;
    protected final Connection connection;
    protected final SplitSql sql;
    /** One array for every row of the split: rows cost only their values. */
    protected final String[] columns;
    protected Position position;
    /** The query being streamed, or null between queries. */
    protected ResultSet rows;
    private PreparedStatement statement;
    private int[] types;
    /** The split's start mark and high-water mark as values, or null; see {@link #marks}. */
    private final Object startMark;
    private final Object highWaterMark;
    /** The text marks as {@link #loose} spells them, once; null for other values. */
    private final String looseStartMark;
    private final String looseHighWaterMark;
    /** Whether each column is part of a position (a key or the cursor). */
    private final boolean[] positional;
    private static final java.util.regex.Pattern MARKS = java.util.regex.Pattern.compile("\\p{M}+");

    protected JdbcScan(WarehouseSourceSettings settings, WarehouseSplit split, Connection connection, SplitSql sql, String startPosition) {
        this.settings = settings;
        this.split = split;
        this.connection = connection;
        this.sql = sql;
        this.columns = sql.columns().names();
        this.position = Position.ofEncoded(startPosition);
        boolean marked = split.kind() != io.backflow.source.split.SplitKind.RETRY_KEYS && sql.cursorIndex() >= 0;
        this.startMark = marked && split.startMark() != null ? io.backflow.jdbc.PositionCodec.decode(split.startMark())[0] : null;
        this.highWaterMark = marked && split.highWaterMark() != null ? io.backflow.jdbc.PositionCodec.decode(split.highWaterMark())[0] : null;
        this.looseStartMark = loose(startMark);
        this.looseHighWaterMark = loose(highWaterMark);
        this.positional = new boolean[columns.length];
        for (int i : sql.positionIndexes(io.backflow.source.SyncType.INCREMENTAL)) {
            if (i >= 0) {
                positional[i] = true;
            }
        }
    }

    /**
     * Where a row's cursor stands against the split's marks ({@link SourceRow#AT_START_MARK},
     * {@link SourceRow#AT_HIGH_WATER_MARK}); 0 for splits that read by key.
     */
    protected byte marks(Object[] values) {
        if (startMark == null && highWaterMark == null) {
            return 0;
        }
        Object cursor = values[sql.cursorIndex()];
        byte marks = 0;
        if (startMark != null && atMark(cursor, startMark, looseStartMark)) {
            marks |= SourceRow.AT_START_MARK;
        }
        if (highWaterMark != null && atMark(cursor, highWaterMark, looseHighWaterMark)) {
            marks |= SourceRow.AT_HIGH_WATER_MARK;
        }
        return marks;
    }

    /**
     * Whether a row's cursor may equal a mark in the database. Text compares by the column's
     * collation, which can call 'x', 'X' and 'x ' (MariaDB's _ci, PAD SPACE) or 'e' and 'é' equal,
     * so text is matched loosely: taking a row for one at the mark when it is not only costs a
     * look-up (a row is skipped only if its key was resolved at the mark with this very messageId)
     * and 24 bytes in the ledger, while missing one sends it again on every sync.
     */
    private static boolean atMark(Object cursor, Object mark, String looseMark) {
        if (cursor instanceof String && looseMark != null) {
            return cursor.equals(mark) || looselyEqual((String) cursor, looseMark);
        }
        return JdbcValues.sameValue(cursor, mark);
    }

    /** {@code loose(text).equals(looseMark)}, without normalising ASCII text: every row of a text cursor comes here. */
    static boolean looselyEqual(String text, String looseMark) {
        int n = text.length();
        while (n > 0 && Character.isWhitespace(text.charAt(n - 1))) {
            n--;
        }
        for (int i = 0; i < n; i++) {
            if (text.charAt(i) >= 0x80) {
                return loose(text).equals(looseMark);
            }
        }
        return n == looseMark.length() && text.regionMatches(true, 0, looseMark, 0, n);
    }

    /** Text without accents, trailing spaces or case; null for other values. */
    static String loose(Object value) {
        if (!(value instanceof String)) {
            return null;
        }
        String decomposed = MARKS.matcher(java.text.Normalizer.normalize((String) value, java.text.Normalizer.Form.NFD)).replaceAll("");
        return decomposed.stripTrailing().toLowerCase(java.util.Locale.ROOT);
    }

    /** Creates a scan over an open connection. */
    @FunctionalInterface
    interface Factory<T extends JdbcScan> {
        T create(WarehouseSourceSettings settings, WarehouseSplit split, Connection connection, SplitSql sql) throws SQLException;
    }

    /** Opens a connection in a read-only streaming transaction and describes the model on it. */
    static <T extends JdbcScan> T open(WarehouseSourceSettings settings, WarehouseSplit split, Factory<T> factory) throws SQLException {
        Connection connection = settings.endpoint().open();
        try {
            settings.dialect().beginStreamingRead(connection);
            return factory.create(settings, split, connection, new SplitSql(settings, ModelColumns.describe(connection, settings)));
        } catch (SQLException | RuntimeException e) {
            closeQuietly(connection);
            throw e;
        }
    }

    @Override
    public String runId() {
        return split.runId();
    }

    @Override
    public String splitId() {
        return split.splitId();
    }

    @Override
    public Position position() {
        return position;
    }

    /** Starts streaming {@code query}; a model whose columns changed since the split began is an error. */
    protected void execute(BoundQuery query) throws SQLException {
        statement = query.prepare(connection, settings.dialect(), settings.fetchSize());
        rows = statement.executeQuery();
        ModelColumns rowColumns = ModelColumns.of(rows.getMetaData());
        if (!rowColumns.sameNames(sql.columns())) {
            throw new SQLException("the columns of the model changed during split " + split.splitId() + " of run " + (split.runId() != null ? split.runId() : settings.runId()));
        }
        types = rowColumns.types();
    }

    /**
     * The current row's values, in the model's column order; see {@link JdbcValues#readOrText}. A
     * key or cursor value, which positions are made of, must convert: it fails the read, naming
     * its column.
     */
    protected Object[] values() throws SQLException {
        Object[] values = new Object[columns.length];
        for (int i = 0; i < values.length; i++) {
            if (!positional[i]) {
                values[i] = JdbcValues.readOrText(rows, i + 1, types[i]);
                continue;
            }
            try {
                values[i] = JdbcValues.read(rows, i + 1, types[i]);
            } catch (SQLException e) {
                throw new SQLException("column " + columns[i] + " of split " + split.splitId() + ": " + e.getMessage(), e.getSQLState(), e);
            }
        }
        return values;
    }

    /** Ends the query being streamed, if any. */
    protected void closeQuery() throws SQLException {
        try {
            if (rows != null) {
                rows.close();
            }
        } finally {
            rows = null;
            if (statement != null) {
                statement.close();
                statement = null;
            }
        }
    }

    @Override
    public void close() {
        try {
            closeQuery();
        } catch (SQLException e) {
            // The connection goes next and takes the statement with it.
        }
        closeQuietly(connection);
    }

    static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException e) {
            // Read-only: nothing to lose.
        }
    }
}
