package io.backflow.source.reader;

import io.backflow.jdbc.JdbcValues;
import io.backflow.source.SourceRow;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.sql.ModelColumns;
import io.backflow.source.sql.SplitSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.Consumer;

/**
 * Reads the NULL_KEYS split: one streamed query over the rows in the run's scope that have a NULL
 * in a primary-key column (see {@link SplitSql#nullKeyScan}). Such rows have no keyset position,
 * so a row's position is the number of rows of this split emitted up to and including it.
 *
 * <p>A restored split re-runs the query and skips as many rows as its position counts. That is
 * exact only if those rows did not change in between (no insert, delete or cursor move among them):
 * otherwise a row may be emitted twice or not at all. These rows are never sent to a destination,
 * only counted invalid and recorded, so at worst the run's invalid count is off.
 */
final class NullKeyScan implements RowScan {
    private final WarehouseSourceSettings settings;
    private final WarehouseSplit split;
    private final Connection connection;
    private final SplitSql sql;
    private final String[] columns;
    private PreparedStatement statement;
    private ResultSet rows;
    private int[] types;
    private long emitted;
    private String position;

    private NullKeyScan(WarehouseSourceSettings settings, WarehouseSplit split, Connection connection, SplitSql sql) {
        this.settings = settings;
        this.split = split;
        this.connection = connection;
        this.sql = sql;
        this.columns = sql.columns().names();
        this.emitted = split.rowsEmitted();
        this.position = split.position();
    }

    static NullKeyScan open(WarehouseSourceSettings settings, WarehouseSplit split) throws SQLException {
        Connection connection = settings.endpoint().open();
        try {
            settings.dialect().beginStreamingRead(connection);
            SplitSql sql = new SplitSql(settings, ModelColumns.describe(connection, settings));
            return new NullKeyScan(settings, split, connection, sql);
        } catch (SQLException | RuntimeException e) {
            SplitScan.closeQuietly(connection);
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

    @Override
    public boolean read(int maxRows, Consumer<SourceRow> sink) throws SQLException {
        if (rows == null) {
            execute();
            // Rows emitted before the restore: skip them without reading their values.
            for (long skipped = 0; skipped < emitted; skipped++) {
                if (!rows.next()) {
                    return true;
                }
            }
        }
        for (int read = 0; read < maxRows; read++) {
            if (!rows.next()) {
                return true;
            }
            Object[] values = new Object[columns.length];
            for (int i = 0; i < values.length; i++) {
                values[i] = JdbcValues.read(rows, i + 1, types[i]);
            }
            emitted++;
            position = WarehouseSplit.rowsEmittedPosition(emitted);
            sink.accept(SourceRow.row(split.splitId(), columns, values, position));
        }
        return false;
    }

    private void execute() throws SQLException {
        statement = sql.nullKeyScan(split).prepare(connection, settings.dialect(), settings.fetchSize());
        rows = statement.executeQuery();
        ModelColumns rowColumns = ModelColumns.of(rows.getMetaData());
        if (!rowColumns.sameNames(sql.columns())) {
            throw new SQLException("the columns of the model changed during split " + split.splitId() + " of run " + settings.runId());
        }
        types = rowColumns.types();
    }

    @Override
    public void close() {
        try {
            if (rows != null) {
                rows.close();
            }
            if (statement != null) {
                statement.close();
            }
        } catch (SQLException e) {
            // The connection goes next and takes the statement with it.
        }
        rows = null;
        statement = null;
        SplitScan.closeQuietly(connection);
    }
}
