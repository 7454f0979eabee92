package io.backflow.source;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One row read from the warehouse, or the marker that a split has been read to its end.
 *
 * <p>{@code position} is the row's keyset position {@code (cursor?, key...)} encoded by
 * {@link io.backflow.jdbc.PositionCodec}; the ledger stores it once the row is acknowledged.
 * {@code columns} is shared by every row of a query, so a row costs only its values.
 */
public final class SourceRow implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String splitId;
    private final String[] columns;
    private final Object[] values;
    private final String position;
    private final boolean splitEnd;

    private SourceRow(String splitId, String[] columns, Object[] values, String position, boolean splitEnd) {
        this.splitId = splitId;
        this.columns = columns;
        this.values = values;
        this.position = position;
        this.splitEnd = splitEnd;
    }

    public static SourceRow row(String splitId, String[] columns, Object[] values, String position) {
        return new SourceRow(splitId, columns, values, position, false);
    }

    /** Emitted after the last row of a split, so the ledger can tell a finished split from a stopped one. */
    public static SourceRow splitEnd(String splitId, String lastPosition) {
        return new SourceRow(splitId, new String[0], new Object[0], lastPosition, true);
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

    public String position() {
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
