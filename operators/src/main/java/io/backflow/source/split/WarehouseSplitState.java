package io.backflow.source.split;

import io.backflow.jdbc.Position;

/**
 * The mutable progress of a split being read, updated by the record emitter for every row handed
 * downstream, so a checkpoint holds exactly the last emitted row's position.
 */
public final class WarehouseSplitState {
    private final WarehouseSplit split;
    private Position position;
    private long estimatedRemaining;
    private boolean finished;

    public WarehouseSplitState(WarehouseSplit split) {
        this.split = split;
        this.position = Position.ofEncoded(split.position());
        this.estimatedRemaining = split.estimatedRemaining();
        this.finished = split.isFinished();
    }

    public WarehouseSplit split() {
        return split;
    }

    public String position() {
        return Position.encoded(position);
    }

    /** A row at {@code newPosition} was emitted. */
    public void rowEmitted(Position newPosition) {
        this.position = newPosition;
        if (estimatedRemaining > 0) {
            estimatedRemaining--;
        }
    }

    /** The split's end marker was emitted. */
    public void endEmitted() {
        this.finished = true;
        this.estimatedRemaining = estimatedRemaining < 0 ? -1 : 0;
    }

    public boolean isFinished() {
        return finished;
    }

    public long estimatedRemaining() {
        return estimatedRemaining;
    }

    /** The split as it should be checkpointed now. */
    public WarehouseSplit toSplit() {
        return split.withProgress(Position.encoded(position), estimatedRemaining, finished);
    }
}
