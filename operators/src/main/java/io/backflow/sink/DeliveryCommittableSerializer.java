package io.backflow.sink;

import io.backflow.model.MarkRows;
import io.backflow.model.RowError;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Versioned serializer for {@link DeliveryCommittable}; keep reading every version ever written.
 * Version 2 added each row error's key values, version 3 the rows resolved at the high-water mark,
 * version 4 the stage of the row errors a writer staged ({@link RowErrorStage}).
 */
public final class DeliveryCommittableSerializer implements SimpleVersionedSerializer<DeliveryCommittable> {
    static final int VERSION = 4;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(DeliveryCommittable c) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        out.writeUTF(c.runId());
        out.writeInt(c.subtask());
        out.writeLong(c.checkpointId());
        out.writeLong(c.read());
        out.writeLong(c.succeeded());
        out.writeLong(c.failed());
        out.writeLong(c.invalid());
        out.writeInt(c.positions().size());
        for (Map.Entry<String, String> e : c.positions().entrySet()) {
            out.writeUTF(e.getKey());
            writeNullable(out, e.getValue());
        }
        out.writeInt(c.finishedSplits().size());
        for (String s : c.finishedSplits()) {
            out.writeUTF(s);
        }
        out.writeInt(c.errors().size());
        for (RowError e : c.errors()) {
            out.writeByte(e.kind().ordinal());
            writeNullable(out, e.key());
            writeNullable(out, e.messageId());
            writeNullable(out, e.reason());
            writeNullable(out, e.keyPosition());
        }
        byte[] marks = c.markRows().bytes();
        out.writeInt(marks.length);
        out.write(marks);
        writeNullable(out, c.errorStage());
        out.writeLong(c.stagedErrors());
        return out.getCopyOfBuffer();
    }

    @Override
    public DeliveryCommittable deserialize(int version, byte[] serialized) throws IOException {
        if (version < 1 || version > VERSION) {
            throw new IOException("Unknown ledger committable version " + version + "; this Backflow reads versions 1 to " + VERSION);
        }
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        String runId = in.readUTF();
        int subtask = in.readInt();
        long checkpointId = in.readLong();
        long read = in.readLong();
        long succeeded = in.readLong();
        long failed = in.readLong();
        long invalid = in.readLong();
        int n = in.readInt();
        Map<String, String> positions = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            positions.put(in.readUTF(), readNullable(in));
        }
        n = in.readInt();
        Set<String> finished = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
            finished.add(in.readUTF());
        }
        n = in.readInt();
        List<RowError> errors = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            RowError.Kind kind = RowError.Kind.values()[in.readByte()];
            String key = readNullable(in);
            String messageId = readNullable(in);
            String reason = readNullable(in);
            // Version 2 added the key's typed values, for retrying failed rows by key.
            errors.add(new RowError(kind, key, messageId, reason, version >= 2 ? readNullable(in) : null));
        }
        MarkRows markRows = MarkRows.EMPTY;
        if (version >= 3) {
            byte[] packed = new byte[in.readInt()];
            in.readFully(packed);
            markRows = MarkRows.fromBytes(packed);
        }
        String errorStage = null;
        long stagedErrors = 0;
        if (version >= 4) {
            errorStage = readNullable(in);
            stagedErrors = in.readLong();
        }
        return new DeliveryCommittable(runId, subtask, checkpointId, read, succeeded, failed, invalid, positions, finished, errors, markRows,
                errorStage, stagedErrors);
    }

    // Long error bodies can exceed writeUTF's 64 KB limit, so strings are written as raw UTF-8.
    static void writeNullable(DataOutputSerializer out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
        } else {
            byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.writeInt(b.length);
            out.write(b);
        }
    }

    static String readNullable(DataInputDeserializer in) throws IOException {
        int len = in.readInt();
        if (len < 0) {
            return null;
        }
        byte[] b = new byte[len];
        in.readFully(b);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }
}
