package io.backflow.source.reader;

import io.backflow.jdbc.Position;
import io.backflow.source.SourceRow;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.sql.SplitSql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Consumer;

/**
 * Reads one split over its own connection, page by page in keyset order, streaming each page from
 * the driver row by row: memory holds one fetch of rows, never a page. Each page starts strictly
 * after the last row read, so pages never overlap or skip rows however many share a cursor value.
 */
final class SplitScan extends JdbcScan {
    private final int[] positionIndexes;
    private int rowsInPage;

    private SplitScan(WarehouseSourceSettings settings, WarehouseSplit split, Connection connection, SplitSql sql) {
        super(settings, split, connection, sql, split.position());
        this.positionIndexes = sql.positionIndexes(split.syncType());
    }

    static SplitScan open(WarehouseSourceSettings settings, WarehouseSplit split) throws SQLException {
        return JdbcScan.open(settings, split, SplitScan::new);
    }

    @Override
    public boolean read(int maxRows, Consumer<SourceRow> sink) throws SQLException {
        int read = 0;
        while (read < maxRows) {
            if (rows == null) {
                execute(sql.page(split, Position.encoded(position)));
                rowsInPage = 0;
            }
            if (rows.next()) {
                sink.accept(row());
                read++;
                rowsInPage++;
            } else {
                boolean lastPage = rowsInPage < settings.pageSize();
                closeQuery();
                if (lastPage) {
                    return true;
                }
            }
        }
        return false;
    }

    private SourceRow row() throws SQLException {
        Object[] values = values();
        Object[] at = new Object[positionIndexes.length];
        for (int i = 0; i < at.length; i++) {
            at[i] = values[positionIndexes[i]];
        }
        position = Position.of(at);
        return SourceRow.of(split.runId(), split.splitId(), columns, values, position, marks(values));
    }
}
