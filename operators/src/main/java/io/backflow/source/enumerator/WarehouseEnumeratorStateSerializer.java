package io.backflow.source.enumerator;

import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.split.WarehouseSplitSerializer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Writes {@link WarehouseEnumeratorState} into checkpoints. Version 2 appends the current run and
 * the job's first run to version 1, which is still read (as a state without runs: the restoring
 * job's own run). Each split is stored with its own serializer version, so split format changes
 * (split version 2 added the NULL_KEYS kind) stay readable here without a new state version.
 */
public final class WarehouseEnumeratorStateSerializer implements SimpleVersionedSerializer<WarehouseEnumeratorState> {
    public static final WarehouseEnumeratorStateSerializer INSTANCE = new WarehouseEnumeratorStateSerializer();

    private static final int VERSION = 2;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(WarehouseEnumeratorState state) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        out.writeBoolean(state.planned());
        WarehouseSplitSerializer.writeString(out, state.highWaterMark());
        out.writeInt(state.unassigned().size());
        WarehouseSplitSerializer splits = WarehouseSplitSerializer.INSTANCE;
        for (WarehouseSplit split : state.unassigned()) {
            byte[] bytes = splits.serialize(split);
            out.writeInt(splits.getVersion());
            out.writeInt(bytes.length);
            out.write(bytes);
        }
        WarehouseSplitSerializer.writeString(out, state.runId());
        WarehouseSplitSerializer.writeString(out, state.jobRunId());
        return out.getCopyOfBuffer();
    }

    @Override
    public WarehouseEnumeratorState deserialize(int version, byte[] serialized) throws IOException {
        if (version < 1 || version > VERSION) {
            throw new IOException("unknown WarehouseEnumeratorState serializer version " + version + " (this build reads 1 to " + VERSION + ")");
        }
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        boolean planned = in.readBoolean();
        String highWaterMark = WarehouseSplitSerializer.readString(in);
        int count = in.readInt();
        List<WarehouseSplit> unassigned = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int splitVersion = in.readInt();
            byte[] bytes = new byte[in.readInt()];
            in.readFully(bytes);
            unassigned.add(WarehouseSplitSerializer.INSTANCE.deserialize(splitVersion, bytes));
        }
        String runId = version >= 2 ? WarehouseSplitSerializer.readString(in) : null;
        String jobRunId = version >= 2 ? WarehouseSplitSerializer.readString(in) : null;
        return new WarehouseEnumeratorState(planned, highWaterMark, unassigned, runId, jobRunId);
    }
}
