package io.backflow.source.split;

import io.backflow.jdbc.PositionCodec;
import io.backflow.source.SyncType;
import java.io.Serializable;
import java.util.List;
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
 *
 * <p>A {@link SplitKind#RETRY_KEYS} split (id {@value #RETRY_KEYS_ID}, at most one per run, INCREMENTAL
 * only) reads the rows whose primary key is one of {@link #retryKeys()}, whatever their cursor: rows
 * the destination rejected in an earlier run. Its position is the number of keys done (a one-value
 * long position, null for none), see {@link #keysDone()}.
 *
 * <p>Every split of an INCREMENTAL run planned by this version carries the run's
 * {@link #startMark()}: the committed high-water mark it continues from. Its rows are read from
 * that cursor value on, inclusive ({@code cursor >= startMark}), because rows can arrive later
 * with exactly the value the last run ended at; the mapping then skips the rows at the mark that
 * were delivered before. Splits restored from older checkpoints have none and keep their old
 * bounds.
 */
public final class WarehouseSplit implements SourceSplit, Serializable {
    private static final long serialVersionUID = 5L;

    /** The id of the split that reads rows with a NULL key. */
    public static final String NULL_KEYS_ID = "null-keys";

    /** The id of the split that reads rows to retry by primary key. */
    public static final String RETRY_KEYS_ID = "retry-keys";

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
    private final List<String> retryKeys;
    private final String startMark;
    private final String runId;

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

    /** A split of a kind other than {@link SplitKind#RETRY_KEYS}, see the full constructor. */
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
        this(splitId, kind, syncType, rangeStart, rangeEnd, highWaterMark, cursorAfter, position, estimatedRemaining, finished, List.of());
    }

    /**
     * A split of any kind.
     *
     * @param cursorAfter NULL_KEYS INCREMENTAL splits only: the exclusive lower bound of the cursor
     *     as a one-value position, or null for none; must be null otherwise
     * @param retryKeys RETRY_KEYS splits only (at least one): {@link io.backflow.jdbc.PositionCodec}
     *     strings of primary-key values, in primary-key column order; empty for every other kind
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
            boolean finished,
            List<String> retryKeys) {
        this(splitId, kind, syncType, rangeStart, rangeEnd, highWaterMark, cursorAfter, position, estimatedRemaining, finished, retryKeys, null,
                null);
    }

    /**
     * A split of any kind, with the run's start mark, of the sync run {@code runId}.
     *
     * @param startMark INCREMENTAL only: the committed high-water mark the run continues from (a
     *     one-value position), read inclusively; null for none (FULL runs, splits of older versions)
     * @param runId the ledger run whose rows this split reads; null for splits of version 4 and
     *     before, which belong to the run of the job that restores them
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
            boolean finished,
            List<String> retryKeys,
            String startMark,
            String runId) {
        this.splitId = Objects.requireNonNull(splitId, "splitId");
        this.kind = Objects.requireNonNull(kind, "kind");
        this.syncType = Objects.requireNonNull(syncType, "syncType");
        if (kind != SplitKind.KEYSET && (rangeStart != null || rangeEnd != null)) {
            throw new IllegalArgumentException("split " + splitId + " is a " + kind + " split and cannot have a key range");
        }
        Objects.requireNonNull(retryKeys, "retryKeys");
        if (kind == SplitKind.RETRY_KEYS) {
            if (syncType != SyncType.INCREMENTAL) {
                throw new IllegalArgumentException("split " + splitId + ": only INCREMENTAL runs retry keys (a FULL run resends every row)");
            }
            if (retryKeys.isEmpty()) {
                throw new IllegalArgumentException("split " + splitId + " is a RETRY_KEYS split without keys");
            }
        } else if (!retryKeys.isEmpty()) {
            throw new IllegalArgumentException("split " + splitId + ": only a RETRY_KEYS split carries retry keys");
        }
        if (cursorAfter != null && (kind != SplitKind.NULL_KEYS || syncType != SyncType.INCREMENTAL)) {
            throw new IllegalArgumentException("split " + splitId + ": only an INCREMENTAL NULL_KEYS split has a cursorAfter bound");
        }
        if (startMark != null && syncType != SyncType.INCREMENTAL) {
            throw new IllegalArgumentException("split " + splitId + ": only INCREMENTAL splits start at a mark");
        }
        if (startMark != null && cursorAfter != null) {
            throw new IllegalArgumentException("split " + splitId + ": a split has a start mark or (before version 4) a cursorAfter bound, not both");
        }
        this.rangeStart = rangeStart;
        this.rangeEnd = rangeEnd;
        this.highWaterMark = highWaterMark;
        this.cursorAfter = cursorAfter;
        this.position = position;
        this.estimatedRemaining = estimatedRemaining;
        this.finished = finished;
        this.retryKeys = List.copyOf(retryKeys);
        this.startMark = startMark;
        this.runId = runId;
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

    /**
     * The split that reads the rows to retry by primary key, from the start.
     *
     * @param syncType must be INCREMENTAL
     * @param highWaterMark the run's high-water mark (null when the run has no new rows); the
     *     look-up ignores it, it is kept so every split of a run carries the same one
     * @param keyPositions one {@link io.backflow.jdbc.PositionCodec} string per row, its primary-key
     *     values in primary-key column order; at least one
     */
    public static WarehouseSplit retryKeys(SyncType syncType, String highWaterMark, List<String> keyPositions) {
        return new WarehouseSplit(RETRY_KEYS_ID, SplitKind.RETRY_KEYS, syncType, null, null, highWaterMark, null, null,
                keyPositions.size(), false, keyPositions);
    }

    @Override
    public String splitId() {
        return splitId;
    }

    public SplitKind kind() {
        return kind;
    }

    /**
     * INCREMENTAL splits: the committed high-water mark the run continues from, a one-value
     * position read inclusively ({@code cursor >= startMark}); rows at exactly this value may have
     * been delivered by the last run, and the mapping skips those. Null for FULL splits and for
     * splits written before version 4, which start strictly after their position.
     */
    public String startMark() {
        return startMark;
    }

    /** This split, continuing the run that ended at {@code mark} (see {@link #startMark()}). */
    public WarehouseSplit withStartMark(String mark) {
        return new WarehouseSplit(splitId, kind, syncType, rangeStart, rangeEnd, highWaterMark, cursorAfter, position, estimatedRemaining,
                finished, retryKeys, mark, runId);
    }

    /**
     * The sync run this split reads for, or null for a split written before version 5. A
     * continuous job reads one run after another, so the run travels with its splits (and from
     * them with every row) rather than being fixed for the job.
     */
    public String runId() {
        return runId;
    }

    /** This split, read for the sync run {@code run}. */
    public WarehouseSplit withRunId(String run) {
        return new WarehouseSplit(splitId, kind, syncType, rangeStart, rangeEnd, highWaterMark, cursorAfter, position, estimatedRemaining,
                finished, retryKeys, startMark, run);
    }

    /** True for the split that reads rows with a NULL key. */
    public boolean isNullKeyScan() {
        return kind == SplitKind.NULL_KEYS;
    }

    /** True for the split that reads rows to retry by primary key. */
    public boolean isRetryKeyScan() {
        return kind == SplitKind.RETRY_KEYS;
    }

    /**
     * RETRY_KEYS splits: the primary keys to read, each a {@link io.backflow.jdbc.PositionCodec}
     * string of the key's values in primary-key column order; empty for every other split.
     */
    public List<String> retryKeys() {
        return retryKeys;
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
     * For a NULL_KEYS split: the number of rows already emitted, see {@link #rowsEmitted()}; for a
     * RETRY_KEYS split: the number of keys done, see {@link #keysDone()}.
     */
    public String position() {
        return position;
    }

    /** NULL_KEYS splits: how many rows were emitted already (0 without a position). */
    public long rowsEmitted() {
        if (kind != SplitKind.NULL_KEYS) {
            throw new IllegalStateException("split " + splitId + " is a " + kind + " split; its position is not a row count");
        }
        return rowsEmitted(position);
    }

    /**
     * RETRY_KEYS splits: how many of {@link #retryKeys()} are done (0 without a position), so a
     * restored split continues with the key at this index.
     */
    public int keysDone() {
        if (kind != SplitKind.RETRY_KEYS) {
            throw new IllegalStateException("split " + splitId + " is a " + kind + " split; only a RETRY_KEYS position counts keys");
        }
        long done = rowsEmitted(position);
        if (done > retryKeys.size()) {
            throw new IllegalArgumentException("split " + splitId + " has " + done + " keys done but only " + retryKeys.size() + " keys");
        }
        return (int) done;
    }

    /** The count a NULL_KEYS or RETRY_KEYS position holds; null means 0. */
    public static long rowsEmitted(String position) {
        if (position == null) {
            return 0;
        }
        Object[] values = PositionCodec.decode(position);
        if (values.length != 1 || !(values[0] instanceof Long) || (Long) values[0] < 0) {
            throw new IllegalArgumentException("a NULL_KEYS or RETRY_KEYS split position is one non-negative long (a count), got " + values.length + " value(s)");
        }
        return (Long) values[0];
    }

    /** The NULL_KEYS position after {@code rows} emitted rows; the RETRY_KEYS position after {@code rows} keys done. */
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
        return new WarehouseSplit(splitId, kind, syncType, rangeStart, rangeEnd, highWaterMark, cursorAfter, newPosition, newEstimatedRemaining, nowFinished, retryKeys,
                startMark, runId);
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
                && finished == that.finished
                && retryKeys.equals(that.retryKeys)
                && Objects.equals(startMark, that.startMark)
                && Objects.equals(runId, that.runId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(splitId, kind, syncType, rangeStart, rangeEnd, highWaterMark, cursorAfter, position, estimatedRemaining, finished, retryKeys, startMark, runId);
    }

    /** Without positions or retry keys: keys can be personal data. */
    @Override
    public String toString() {
        return "WarehouseSplit{" + splitId + ", " + syncType + (runId == null ? "" : ", run " + runId)
                + (kind == SplitKind.NULL_KEYS ? ", null keys" : "")
                + (kind == SplitKind.RETRY_KEYS ? ", " + retryKeys.size() + " retry key(s)" : "")
                + (rangeStart == null && rangeEnd == null ? "" : ", range=[" + rangeStart + ", " + rangeEnd + ")")
                + (position == null ? ", from start" : ", resumed")
                + (finished ? ", finished" : "") + "}";
    }
}
