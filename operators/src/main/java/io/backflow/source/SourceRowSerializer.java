package io.backflow.source;

import io.backflow.jdbc.Position;
import io.backflow.jdbc.ValueCodec;
import io.backflow.model.RecordTypeInfo;
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
 * Serializes {@link SourceRow}s when the reader and the mapping are not chained (a user's
 * {@code pipeline.operator-chaining.enabled: false}, or a rescale between them). Rows only travel
 * between the tasks of one job and are never kept in state, so the format may change between
 * builds: this one writes the run id after the split id.
 */
public final class SourceRowSerializer extends TypeSerializerSingleton<SourceRow> {
    private static final long serialVersionUID = 1L;

    public static final SourceRowSerializer INSTANCE = new SourceRowSerializer();

    @Override public boolean isImmutableType() { return false; }
    @Override public SourceRow createInstance() { return null; }
    @Override public int getLength() { return -1; }

    @Override
    public SourceRow copy(SourceRow row) {
        if (row == null || row.isSplitEnd()) {
            return row;
        }
        return SourceRow.of(row.runId(), row.splitId(), row.columns(), ValueCodec.copy(row.values()), row.positionValue(), marks(row));
    }

    @Override
    public SourceRow copy(SourceRow row, SourceRow reuse) {
        return copy(row);
    }

    @Override
    public void serialize(SourceRow row, DataOutputView out) throws IOException {
        ValueCodec.writeString(row.runId(), out);
        ValueCodec.writeString(row.splitId(), out);
        out.writeBoolean(row.isSplitEnd());
        Position.write(row.positionValue(), out);
        if (row.isSplitEnd()) {
            return;
        }
        out.writeByte(marks(row));
        String[] columns = row.columns();
        out.writeInt(columns.length);
        for (String c : columns) {
            ValueCodec.writeString(c, out);
        }
        ValueCodec.writeArray(row.values(), out);
    }

    @Override
    public SourceRow deserialize(DataInputView in) throws IOException {
        String runId = ValueCodec.readString(in);
        String splitId = ValueCodec.readString(in);
        boolean splitEnd = in.readBoolean();
        Position position = Position.read(in);
        if (splitEnd) {
            return SourceRow.splitEnd(runId, splitId, position);
        }
        byte marks = in.readByte();
        String[] columns = new String[in.readInt()];
        for (int i = 0; i < columns.length; i++) {
            columns[i] = ValueCodec.readString(in);
        }
        return SourceRow.of(runId, splitId, columns, ValueCodec.readArray(in), position, marks);
    }

    @Override
    public SourceRow deserialize(SourceRow reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public TypeSerializerSnapshot<SourceRow> snapshotConfiguration() {
        return new Snapshot();
    }

    private static byte marks(SourceRow row) {
        return (byte) ((row.atStartMark() ? SourceRow.AT_START_MARK : 0) | (row.atHighWaterMark() ? SourceRow.AT_HIGH_WATER_MARK : 0));
    }

    /** The serializer's snapshot: it has no configuration, only its version. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<SourceRow> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }

    /** {@code @TypeInfo} factory of {@link SourceRow}. */
    public static final class Factory extends TypeInfoFactory<SourceRow> {
        @Override
        public TypeInformation<SourceRow> createTypeInfo(Type t, Map<String, TypeInformation<?>> genericParameters) {
            return new RecordTypeInfo<>(SourceRow.class, INSTANCE);
        }
    }
}
