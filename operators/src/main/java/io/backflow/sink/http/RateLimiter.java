package io.backflow.sink.http;

import java.time.Duration;

/**
 * Paces one sink writer's requests to a destination's rate: at most {@code requestsPerSecond}
 * requests and {@code eventsPerSecond} events a second (this subtask's share of the
 * connection's rate), each request starting no earlier than the rates allow, with no burst above
 * them. When the destination answers that it is over its rate (a 429), the rate halves; each
 * delivered request then adds back a twentieth of the configured rate, up to it (additive
 * increase, multiplicative decrease). Without a configured rate a 429 starts pacing at half the
 * rate requests were going out at; delivered requests then add back a twentieth of that rate each,
 * and once it is reached the pacing ends (before, one early 429 paced the rest of the run at one
 * request a second).
 */
final class RateLimiter {
    /** The rate never drops below this share of the configured one, so a run always progresses. */
    private static final double FLOOR = 0.01;
    /**
     * Requests go out 1% under the rate: their start times keep the rate exactly, but the network
     * can bring two closer together on arrival, and the destination counts arrivals.
     */
    static final double PACE = 0.99;

    private final double maxRequests;
    private final double maxEvents;
    private double requests;
    private double events;
    private long nextRequestNanos;
    private long nextEventNanos;
    // A one-second window of sends, for the rate to halve from when none is configured.
    private long windowStartNanos;
    private int sentInWindow;
    private int sentInLastWindow;
    /** Without a configured rate: the rate requests went out at when a 429 came, 0 when not pacing. */
    private double unconfiguredFrom;

    private final java.util.function.LongSupplier clock;

    /** @param requestsPerSecond 0 for no limit; @param eventsPerSecond 0 for no limit */
    RateLimiter(double requestsPerSecond, double eventsPerSecond) {
        this(requestsPerSecond, eventsPerSecond, System::nanoTime);
    }

    /** With {@code clock} in place of {@link System#nanoTime} (tests). */
    RateLimiter(double requestsPerSecond, double eventsPerSecond, java.util.function.LongSupplier clock) {
        this.clock = clock;
        this.maxRequests = requestsPerSecond;
        this.maxEvents = eventsPerSecond;
        this.requests = requestsPerSecond;
        this.events = eventsPerSecond;
        this.nextRequestNanos = clock.getAsLong();
        this.nextEventNanos = nextRequestNanos;
        this.windowStartNanos = nextRequestNanos;
    }

    /** Reserves the next slot for a request of {@code eventCount} events; returns how long to wait before sending it. */
    synchronized Duration reserve(int eventCount) {
        long now = clock.getAsLong();
        if (now - windowStartNanos >= 1_000_000_000L) {
            sentInLastWindow = sentInWindow;
            sentInWindow = 0;
            windowStartNanos = now;
        }
        sentInWindow++;
        long start = now;
        if (requests > 0) {
            start = Math.max(start, nextRequestNanos);
            nextRequestNanos = start + (long) (1e9 / (requests * PACE));
        }
        if (events > 0) {
            long eventStart = Math.max(now, nextEventNanos);
            start = Math.max(start, eventStart);
            nextEventNanos = Math.max(eventStart, start) + (long) (1e9 * eventCount / (events * PACE));
        }
        return Duration.ofNanos(Math.max(0, start - now));
    }

    /** The destination said it is over its rate. */
    synchronized void throttled() {
        if (maxRequests == 0) {
            // No configured rate: start from what was actually sent (or halve the pace again).
            unconfiguredFrom = requests == 0 ? Math.max(1, Math.max(sentInWindow, sentInLastWindow)) : Math.max(1, requests);
            requests = Math.max(0.1, unconfiguredFrom / 2.0);
            return;
        }
        requests = Math.max(requests / 2, floor(maxRequests));
        if (events > 0) {
            events = Math.max(events / 2, floor(maxEvents));
        }
    }

    /** A request was delivered. */
    synchronized void succeeded() {
        if (maxRequests == 0 && requests > 0) {
            requests += unconfiguredFrom / 20;
            if (requests >= unconfiguredFrom * 0.999) { // twenty twentieths can sum to a hair under one
                requests = 0;
                unconfiguredFrom = 0;
            }
        }
        if (maxRequests > 0 && requests < maxRequests) {
            requests = Math.min(maxRequests, requests + maxRequests / 20);
        }
        if (maxEvents > 0 && events < maxEvents) {
            events = Math.min(maxEvents, events + maxEvents / 20);
        }
    }

    /** Requests per second allowed now, 0 for no limit (a metric). */
    synchronized double requestRate() {
        return requests;
    }

    private static double floor(double max) {
        return max == 0 ? 1 : Math.max(max * FLOOR, 0.1);
    }
}
