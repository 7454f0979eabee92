package io.backflow.sink.http;

import io.backflow.sink.DeliveryEntry;
import io.backflow.model.SyncRecord;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.connector.base.sink.writer.ElementConverter;

/** Turns an EVENT record into the entry the writer buffers; the writer never hands it other kinds. */
final class DeliveryEntryConverter implements ElementConverter<SyncRecord, DeliveryEntry> {
    private static final long serialVersionUID = 1L;

    @Override
    public DeliveryEntry apply(SyncRecord record, SinkWriter.Context context) {
        if (record.kind() != SyncRecord.Kind.EVENT) {
            throw new IllegalArgumentException("Only EVENT records are sent, got " + record);
        }
        return new DeliveryEntry(record.key(), record.messageId(), record.payload(), record.keyPositionValue(), record.mark());
    }
}
