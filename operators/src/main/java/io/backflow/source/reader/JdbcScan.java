package io.backflow.source.reader;

import io.backflow.jdbc.JdbcValues;
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
    protected String position;
    /** The query being streamed, or null between queries. */
    protected ResultSet rows;
    private PreparedStatement statement;
    private int[] types;

    protected JdbcScan(WarehouseSourceSettings settings, WarehouseSplit split, Connection connection, SplitSql sql, String startPosition) {
        this.settings = settings;
        this.split = split;
        this.connection = connection;
        this.sql = sql;
        this.columns = sql.columns().names();
        this.position = startPosition;
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
    public String splitId() {
        return split.splitId();
    }

    @Override
    public String position() {
        return position;
    }

    /** Starts streaming {@code query}; a model whose columns changed since the split began is an error. */
    protected void execute(BoundQuery query) throws SQLException {
        statement = query.prepare(connection, settings.dialect(), settings.fetchSize());
        rows = statement.executeQuery();
        ModelColumns rowColumns = ModelColumns.of(rows.getMetaData());
        if (!rowColumns.sameNames(sql.columns())) {
            throw new SQLException("the columns of the model changed during split " + split.splitId() + " of run " + settings.runId());
        }
        types = rowColumns.types();
    }

    /** The current row's values, in the model's column order. */
    protected Object[] values() throws SQLException {
        Object[] values = new Object[columns.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = JdbcValues.read(rows, i + 1, types[i]);
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
