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
    /** Rows emitted since this state was made (this run of the split, not before a restore). */
    private long rowsEmitted;

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
        rowsEmitted++;
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

    /**
     * The split's rows were counted after it began: what remains is that count less the rows
     * emitted since. Returns the new estimate, or -1 when the split already had one or is finished.
     */
    public long rowsCounted(long rows) {
        if (finished || estimatedRemaining >= 0) {
            return -1;
        }
        estimatedRemaining = Math.max(0, rows - rowsEmitted);
        return estimatedRemaining;
    }

    /** The split as it should be checkpointed now. */
    public WarehouseSplit toSplit() {
        return split.withProgress(Position.encoded(position), estimatedRemaining, finished);
    }
}
