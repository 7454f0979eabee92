package io.backflow.sink.http;

import io.backflow.sink.DeliveryEntry;
import io.backflow.model.MarkRow;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.base.sink.writer.AsyncSinkWriterStateSerializer;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;

/**
 * Versioned serializer for the writer's buffered entries. The writer drains its buffer before
 * every checkpoint, so the state is normally empty, but a savepoint must still be readable by
 * every later Backflow: bump {@link #VERSION} and keep a reader for each older one.
 */
public final class DeliveryEntryStateSerializer extends AsyncSinkWriterStateSerializer<DeliveryEntry> {
    static final int VERSION = 3;
    /** The version being read: the base class does not pass it to {@link #deserializeRequestFromStream}. */
    private static final ThreadLocal<Integer> READING = ThreadLocal.withInitial(() -> VERSION);

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public BufferedRequestState<DeliveryEntry> deserialize(int version, byte[] serialized) throws IOException {
        if (version < 1 || version > VERSION) {
            throw new IOException("Unknown HTTP sink writer state version " + version + "; this Backflow reads versions 1 to " + VERSION);
        }
        READING.set(version);
        try {
            return super.deserialize(version, serialized);
        } finally {
            READING.remove();
        }
    }

    @Override
    protected void serializeRequestToStream(DeliveryEntry entry, DataOutputStream out) throws IOException {
        writeNullable(out, entry.key());
        writeNullable(out, entry.messageId());
        out.writeInt(entry.payload().length);
        out.write(entry.payload());
        writeNullable(out, entry.keyPosition());
        out.writeBoolean(entry.mark() != null);
        if (entry.mark() != null) {
            out.writeLong(entry.mark().key());
            out.writeLong(entry.mark().idHigh());
            out.writeLong(entry.mark().idLow());
        }
    }

    @Override
    protected DeliveryEntry deserializeRequestFromStream(long requestSize, DataInputStream in) throws IOException {
        // Version 2 appended the row's key values, version 3 its identity at the high-water mark.
        String key = readNullable(in);
        String messageId = readNullable(in);
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        String keyPosition = READING.get() >= 2 ? readNullable(in) : null;
        MarkRow mark = null;
        if (READING.get() >= 3 && in.readBoolean()) {
            mark = new MarkRow(in.readLong(), in.readLong(), in.readLong());
        }
        return new DeliveryEntry(key, messageId, payload, keyPosition, mark);
    }

    // Raw UTF-8 with a length prefix: keys are not bounded by writeUTF's 64 KB limit.
    private static void writeNullable(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
        } else {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            out.writeInt(b.length);
            out.write(b);
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        int len = in.readInt();
        if (len < 0) {
            return null;
        }
        byte[] b = new byte[len];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
