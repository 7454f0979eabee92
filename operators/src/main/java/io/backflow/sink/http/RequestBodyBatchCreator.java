package io.backflow.sink.http;

import io.backflow.sink.DeliveryEntry;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.connector.base.sink.writer.Batch;
import org.apache.flink.connector.base.sink.writer.BatchCreator;
import org.apache.flink.connector.base.sink.writer.RequestBuffer;
import org.apache.flink.connector.base.sink.writer.RequestEntryWrapper;
import org.apache.flink.connector.base.sink.writer.strategy.RequestInfo;

/**
 * Takes events from the head of the buffer while a request carrying them, the destination's
 * wrapper and a separator per event included, stays within {@code maxBatchBytes}: destinations
 * limit the body, not the payloads. The destination cuts its own requests exactly; this keeps a
 * batch near one request.
 */
final class RequestBodyBatchCreator implements BatchCreator<DeliveryEntry> {
    private final long maxBatchBytes;
    private final int overheadBytes;

    RequestBodyBatchCreator(long maxBatchBytes, int overheadBytes) {
        this.maxBatchBytes = maxBatchBytes;
        this.overheadBytes = overheadBytes;
    }

    @Override
    public Batch<DeliveryEntry> createNextBatch(RequestInfo requestInfo, RequestBuffer<DeliveryEntry> buffer) {
        List<DeliveryEntry> batch = new ArrayList<>(Math.min(requestInfo.getBatchSize(), buffer.size()));
        long payloadBytes = 0;
        long bodyBytes = overheadBytes;
        while (batch.size() < requestInfo.getBatchSize() && !buffer.isEmpty()) {
            RequestEntryWrapper<DeliveryEntry> next = buffer.peek();
            long added = next.getSize() + (batch.isEmpty() ? 0 : 1);
            // The builder guarantees one event always fits; the check on an empty batch only
            // guards against an endless loop should that ever change.
            if (!batch.isEmpty() && bodyBytes + added > maxBatchBytes) {
                break;
            }
            buffer.poll();
            batch.add(next.getRequestEntry());
            payloadBytes += next.getSize();
            bodyBytes += added;
        }
        return new Batch<>(batch, payloadBytes);
    }
}
