package io.backflow.source.split;

import io.backflow.source.SyncType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Writes {@link WarehouseSplit}s into checkpoints. Version 1; later versions must keep reading it.
 * Strings are length-prefixed UTF-8 (positions with long text keys can exceed writeUTF's 64 KB).
 */
public final class WarehouseSplitSerializer implements SimpleVersionedSerializer<WarehouseSplit> {
    public static final WarehouseSplitSerializer INSTANCE = new WarehouseSplitSerializer();

    private static final int VERSION = 1;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(WarehouseSplit split) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(128);
        writeString(out, split.splitId());
        writeString(out, split.syncType().name());
        writeLong(out, split.rangeStart());
        writeLong(out, split.rangeEnd());
        writeString(out, split.highWaterMark());
        writeString(out, split.position());
        out.writeLong(split.estimatedRemaining());
        out.writeBoolean(split.isFinished());
        return out.getCopyOfBuffer();
    }

    @Override
    public WarehouseSplit deserialize(int version, byte[] serialized) throws IOException {
        if (version != 1) {
            throw new IOException("unknown WarehouseSplit serializer version " + version + " (this build reads 1)");
        }
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        String splitId = readString(in);
        SyncType syncType = SyncType.valueOf(readString(in));
        Long rangeStart = readLong(in);
        Long rangeEnd = readLong(in);
        String highWaterMark = readString(in);
        String position = readString(in);
        long estimatedRemaining = in.readLong();
        boolean finished = in.readBoolean();
        return new WarehouseSplit(splitId, syncType, rangeStart, rangeEnd, highWaterMark, position, estimatedRemaining, finished);
    }

    /** Writes a nullable string, length-prefixed UTF-8. */
    public static void writeString(DataOutputSerializer out, String value) throws IOException {
        if (value == null) {
            out.writeInt(-1);
            return;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    /** Reads what {@link #writeString} wrote. */
    public static String readString(DataInputDeserializer in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void writeLong(DataOutputSerializer out, Long value) throws IOException {
        out.writeBoolean(value != null);
        if (value != null) {
            out.writeLong(value);
        }
    }

    private static Long readLong(DataInputDeserializer in) throws IOException {
        return in.readBoolean() ? in.readLong() : null;
    }
}
