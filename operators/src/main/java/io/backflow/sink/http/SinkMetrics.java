package io.backflow.sink.http;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;

/**
 * The writer's metrics in group {@code backflow}: counters {@code eventsDelivered},
 * {@code eventsFailed}, {@code retries}, {@code requestsSent}; meters (per second, over a minute)
 * {@code eventsDeliveredPerSecond} and {@code eventsFailedPerSecond}; histogram
 * {@code requestLatencyMs} (send to response, the last 1,000 requests); gauge
 * {@code requestsInFlight}. Counters are thread-safe because HTTP threads update them.
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
        g.meter("eventsDeliveredPerSecond", new org.apache.flink.metrics.MeterView(eventsDelivered));
        g.meter("eventsFailedPerSecond", new org.apache.flink.metrics.MeterView(eventsFailed));
        requestLatencyMs = g.histogram("requestLatencyMs", new org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram(1_000));
    }

    /** Send to response of each request, in milliseconds (alert on its p99). */
    final org.apache.flink.metrics.Histogram requestLatencyMs;

    /** {@code requestRateLimit}: requests per second this writer may send now (0: no limit), lower after a 429. */
    void rateLimit(java.util.function.DoubleSupplier rate) {
        group.gauge("requestRateLimit", (Gauge<Double>) rate::getAsDouble);
    }
}
