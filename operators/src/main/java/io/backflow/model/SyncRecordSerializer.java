package io.backflow.model;

import io.backflow.jdbc.Position;
import io.backflow.jdbc.ValueCodec;
import java.io.IOException;
import java.lang.reflect.Type;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Serializes {@link SyncRecord}s when the mapping and the sink are not chained. Records only
 * travel between the tasks of one job and are never kept in state (the sinks keep their own entry
 * types), so the format may change between builds: this one starts with the run id.
 */
public final class SyncRecordSerializer extends TypeSerializerSingleton<SyncRecord> {
    private static final long serialVersionUID = 1L;
    private static final SyncRecord.Kind[] KINDS = SyncRecord.Kind.values();

    public static final SyncRecordSerializer INSTANCE = new SyncRecordSerializer();

    // A record's fields are never changed after it is made, and its payload is never written to.
    @Override public boolean isImmutableType() { return true; }
    @Override public SyncRecord createInstance() { return null; }
    @Override public int getLength() { return -1; }
    @Override public SyncRecord copy(SyncRecord r) { return r; }
    @Override public SyncRecord copy(SyncRecord r, SyncRecord reuse) { return r; }

    @Override
    public void serialize(SyncRecord r, DataOutputView out) throws IOException {
        ValueCodec.writeString(r.runId(), out);
        out.writeByte(r.kind().ordinal());
        ValueCodec.writeString(r.splitId(), out);
        Position.write(r.positionValue(), out);
        ValueCodec.writeString(r.key(), out);
        ValueCodec.writeString(r.messageId(), out);
        ValueCodec.writeBytes(r.payload(), out);
        ValueCodec.writeString(r.reason(), out);
        Position.write(r.keyPositionValue(), out);
        MarkRow mark = r.mark();
        out.writeBoolean(mark != null);
        if (mark != null) {
            out.writeLong(mark.key());
            out.writeLong(mark.idHigh());
            out.writeLong(mark.idLow());
        }
    }

    @Override
    public SyncRecord deserialize(DataInputView in) throws IOException {
        String runId = ValueCodec.readString(in);
        int kind = in.readByte();
        if (kind < 0 || kind >= KINDS.length) {
            throw new IOException("unknown record kind " + kind);
        }
        String splitId = ValueCodec.readString(in);
        Position position = Position.read(in);
        String key = ValueCodec.readString(in);
        String messageId = ValueCodec.readString(in);
        byte[] payload = ValueCodec.readBytes(in);
        String reason = ValueCodec.readString(in);
        Position keyPosition = Position.read(in);
        MarkRow mark = in.readBoolean() ? new MarkRow(in.readLong(), in.readLong(), in.readLong()) : null;
        return SyncRecord.of(runId, KINDS[kind], splitId, position, key, messageId, payload, reason, keyPosition, mark);
    }

    @Override
    public SyncRecord deserialize(SyncRecord reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public TypeSerializerSnapshot<SyncRecord> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The serializer's snapshot: it has no configuration, only its version. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<SyncRecord> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }

    /** {@code @TypeInfo} factory of {@link SyncRecord}. */
    public static final class Factory extends TypeInfoFactory<SyncRecord> {
        @Override
        public TypeInformation<SyncRecord> createTypeInfo(Type t, Map<String, TypeInformation<?>> genericParameters) {
            return new RecordTypeInfo<>(SyncRecord.class, INSTANCE);
        }
    }
}
