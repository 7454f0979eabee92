package io.backflow.source.reader;

import io.backflow.jdbc.JdbcValues;
import io.backflow.jdbc.PositionCodec;
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
 * Reads one split over its own connection, page by page in keyset order, streaming each page from
 * the driver row by row: memory holds one fetch of rows, never a page. Each page starts strictly
 * after the last row read, so pages never overlap or skip rows however many share a cursor value.
 */
final class SplitScan implements RowScan {
    private final WarehouseSourceSettings settings;
    private final WarehouseSplit split;
    private final Connection connection;
    private final SplitSql sql;
    private final String[] columns;
    private final int[] positionIndexes;
    private PreparedStatement statement;
    private ResultSet page;
    private int[] pageTypes;
    private int rowsInPage;
    private String position;

    private SplitScan(WarehouseSourceSettings settings, WarehouseSplit split, Connection connection, SplitSql sql) {
        this.settings = settings;
        this.split = split;
        this.connection = connection;
        this.sql = sql;
        this.columns = sql.columns().names();
        this.positionIndexes = sql.positionIndexes(split.syncType());
        this.position = split.position();
    }

    static SplitScan open(WarehouseSourceSettings settings, WarehouseSplit split) throws SQLException {
        Connection connection = settings.endpoint().open();
        try {
            settings.dialect().beginStreamingRead(connection);
            SplitSql sql = new SplitSql(settings, ModelColumns.describe(connection, settings));
            return new SplitScan(settings, split, connection, sql);
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

    @Override
    public boolean read(int maxRows, Consumer<SourceRow> sink) throws SQLException {
        int read = 0;
        while (read < maxRows) {
            if (page == null) {
                openPage();
            }
            if (page.next()) {
                sink.accept(row());
                read++;
                rowsInPage++;
            } else {
                boolean lastPage = rowsInPage < settings.pageSize();
                closePage();
                if (lastPage) {
                    return true;
                }
            }
        }
        return false;
    }

    private void openPage() throws SQLException {
        statement = sql.page(split, position).prepare(connection, settings.dialect(), settings.fetchSize());
        page = statement.executeQuery();
        ModelColumns pageColumns = ModelColumns.of(page.getMetaData());
        if (!pageColumns.sameNames(sql.columns())) {
            throw new SQLException("the columns of the model changed during split " + split.splitId() + " of run " + settings.runId());
        }
        pageTypes = pageColumns.types();
        rowsInPage = 0;
    }

    private SourceRow row() throws SQLException {
        Object[] values = new Object[columns.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = JdbcValues.read(page, i + 1, pageTypes[i]);
        }
        Object[] at = new Object[positionIndexes.length];
        for (int i = 0; i < at.length; i++) {
            at[i] = values[positionIndexes[i]];
        }
        position = PositionCodec.encode(at);
        return SourceRow.row(split.splitId(), columns, values, position);
    }

    private void closePage() throws SQLException {
        try {
            if (page != null) {
                page.close();
            }
        } finally {
            page = null;
            if (statement != null) {
                statement.close();
                statement = null;
            }
        }
    }

    @Override
    public void close() {
        try {
            closePage();
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
