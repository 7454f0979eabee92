package io.backflow.source;

import io.backflow.jdbc.Position;
import java.io.Serializable;
import java.util.Arrays;

/**
 * One row read from the warehouse, or the marker that a split has been read to its end.
 *
 * <p>{@code position} is the row's keyset position {@code (cursor?, key...)}, kept as values and
 * encoded by {@link io.backflow.jdbc.PositionCodec} only when asked; the ledger stores the last one
 * per split once the row is acknowledged.
 * {@code columns} is shared by every row of a query, so a row costs only its values.
 *
 * <p>{@code marks} says where the row's cursor stands against its split's bounds:
 * {@link #AT_START_MARK} when it equals the mark the run continues from (the row may have been
 * delivered by the last run), {@link #AT_HIGH_WATER_MARK} when it equals the run's high-water mark
 * (the next run continues from there, so the ledger remembers which rows it delivered at it).
 */
@org.apache.flink.api.common.typeinfo.TypeInfo(SourceRowSerializer.Factory.class)
public final class SourceRow implements Serializable {
    private static final long serialVersionUID = 3L;

    /** Flag: the row's cursor equals the split's start mark. */
    public static final byte AT_START_MARK = 1;
    /** Flag: the row's cursor equals the split's high-water mark. */
    public static final byte AT_HIGH_WATER_MARK = 2;

    private final String runId;
    private final String splitId;
    private final String[] columns;
    private final Object[] values;
    private final Position position;
    private final boolean splitEnd;
    private final byte marks;

    private SourceRow(String runId, String splitId, String[] columns, Object[] values, Position position, boolean splitEnd, byte marks) {
        this.runId = runId;
        this.splitId = splitId;
        this.columns = columns;
        this.values = values;
        this.position = position;
        this.splitEnd = splitEnd;
        this.marks = marks;
    }

    public static SourceRow row(String splitId, String[] columns, Object[] values, String position) {
        return row(splitId, columns, values, Position.ofEncoded(position));
    }

    public static SourceRow row(String splitId, String[] columns, Object[] values, Position position) {
        return new SourceRow(null, splitId, columns, values, position, false, (byte) 0);
    }

    /** A row with {@link #AT_START_MARK} and/or {@link #AT_HIGH_WATER_MARK} set in {@code marks}. */
    public static SourceRow row(String splitId, String[] columns, Object[] values, Position position, byte marks) {
        return new SourceRow(null, splitId, columns, values, position, false, marks);
    }

    /** Emitted after the last row of a split, so the ledger can tell a finished split from a stopped one. */
    public static SourceRow splitEnd(String splitId, String lastPosition) {
        return splitEnd(splitId, Position.ofEncoded(lastPosition));
    }

    public static SourceRow splitEnd(String splitId, Position lastPosition) {
        return new SourceRow(null, splitId, new String[0], new Object[0], lastPosition, true, (byte) 0);
    }

    /**
     * A row of split {@code splitId} of sync run {@code runId} (null: the job's run), with
     * {@link #AT_START_MARK} and/or {@link #AT_HIGH_WATER_MARK} set in {@code marks}.
     */
    public static SourceRow of(String runId, String splitId, String[] columns, Object[] values, Position position, byte marks) {
        return new SourceRow(runId, splitId, columns, values, position, false, marks);
    }

    /** The end marker of split {@code splitId} of sync run {@code runId} (null: the job's run). */
    public static SourceRow splitEnd(String runId, String splitId, Position lastPosition) {
        return new SourceRow(runId, splitId, new String[0], new Object[0], lastPosition, true, (byte) 0);
    }

    /**
     * The sync run the row was read for (a continuous job reads one run after another), or null
     * when the reader did not say: then it is the job's run.
     */
    public String runId() {
        return runId;
    }

    /** True when the row's cursor equals the mark its run continues from. */
    public boolean atStartMark() {
        return (marks & AT_START_MARK) != 0;
    }

    /** True when the row's cursor equals its run's high-water mark. */
    public boolean atHighWaterMark() {
        return (marks & AT_HIGH_WATER_MARK) != 0;
    }

    public String splitId() {
        return splitId;
    }

    public String[] columns() {
        return columns;
    }

    public Object[] values() {
        return values;
    }

    /** The value of a column by name, or null when absent. */
    public Object get(String column) {
        for (int i = 0; i < columns.length; i++) {
            if (columns[i].equals(column)) {
                return values[i];
            }
        }
        return null;
    }

    public int indexOf(String column) {
        for (int i = 0; i < columns.length; i++) {
            if (columns[i].equals(column)) {
                return i;
            }
        }
        return -1;
    }

    /** The position's PositionCodec text (computed on first call). */
    public String position() {
        return Position.encoded(position);
    }

    /** The position as it travels: encoded only if somebody asks. */
    public Position positionValue() {
        return position;
    }

    public boolean isSplitEnd() {
        return splitEnd;
    }

    @Override
    public String toString() {
        // Never the values: rows can hold personal data.
        return splitEnd ? "SplitEnd{" + splitId + "}" : "SourceRow{split=" + splitId + ", columns=" + Arrays.toString(columns) + "}";
    }
}
