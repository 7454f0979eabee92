package io.backflow.source.enumerator;

import io.backflow.source.split.WarehouseSplit;
import java.io.Serializable;
import java.util.List;

/**
 * What a sync run will read: the high-water mark fixed at planning time (a one-value position, or
 * null), the splits (including the NULL_KEYS and RETRY_KEYS splits, if any), and how many rows in scope have a
 * NULL primary-key column, or (INCREMENTAL) a NULL cursor.
 */
public final class SyncPlan implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String highWaterMark;
    private final List<WarehouseSplit> splits;
    private final long rowsWithNullKey;
    private final long rowsWithNullCursor;

    public SyncPlan(String highWaterMark, List<WarehouseSplit> splits, long rowsWithNullKey) {
        this(highWaterMark, splits, rowsWithNullKey, -1);
    }

    public SyncPlan(String highWaterMark, List<WarehouseSplit> splits, long rowsWithNullKey, long rowsWithNullCursor) {
        this.highWaterMark = highWaterMark;
        this.splits = List.copyOf(splits);
        this.rowsWithNullKey = rowsWithNullKey;
        this.rowsWithNullCursor = rowsWithNullCursor;
    }

    /**
     * INCREMENTAL: rows whose cursor is NULL, which no INCREMENTAL run reads (a FULL run does), or
     * -1 when not counted (FULL and resumed runs, a cursor declared NOT NULL).
     */
    public long rowsWithNullCursor() {
        return rowsWithNullCursor;
    }

    public String highWaterMark() {
        return highWaterMark;
    }

    public List<WarehouseSplit> splits() {
        return splits;
    }

    /**
     * Rows in scope that have a NULL in a primary-key column (read by the NULL_KEYS split and
     * reported invalid downstream), or -1 when not counted (a resumed run).
     */
    public long rowsWithNullKey() {
        return rowsWithNullKey;
    }

    /** The rows the unfinished splits will read as counted at planning time, or -1 when not counted. */
    public long estimatedRows() {
        long sum = 0;
        for (WarehouseSplit split : splits) {
            if (split.isFinished()) {
                continue;
            }
            if (split.estimatedRemaining() < 0) {
                return -1;
            }
            sum += split.estimatedRemaining();
        }
        return sum;
    }
}
