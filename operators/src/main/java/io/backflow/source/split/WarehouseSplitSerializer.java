package io.backflow.source.split;

import io.backflow.source.SyncType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Writes {@link WarehouseSplit}s into checkpoints, and (as {@link #toBase64}) into the ledger.
 * Strings are length-prefixed UTF-8 (positions with long text keys can exceed writeUTF's 64 KB).
 *
 * <p>Version 2 appends the split's kind and its {@code cursorAfter} bound to the version 1
 * fields; version 1 bytes are still read, as {@link SplitKind#KEYSET} splits.
 */
public final class WarehouseSplitSerializer implements SimpleVersionedSerializer<WarehouseSplit> {
    public static final WarehouseSplitSerializer INSTANCE = new WarehouseSplitSerializer();

    private static final int VERSION = 2;

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
        writeString(out, split.kind().name());
        writeString(out, split.cursorAfter());
        return out.getCopyOfBuffer();
    }

    @Override
    public WarehouseSplit deserialize(int version, byte[] serialized) throws IOException {
        if (version != 1 && version != 2) {
            throw new IOException("unknown WarehouseSplit serializer version " + version + " (this build reads 1 and 2)");
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
        SplitKind kind = SplitKind.KEYSET;
        String cursorAfter = null;
        if (version >= 2) {
            kind = SplitKind.valueOf(readString(in));
            cursorAfter = readString(in);
        }
        return new WarehouseSplit(splitId, kind, syncType, rangeStart, rangeEnd, highWaterMark, cursorAfter, position, estimatedRemaining, finished);
    }

    /**
     * One split as a self-describing string, for a ledger to keep per split and hand back to
     * {@link io.backflow.source.WarehouseSourceBuilder#resumeSplits}: Base64 of the serializer
     * version (4 bytes, big-endian) followed by the serialized split.
     */
    public static String toBase64(WarehouseSplit split) {
        try {
            byte[] bytes = INSTANCE.serialize(split);
            DataOutputSerializer out = new DataOutputSerializer(bytes.length + 4);
            out.writeInt(VERSION);
            out.write(bytes);
            return Base64.getEncoder().encodeToString(out.getCopyOfBuffer());
        } catch (IOException e) {
            // In-memory buffers do not fail.
            throw new IllegalStateException("could not serialize split " + split.splitId(), e);
        }
    }

    /** Reads what {@link #toBase64} wrote, in this or an older version. */
    public static WarehouseSplit fromBase64(String encoded) {
        if (encoded == null || encoded.isBlank()) {
            throw new IllegalArgumentException("split descriptor is empty");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(encoded.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("split descriptor is not Base64: " + e.getMessage(), e);
        }
        if (bytes.length < 4) {
            throw new IllegalArgumentException("split descriptor is too short (" + bytes.length + " bytes)");
        }
        try {
            DataInputDeserializer in = new DataInputDeserializer(bytes);
            int version = in.readInt();
            byte[] split = new byte[bytes.length - 4];
            in.readFully(split);
            return INSTANCE.deserialize(version, split);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("split descriptor is unreadable: " + e.getMessage(), e);
        }
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
