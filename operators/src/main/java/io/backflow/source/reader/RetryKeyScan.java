package io.backflow.source.reader;

import io.backflow.jdbc.Position;
import io.backflow.jdbc.PositionCodec;
import io.backflow.source.SourceRow;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.sql.SplitSql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads the RETRY_KEYS split: looks its keys up {@value #CHUNK} at a time (see
 * {@link SplitSql#retryKeys}), with no cursor or high-water-mark condition, so a retried row is
 * sent as it is now; a key without a row (deleted since) yields nothing.
 *
 * <p>Position: every row of a chunk carries the index of the chunk's first key ("the keys before
 * it are done"), and the split's end marker the number of keys. A restored split looks up again
 * from the chunk its position names: rows of the chunk that was being read when the checkpoint was
 * taken may be sent twice, with the same values and so the same messageId, which downstream dedup
 * absorbs. A key's rows have no order of their own to resume inside a chunk, which is why the
 * position moves chunk by chunk.
 */
final class RetryKeyScan extends JdbcScan {
    /** Keys per look-up query: small enough for any database's parameter limit with wide keys. */
    static final int CHUNK = 200;

    private final List<String> keys;
    /** The first key of the chunk being read, or (between chunks) the next key to look up. */
    private int keysDone;
    private int chunkEnd;

    private RetryKeyScan(WarehouseSourceSettings settings, WarehouseSplit split, Connection connection, SplitSql sql) {
        super(settings, split, connection, sql, WarehouseSplit.rowsEmittedPosition(split.keysDone()));
        this.keys = split.retryKeys();
        this.keysDone = split.keysDone();
    }

    static RetryKeyScan open(WarehouseSourceSettings settings, WarehouseSplit split) throws SQLException {
        return JdbcScan.open(settings, split, RetryKeyScan::new);
    }

    @Override
    public boolean read(int maxRows, Consumer<SourceRow> sink) throws SQLException {
        int read = 0;
        while (read < maxRows) {
            if (rows == null) {
                if (keysDone >= keys.size()) {
                    return true;
                }
                chunkEnd = Math.min(keys.size(), keysDone + CHUNK);
                List<Object[]> chunk = new ArrayList<>(chunkEnd - keysDone);
                for (int i = keysDone; i < chunkEnd; i++) {
                    chunk.add(PositionCodec.decode(keys.get(i)));
                }
                execute(sql.retryKeys(split, chunk));
            }
            if (rows.next()) {
                sink.accept(SourceRow.of(split.runId(), split.splitId(), columns, values(), position, (byte) 0));
                read++;
            } else {
                closeQuery();
                keysDone = chunkEnd;
                position = Position.ofEncoded(WarehouseSplit.rowsEmittedPosition(keysDone));
            }
        }
        return false;
    }
}
