package io.backflow.source.split;

import io.backflow.source.SyncType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Writes {@link WarehouseSplit}s into checkpoints, and (as {@link #toBase64}) into the ledger.
 * Strings are length-prefixed UTF-8 (positions with long text keys can exceed writeUTF's 64 KB).
 *
 * <p>Version 2 appends the split's kind and its {@code cursorAfter} bound to the version 1
 * fields; version 3 appends the retry keys (a count, then each key); version 4 appends the
 * start mark; version 5 appends the run id. Version 1 bytes are still read, as {@link SplitKind#KEYSET} splits, version 2 bytes
 * as splits without retry keys, and version 1 to 3 bytes as splits without a start mark, which
 * keep the exclusive bounds they were planned with; bytes before version 5 have no run id (the
 * restoring job gives them its run).
 */
public final class WarehouseSplitSerializer implements SimpleVersionedSerializer<WarehouseSplit> {
    public static final WarehouseSplitSerializer INSTANCE = new WarehouseSplitSerializer();

    private static final int VERSION = 5;

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
        out.writeInt(split.retryKeys().size());
        for (String key : split.retryKeys()) {
            writeString(out, key);
        }
        writeString(out, split.startMark());
        writeString(out, split.runId());
        return out.getCopyOfBuffer();
    }

    @Override
    public WarehouseSplit deserialize(int version, byte[] serialized) throws IOException {
        if (version < 1 || version > VERSION) {
            throw new IOException("unknown WarehouseSplit serializer version " + version + " (this build reads 1 to " + VERSION + ")");
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
        List<String> retryKeys = List.of();
        if (version >= 3) {
            int count = in.readInt();
            if (count < 0) {
                throw new IOException("negative retry key count " + count + " in split " + splitId);
            }
            String[] keys = new String[count];
            for (int i = 0; i < count; i++) {
                keys[i] = readString(in);
            }
            retryKeys = Arrays.asList(keys);
        }
        String startMark = version >= 4 ? readString(in) : null;
        String runId = version >= 5 ? readString(in) : null;
        return new WarehouseSplit(splitId, kind, syncType, rangeStart, rangeEnd, highWaterMark, cursorAfter, position, estimatedRemaining, finished,
                retryKeys, startMark, runId);
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
