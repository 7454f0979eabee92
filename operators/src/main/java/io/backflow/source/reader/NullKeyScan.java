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
 * Reads the NULL_KEYS split: one streamed query over the rows in the run's scope that have a NULL
 * in a primary-key column (see {@link SplitSql#nullKeyScan}). Such rows have no keyset position,
 * so a row's position is the number of rows of this split emitted up to and including it.
 *
 * <p>A restored split re-runs the query and skips as many rows as its position counts. That is
 * exact only if those rows did not change in between (no insert, delete or cursor move among them):
 * otherwise a row may be emitted twice or not at all. These rows are never sent to a destination,
 * only counted invalid and recorded, so at worst the run's invalid count is off.
 */
final class NullKeyScan extends JdbcScan {
    private long emitted;

    private NullKeyScan(WarehouseSourceSettings settings, WarehouseSplit split, Connection connection, SplitSql sql) {
        super(settings, split, connection, sql, split.position());
        this.emitted = split.rowsEmitted();
    }

    static NullKeyScan open(WarehouseSourceSettings settings, WarehouseSplit split) throws SQLException {
        return JdbcScan.open(settings, split, NullKeyScan::new);
    }

    @Override
    public boolean read(int maxRows, Consumer<SourceRow> sink) throws SQLException {
        if (rows == null) {
            execute(sql.nullKeyScan(split));
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
            Object[] values = values();
            emitted++;
            position = Position.ofEncoded(WarehouseSplit.rowsEmittedPosition(emitted));
            sink.accept(SourceRow.of(split.runId(), split.splitId(), columns, values, position, marks(values)));
        }
        return false;
    }
}
