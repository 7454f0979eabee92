package io.backflow.sink.http;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How long one sink writer may keep waiting on a failing destination: {@code retry.max_duration},
 * counted from the first retryable failure after the last success and shared by every batch the
 * writer sends, so a dead destination costs the run that long once, not that long per batch
 * (200 rows in batches of 10 took 75 s with a 3 s budget when each batch had its own). Any
 * delivered request starts the count afresh.
 */
final class RetryBudget {
    private final long budgetNanos;
    /** When the destination started failing, or Long.MIN_VALUE while it answers. */
    private final AtomicLong failingSince = new AtomicLong(Long.MIN_VALUE);

    RetryBudget(Duration budget) {
        this.budgetNanos = budget.toNanos();
    }

    /** A request was delivered: the destination works. */
    void succeeded() {
        failingSince.set(Long.MIN_VALUE);
    }

    /** A request got a retryable answer; returns the budget left. */
    Duration failed() {
        long now = System.nanoTime();
        failingSince.compareAndSet(Long.MIN_VALUE, now);
        return remaining(now);
    }

    Duration remaining(long nowNanos) {
        long since = failingSince.get();
        long left = since == Long.MIN_VALUE ? budgetNanos : budgetNanos - (nowNanos - since);
        return Duration.ofNanos(Math.max(0, left));
    }

    /** How long the destination has been failing, for the message when the budget is spent. */
    Duration failingFor() {
        long since = failingSince.get();
        return since == Long.MIN_VALUE ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - since);
    }
}
