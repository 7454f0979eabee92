package io.backflow.source.reader;

import io.backflow.source.SourceRow;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.split.WarehouseSplit;
import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.flink.connector.base.source.reader.RecordsBySplits;
import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsChange;

/**
 * Runs on the fetcher thread: reads the assigned splits one at a time, a bounded batch of rows per
 * {@link #fetch()}, and after a split's last row adds its end marker and reports it finished.
 */
final class WarehouseSplitReader implements SplitReader<SourceRow, WarehouseSplit> {
    /** Rows per batch handed to the task thread; the queue holds only a couple of batches. */
    static final int MAX_BATCH = 1024;

    private final WarehouseSourceSettings settings;
    private final Deque<WarehouseSplit> pending = new ArrayDeque<>();
    private RowScan current;

    WarehouseSplitReader(WarehouseSourceSettings settings) {
        this.settings = settings;
    }

    @Override
    public RecordsWithSplitIds<SourceRow> fetch() throws IOException {
        RecordsBySplits.Builder<SourceRow> batch = new RecordsBySplits.Builder<>();
        if (current == null) {
            WarehouseSplit next = pending.poll();
            if (next == null) {
                return batch.build();
            }
            if (next.isFinished()) {
                // Restored after its end marker went out: nothing more to emit.
                batch.addFinishedSplit(next.splitId());
                return batch.build();
            }
            try {
                current = open(next);
            } catch (SQLException e) {
                throw failure(next.splitId(), next.runId(), e);
            }
        }
        String splitId = current.splitId();
        String runId = current.runId();
        try {
            boolean done = current.read(Math.min(settings.fetchSize(), MAX_BATCH), row -> batch.add(splitId, row));
            if (done) {
                batch.add(splitId, SourceRow.splitEnd(current.runId(), splitId, current.position()));
                batch.addFinishedSplit(splitId);
                closeCurrent();
            }
        } catch (SQLException | RuntimeException e) {
            closeCurrent();
            throw failure(splitId, runId, e);
        }
        return batch.build();
    }

    private RowScan open(WarehouseSplit split) throws SQLException {
        switch (split.kind()) {
            case NULL_KEYS:
                return NullKeyScan.open(settings, split);
            case RETRY_KEYS:
                return RetryKeyScan.open(settings, split);
            default:
                return SplitScan.open(settings, split);
        }
    }

    private IOException failure(String splitId, String runId, Exception e) {
        return new IOException("Reading split " + splitId + " of run " + (runId != null ? runId : settings.runId()) + " from "
                + settings.endpoint().redactedUrl() + " failed: " + e.getMessage(), e);
    }

    @Override
    public void handleSplitsChanges(SplitsChange<WarehouseSplit> splitsChanges) {
        if (!(splitsChanges instanceof SplitsAddition)) {
            throw new UnsupportedOperationException("unsupported split change " + splitsChanges.getClass().getSimpleName());
        }
        pending.addAll(splitsChanges.splits());
    }

    @Override
    public void wakeUp() {
        // fetch() returns after one bounded batch, so there is nothing to interrupt.
    }

    @Override
    public void close() {
        closeCurrent();
    }

    private void closeCurrent() {
        if (current != null) {
            current.close();
            current = null;
        }
    }
}
