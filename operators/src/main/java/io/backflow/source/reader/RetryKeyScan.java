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
final class RetryKeyScan implements RowScan {
    /** Keys per look-up query: small enough for any database's parameter limit with wide keys. */
    static final int CHUNK = 200;

    private final WarehouseSourceSettings settings;
    private final WarehouseSplit split;
    private final Connection connection;
    private final SplitSql sql;
    private final String[] columns;
    private final List<String> keys;
    private PreparedStatement statement;
    private ResultSet rows;
    private int[] types;
    /** The first key of the chunk being read, or (between chunks) the next key to look up. */
    private int keysDone;
    private int chunkEnd;
    private String position;

    private RetryKeyScan(WarehouseSourceSettings settings, WarehouseSplit split, Connection connection, SplitSql sql) {
        this.settings = settings;
        this.split = split;
        this.connection = connection;
        this.sql = sql;
        this.columns = sql.columns().names();
        this.keys = split.retryKeys();
        this.keysDone = split.keysDone();
        this.position = WarehouseSplit.rowsEmittedPosition(keysDone);
    }

    static RetryKeyScan open(WarehouseSourceSettings settings, WarehouseSplit split) throws SQLException {
        Connection connection = settings.endpoint().open();
        try {
            settings.dialect().beginStreamingRead(connection);
            SplitSql sql = new SplitSql(settings, ModelColumns.describe(connection, settings));
            return new RetryKeyScan(settings, split, connection, sql);
        } catch (SQLException | RuntimeException e) {
            SplitScan.closeQuietly(connection);
            throw e;
        }
    }

    @Override
    public String splitId() {
        return split.splitId();
    }

    /** The number of keys done as a count position; once every key is done, the end marker's position. */
    @Override
    public String position() {
        return position;
    }

    @Override
    public boolean read(int maxRows, Consumer<SourceRow> sink) throws SQLException {
        int read = 0;
        while (read < maxRows) {
            if (rows == null) {
                if (keysDone >= keys.size()) {
                    return true;
                }
                openChunk();
            }
            if (rows.next()) {
                Object[] values = new Object[columns.length];
                for (int i = 0; i < values.length; i++) {
                    values[i] = JdbcValues.read(rows, i + 1, types[i]);
                }
                sink.accept(SourceRow.row(split.splitId(), columns, values, position));
                read++;
            } else {
                closeChunk();
                keysDone = chunkEnd;
                position = WarehouseSplit.rowsEmittedPosition(keysDone);
            }
        }
        return false;
    }

    private void openChunk() throws SQLException {
        chunkEnd = Math.min(keys.size(), keysDone + CHUNK);
        List<Object[]> chunk = new ArrayList<>(chunkEnd - keysDone);
        for (int i = keysDone; i < chunkEnd; i++) {
            chunk.add(PositionCodec.decode(keys.get(i)));
        }
        statement = sql.retryKeys(chunk).prepare(connection, settings.dialect(), settings.fetchSize());
        rows = statement.executeQuery();
        ModelColumns rowColumns = ModelColumns.of(rows.getMetaData());
        if (!rowColumns.sameNames(sql.columns())) {
            throw new SQLException("the columns of the model changed during split " + split.splitId() + " of run " + settings.runId());
        }
        types = rowColumns.types();
    }

    private void closeChunk() throws SQLException {
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
            closeChunk();
        } catch (SQLException e) {
            // The connection goes next and takes the statement with it.
        }
        SplitScan.closeQuietly(connection);
    }
}
