package io.backflow.source.enumerator;

import java.util.Map;
import java.util.WeakHashMap;
import org.apache.flink.metrics.MetricGroup;

/**
 * The enumerator's gauges (high-water mark, planned rows, rows with a NULL key or cursor). Flink keeps the
 * coordinator's metric group across failovers while it creates a new enumerator, and refuses a
 * second gauge of the same name, so the gauges are registered once per group and read whichever
 * enumerator is current.
 */
final class EnumeratorMetrics {
    private static final Map<MetricGroup, EnumeratorMetrics> BY_GROUP = new WeakHashMap<>();

    volatile String highWaterMark;
    volatile long plannedRows = -1;
    volatile long rowsWithNullKey = -1;
    volatile long rowsWithNullCursor = -1;
    volatile long rowsWithFutureCursor = -1;
    volatile long lastSuccessfulSyncMillis = -1;

    private EnumeratorMetrics() {}

    static synchronized EnumeratorMetrics of(MetricGroup coordinatorGroup) {
        if (coordinatorGroup == null) {
            return new EnumeratorMetrics();
        }
        return BY_GROUP.computeIfAbsent(coordinatorGroup, g -> {
            EnumeratorMetrics m = new EnumeratorMetrics();
            MetricGroup group = g.addGroup("backflow");
            group.gauge("highWaterMark", () -> m.highWaterMark == null ? "" : m.highWaterMark);
            group.gauge("plannedRows", () -> m.plannedRows);
            group.gauge("rowsWithNullKey", () -> m.rowsWithNullKey);
            group.gauge("rowsWithNullCursor", () -> m.rowsWithNullCursor);
            group.gauge("rowsWithFutureCursor", () -> m.rowsWithFutureCursor);
            // Epoch milliseconds (-1: never), so an alert can say "no successful sync for 2 hours".
            group.gauge("lastSuccessfulSyncTime", () -> m.lastSuccessfulSyncMillis);
            return m;
        });
    }
}
