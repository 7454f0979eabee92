package io.backflow.source.split;

import io.backflow.source.SyncType;
import java.io.Serializable;
import java.util.Objects;
import org.apache.flink.api.connector.source.SourceSplit;

/**
 * One independently readable part of a sync run, and (in checkpoints) how far it was read.
 *
 * <p>A split reads the rows of the model within its scope in keyset order, strictly after
 * {@link #position()}: FULL splits in primary-key order, optionally limited to a range
 * {@code [rangeStart, rangeEnd)} of a single integer key (a null bound is open);
 * INCREMENTAL splits in {@code (cursor, key...)} order up to the {@link #highWaterMark()}.
 * Positions and the high-water mark are {@link io.backflow.jdbc.PositionCodec} strings.
 */
public final class WarehouseSplit implements SourceSplit, Serializable {
    private static final long serialVersionUID = 1L;

    private final String splitId;
    private final SyncType syncType;
    private final Long rangeStart;
    private final Long rangeEnd;
    private final String highWaterMark;
    private final String position;
    private final long estimatedRemaining;
    private final boolean finished;

    public WarehouseSplit(
            String splitId,
            SyncType syncType,
            Long rangeStart,
            Long rangeEnd,
            String highWaterMark,
            String position,
            long estimatedRemaining,
            boolean finished) {
        this.splitId = Objects.requireNonNull(splitId, "splitId");
        this.syncType = Objects.requireNonNull(syncType, "syncType");
        this.rangeStart = rangeStart;
        this.rangeEnd = rangeEnd;
        this.highWaterMark = highWaterMark;
        this.position = position;
        this.estimatedRemaining = estimatedRemaining;
        this.finished = finished;
    }

    @Override
    public String splitId() {
        return splitId;
    }

    public SyncType syncType() {
        return syncType;
    }

    /** Inclusive lower bound of the single integer key, or null for none. */
    public Long rangeStart() {
        return rangeStart;
    }

    /** Exclusive upper bound of the single integer key, or null for none. */
    public Long rangeEnd() {
        return rangeEnd;
    }

    /**
     * The cursor's upper bound as a one-value position, or null: no cursor, or (FULL) no row
     * with a settled cursor, in which case only rows with a NULL cursor are in scope.
     */
    public String highWaterMark() {
        return highWaterMark;
    }

    /** The position of the last row read (or to start after), or null to start at the beginning. */
    public String position() {
        return position;
    }

    /** Rows estimated still to read, or -1 when not counted. */
    public long estimatedRemaining() {
        return estimatedRemaining;
    }

    /** True once the split's end marker was emitted: a restored reader then emits nothing more. */
    public boolean isFinished() {
        return finished;
    }

    /** This split advanced to a new position. */
    public WarehouseSplit withProgress(String newPosition, long newEstimatedRemaining, boolean nowFinished) {
        return new WarehouseSplit(splitId, syncType, rangeStart, rangeEnd, highWaterMark, newPosition, newEstimatedRemaining, nowFinished);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof WarehouseSplit)) {
            return false;
        }
        WarehouseSplit that = (WarehouseSplit) o;
        return splitId.equals(that.splitId)
                && syncType == that.syncType
                && Objects.equals(rangeStart, that.rangeStart)
                && Objects.equals(rangeEnd, that.rangeEnd)
                && Objects.equals(highWaterMark, that.highWaterMark)
                && Objects.equals(position, that.position)
                && estimatedRemaining == that.estimatedRemaining
                && finished == that.finished;
    }

    @Override
    public int hashCode() {
        return Objects.hash(splitId, syncType, rangeStart, rangeEnd, highWaterMark, position, estimatedRemaining, finished);
    }

    /** Without positions: keys can be personal data. */
    @Override
    public String toString() {
        return "WarehouseSplit{" + splitId + ", " + syncType
                + (rangeStart == null && rangeEnd == null ? "" : ", range=[" + rangeStart + ", " + rangeEnd + ")")
                + (position == null ? ", from start" : ", resumed")
                + (finished ? ", finished" : "") + "}";
    }
}
