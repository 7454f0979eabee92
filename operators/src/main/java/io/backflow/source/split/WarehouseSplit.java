package io.backflow.source.split;

import io.backflow.jdbc.PositionCodec;
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
 *
 * <p>A {@link SplitKind#NULL_KEYS} split (id {@value #NULL_KEYS_ID}, at most one per run) reads
 * the rows in the run's scope that have a NULL in a primary-key column, so they reach the mapping
 * and are counted invalid instead of vanishing. Its position is the number of rows emitted so far
 * (a one-value long position, null for none); for INCREMENTAL runs its scope is the cursor range
 * {@code (cursorAfter, highWaterMark]}.
 */
public final class WarehouseSplit implements SourceSplit, Serializable {
    private static final long serialVersionUID = 2L;

    /** The id of the split that reads rows with a NULL key. */
    public static final String NULL_KEYS_ID = "null-keys";

    private final String splitId;
    private final SplitKind kind;
    private final SyncType syncType;
    private final Long rangeStart;
    private final Long rangeEnd;
    private final String highWaterMark;
    private final String cursorAfter;
    private final String position;
    private final long estimatedRemaining;
    private final boolean finished;

    /** A {@link SplitKind#KEYSET} split. */
    public WarehouseSplit(
            String splitId,
            SyncType syncType,
            Long rangeStart,
            Long rangeEnd,
            String highWaterMark,
            String position,
            long estimatedRemaining,
            boolean finished) {
        this(splitId, SplitKind.KEYSET, syncType, rangeStart, rangeEnd, highWaterMark, null, position, estimatedRemaining, finished);
    }

    /**
     * A split of any kind.
     *
     * @param cursorAfter NULL_KEYS INCREMENTAL splits only: the exclusive lower bound of the cursor
     *     as a one-value position, or null for none; must be null otherwise
     */
    public WarehouseSplit(
            String splitId,
            SplitKind kind,
            SyncType syncType,
            Long rangeStart,
            Long rangeEnd,
            String highWaterMark,
            String cursorAfter,
            String position,
            long estimatedRemaining,
            boolean finished) {
        this.splitId = Objects.requireNonNull(splitId, "splitId");
        this.kind = Objects.requireNonNull(kind, "kind");
        this.syncType = Objects.requireNonNull(syncType, "syncType");
        if (kind == SplitKind.NULL_KEYS && (rangeStart != null || rangeEnd != null)) {
            throw new IllegalArgumentException("split " + splitId + " reads NULL keys and cannot have a key range");
        }
        if (cursorAfter != null && (kind != SplitKind.NULL_KEYS || syncType != SyncType.INCREMENTAL)) {
            throw new IllegalArgumentException("split " + splitId + ": only an INCREMENTAL NULL_KEYS split has a cursorAfter bound");
        }
        this.rangeStart = rangeStart;
        this.rangeEnd = rangeEnd;
        this.highWaterMark = highWaterMark;
        this.cursorAfter = cursorAfter;
        this.position = position;
        this.estimatedRemaining = estimatedRemaining;
        this.finished = finished;
    }

    /**
     * The split that reads the rows of a run with a NULL key, from the start.
     *
     * @param cursorAfter INCREMENTAL only: rows with a cursor at or below it are out of scope (a
     *     one-value position), or null
     */
    public static WarehouseSplit nullKeys(SyncType syncType, String highWaterMark, String cursorAfter, long estimatedRows) {
        return new WarehouseSplit(NULL_KEYS_ID, SplitKind.NULL_KEYS, syncType, null, null, highWaterMark, cursorAfter, null, estimatedRows, false);
    }

    @Override
    public String splitId() {
        return splitId;
    }

    public SplitKind kind() {
        return kind;
    }

    /** True for the split that reads rows with a NULL key. */
    public boolean isNullKeyScan() {
        return kind == SplitKind.NULL_KEYS;
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

    /**
     * NULL_KEYS INCREMENTAL splits: the exclusive lower bound of the cursor (a one-value position),
     * or null; null for every other split.
     */
    public String cursorAfter() {
        return cursorAfter;
    }

    /**
     * The position of the last row read (or to start after), or null to start at the beginning.
     * For a NULL_KEYS split: the number of rows already emitted, see {@link #rowsEmitted()}.
     */
    public String position() {
        return position;
    }

    /** NULL_KEYS splits: how many rows were emitted already (0 without a position). */
    public long rowsEmitted() {
        if (kind != SplitKind.NULL_KEYS) {
            throw new IllegalStateException("split " + splitId + " is a keyset split; its position is a key, not a row count");
        }
        return rowsEmitted(position);
    }

    /** The row count a NULL_KEYS position holds; null means 0. */
    public static long rowsEmitted(String position) {
        if (position == null) {
            return 0;
        }
        Object[] values = PositionCodec.decode(position);
        if (values.length != 1 || !(values[0] instanceof Long) || (Long) values[0] < 0) {
            throw new IllegalArgumentException("a NULL_KEYS split position is one non-negative long (rows emitted), got " + values.length + " value(s)");
        }
        return (Long) values[0];
    }

    /** The NULL_KEYS position after {@code rows} emitted rows. */
    public static String rowsEmittedPosition(long rows) {
        return PositionCodec.encode(new Object[] {rows});
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
        return new WarehouseSplit(splitId, kind, syncType, rangeStart, rangeEnd, highWaterMark, cursorAfter, newPosition, newEstimatedRemaining, nowFinished);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof WarehouseSplit)) {
            return false;
        }
        WarehouseSplit that = (WarehouseSplit) o;
        return splitId.equals(that.splitId)
                && kind == that.kind
                && syncType == that.syncType
                && Objects.equals(rangeStart, that.rangeStart)
                && Objects.equals(rangeEnd, that.rangeEnd)
                && Objects.equals(highWaterMark, that.highWaterMark)
                && Objects.equals(cursorAfter, that.cursorAfter)
                && Objects.equals(position, that.position)
                && estimatedRemaining == that.estimatedRemaining
                && finished == that.finished;
    }

    @Override
    public int hashCode() {
        return Objects.hash(splitId, kind, syncType, rangeStart, rangeEnd, highWaterMark, cursorAfter, position, estimatedRemaining, finished);
    }

    /** Without positions: keys can be personal data. */
    @Override
    public String toString() {
        return "WarehouseSplit{" + splitId + ", " + syncType
                + (kind == SplitKind.NULL_KEYS ? ", null keys" : "")
                + (rangeStart == null && rangeEnd == null ? "" : ", range=[" + rangeStart + ", " + rangeEnd + ")")
                + (position == null ? ", from start" : ", resumed")
                + (finished ? ", finished" : "") + "}";
    }
}
