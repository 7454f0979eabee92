package io.backflow.source.metrics;

import io.backflow.jdbc.Position;
import io.backflow.source.split.WarehouseSplit;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * The reader's metrics, in group {@code backflow}: counter {@code rowsRead}; meter
 * {@code rowsReadPerSecond}; gauges {@code highWaterMark} and {@code currentPosition} (encoded
 * positions), {@code estimatedRowsRemaining} (-1 when not counted) and
 * {@code estimatedSecondsRemaining} (the rows remaining at the last minute's rate; -1 when either
 * is unknown). Updated from the task thread only.
 */
public final class WarehouseReaderMetrics {
    public static final String GROUP = "backflow";

    private final Counter rowsRead;
    private volatile String highWaterMark = "";
    /** Encoded only when the gauge is read, not per row. */
    private volatile Position currentPosition;
    private volatile long estimatedRemaining = -1;

    public WarehouseReaderMetrics(MetricGroup readerGroup) {
        MetricGroup group = readerGroup.addGroup(GROUP);
        this.rowsRead = group.counter("rowsRead");
        group.gauge("highWaterMark", () -> highWaterMark);
        group.gauge("currentPosition", () -> {
            Position p = currentPosition;
            return p == null ? "" : p.encoded();
        });
        group.gauge("estimatedRowsRemaining", () -> estimatedRemaining);
        org.apache.flink.metrics.Meter rate = group.meter("rowsReadPerSecond", new org.apache.flink.metrics.MeterView(rowsRead));
        group.gauge("estimatedSecondsRemaining", () -> {
            long remaining = estimatedRemaining;
            double perSecond = rate.getRate();
            return remaining < 0 || perSecond <= 0 ? -1L : (long) Math.ceil(remaining / perSecond);
        });
    }

    /** A split was handed to this reader (new or restored). */
    public void splitAdded(WarehouseSplit split) {
        if (split.highWaterMark() != null) {
            highWaterMark = split.highWaterMark();
        }
        if (split.estimatedRemaining() >= 0) {
            estimatedRemaining = Math.max(estimatedRemaining, 0) + split.estimatedRemaining();
        }
    }

    /** Rows more to read, learned after the split was added (its rows were counted late). */
    public void rowsAdded(long rows) {
        estimatedRemaining = Math.max(estimatedRemaining, 0) + rows;
    }

    /** A row was emitted; {@code position} is its keyset position, or null to leave the gauge as is. */
    public void rowEmitted(Position position) {
        rowsRead.inc();
        if (position != null) {
            currentPosition = position;
        }
        if (estimatedRemaining > 0) {
            estimatedRemaining--;
        }
    }

    public long rowsRead() {
        return rowsRead.getCount();
    }
}
