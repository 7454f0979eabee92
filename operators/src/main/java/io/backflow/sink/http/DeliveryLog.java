package io.backflow.sink.http;

import io.backflow.model.RowError;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a struggling destination from flooding the log: retries are logged at WARN at most once
 * per 10 s per writer, failed events at WARN for the first few and at DEBUG after that. Lines
 * carry statuses, attempts and row keys, never payloads or the write key.
 */
final class DeliveryLog {
    private static final Logger LOG = LoggerFactory.getLogger(HttpDestinationWriter.class);
    private static final long RETRY_WARN_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();
    static final int FAILURES_AT_WARN = 10;

    private final String endpoint;
    private final AtomicLong nextRetryWarn = new AtomicLong(System.nanoTime());
    private final AtomicInteger failuresLogged = new AtomicInteger();

    DeliveryLog(String endpoint) {
        this.endpoint = endpoint;
    }

    void retry(String answer, int attempt, int maxAttempts, int events, Duration delay) {
        long now = System.nanoTime();
        long next = nextRetryWarn.get();
        if (now - next >= 0 && nextRetryWarn.compareAndSet(next, now + RETRY_WARN_INTERVAL_NANOS)) {
            LOG.warn("Destination {} answered {} (attempt {} of {}); retrying {} events in {} ms (further retries logged at DEBUG for 10 s)",
                    endpoint, answer, attempt, maxAttempts, events, delay.toMillis());
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("Destination {} answered {} (attempt {} of {}); retrying {} events in {} ms",
                    endpoint, answer, attempt, maxAttempts, events, delay.toMillis());
        }
    }

    void failed(RowError error) {
        int n = failuresLogged.incrementAndGet();
        if (n <= FAILURES_AT_WARN) {
            // The reason's body excerpt can echo the event back, so WARN gets only its first part.
            LOG.warn("Event for row {} failed: {} (details in row_errors){}", error.key(), headline(error.reason()),
                    n == FAILURES_AT_WARN ? " (further failures logged at DEBUG)" : "");
            LOG.debug("Event for row {} failed at {}: {}", error.key(), endpoint, error.reason());
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("Event for row {} failed at {}: {}", error.key(), endpoint, error.reason());
        }
    }

    /** A row the destination cannot take as it is; the reason names what is missing, never a value. */
    void invalid(RowError error) {
        LOG.debug("Event for row {} cannot be sent to {}: {}", error.key(), endpoint, error.reason());
    }

    /** "HTTP 400: {body...}" becomes "HTTP 400"; reasons without a body stay as they are. */
    static String headline(String reason) {
        if (reason == null) {
            return "unknown";
        }
        int colon = reason.indexOf(": ");
        return colon > 0 ? reason.substring(0, colon) : reason;
    }
}
