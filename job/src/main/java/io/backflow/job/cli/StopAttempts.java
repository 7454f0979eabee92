package io.backflow.job.cli;

import java.util.concurrent.TimeUnit;

/**
 * The retries of a stop-with-savepoint that did not take (asked while the tasks were still
 * deploying, or a savepoint that failed): again a few seconds apart, then no more, and the sync
 * runs on. One per followed job, used from the thread that follows it.
 */
final class StopAttempts {
    static final int MAX = 5;

    private int failures;
    private long nextAttempt = System.nanoTime();
    private boolean gaveUp;

    /** Whether a stop may be asked now. */
    boolean due() {
        return !gaveUp && System.nanoTime() - nextAttempt >= 0;
    }

    /** The last attempt failed; returns true when it was the last one allowed. */
    boolean failed() {
        failures++;
        if (failures >= MAX) {
            gaveUp = true;
        } else {
            nextAttempt = System.nanoTime() + TimeUnit.SECONDS.toNanos(2L * failures);
        }
        return gaveUp;
    }

    int failures() {
        return failures;
    }
}
