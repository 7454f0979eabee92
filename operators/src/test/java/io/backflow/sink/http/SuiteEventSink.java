package io.backflow.sink.http;

import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.DeliveryCommittable;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Presents {@link HttpDestinationSink} as a sink of {@link SuiteEvent}s for Flink's sink test
 * suite: every call goes to the real sink and writer, each element converted on the way in.
 * Writer state, committables and committer are the real sink's.
 */
final class SuiteEventSink implements Sink<SuiteEvent>,
        SupportsWriterState<SuiteEvent, BufferedRequestState<DeliveryEntry>>, SupportsCommitter<DeliveryCommittable> {
    private static final long serialVersionUID = 1L;

    private final HttpDestinationSink sink;

    SuiteEventSink(HttpDestinationSink sink) {
        this.sink = sink;
    }

    @Override
    public Writer createWriter(WriterInitContext context) {
        return new Writer(sink.createWriter(context));
    }

    @Override
    public Writer restoreWriter(WriterInitContext context, Collection<BufferedRequestState<DeliveryEntry>> state) {
        return new Writer(sink.restoreWriter(context, state));
    }

    @Override
    public SimpleVersionedSerializer<BufferedRequestState<DeliveryEntry>> getWriterStateSerializer() {
        return sink.getWriterStateSerializer();
    }

    @Override
    public Committer<DeliveryCommittable> createCommitter(CommitterInitContext context) {
        return sink.createCommitter(context);
    }

    @Override
    public SimpleVersionedSerializer<DeliveryCommittable> getCommittableSerializer() {
        return sink.getCommittableSerializer();
    }

    static final class Writer implements StatefulSinkWriter<SuiteEvent, BufferedRequestState<DeliveryEntry>>,
            CommittingSinkWriter<SuiteEvent, DeliveryCommittable> {
        private final HttpDestinationWriter writer;

        Writer(HttpDestinationWriter writer) {
            this.writer = writer;
        }

        @Override
        public void write(SuiteEvent element, Context context) throws IOException, InterruptedException {
            writer.write(element.toSyncRecord(), context);
        }

        @Override
        public void flush(boolean endOfInput) throws InterruptedException {
            writer.flush(endOfInput);
        }

        @Override
        public void writeWatermark(Watermark watermark) throws IOException, InterruptedException {
            writer.writeWatermark(watermark);
        }

        @Override
        public List<BufferedRequestState<DeliveryEntry>> snapshotState(long checkpointId) {
            return writer.snapshotState(checkpointId);
        }

        @Override
        public Collection<DeliveryCommittable> prepareCommit() throws java.io.IOException {
            return writer.prepareCommit();
        }

        @Override
        public void close() {
            writer.close();
        }
    }
}
