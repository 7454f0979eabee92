package io.backflow.sink.http;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;

/**
 * The writer's metrics in group {@code backflow}. Counters are thread-safe because HTTP
 * threads update them.
 */
final class SinkMetrics {
    final Counter eventsDelivered;
    final Counter eventsFailed;
    final Counter retries;
    final Counter requestsSent;
    final AtomicInteger requestsInFlight = new AtomicInteger();

    private final MetricGroup group;

    SinkMetrics(MetricGroup writerGroup) {
        MetricGroup g = writerGroup.addGroup("backflow");
        this.group = g;
        eventsDelivered = g.counter("eventsDelivered", new ThreadSafeSimpleCounter());
        eventsFailed = g.counter("eventsFailed", new ThreadSafeSimpleCounter());
        retries = g.counter("retries", new ThreadSafeSimpleCounter());
        requestsSent = g.counter("requestsSent", new ThreadSafeSimpleCounter());
        g.gauge("requestsInFlight", (Gauge<Integer>) requestsInFlight::get);
    }

    /** {@code requestRateLimit}: requests per second this writer may send now (0: no limit), lower after a 429. */
    void rateLimit(java.util.function.DoubleSupplier rate) {
        group.gauge("requestRateLimit", (Gauge<Double>) rate::getAsDouble);
    }
}
