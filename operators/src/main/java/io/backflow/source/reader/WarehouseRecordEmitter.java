package io.backflow.source.reader;

import io.backflow.source.SourceRow;
import io.backflow.source.metrics.WarehouseReaderMetrics;
import io.backflow.source.split.SplitKind;
import io.backflow.source.split.WarehouseSplitState;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.connector.base.source.reader.RecordEmitter;

/**
 * Hands rows downstream and moves the split's state to each row as it goes, the way the Kafka
 * source moves its offset: a checkpoint taken between two rows then resumes exactly after the
 * first.
 */
final class WarehouseRecordEmitter implements RecordEmitter<SourceRow, SourceRow, WarehouseSplitState> {
    private final WarehouseReaderMetrics metrics;

    WarehouseRecordEmitter(WarehouseReaderMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void emitRecord(SourceRow row, SourceOutput<SourceRow> output, WarehouseSplitState state) {
        output.collect(row);
        if (row.isSplitEnd()) {
            state.endEmitted();
        } else {
            state.rowEmitted(row.positionValue());
            // NULL_KEYS and RETRY_KEYS positions are counts, not keyset positions to show.
            metrics.rowEmitted(state.split().kind() == SplitKind.KEYSET ? row.positionValue() : null);
        }
    }
}
