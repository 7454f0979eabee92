package io.backflow.sink.http;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * When to try a request again after a retryable answer (429, 5xx, I/O error, timeout):
 * exponential backoff with full jitter capped at {@code maxBackoff}, or the destination's
 * {@code Retry-After} as it asks (the caller holds it to the {@link RetryBudget}), and never more
 * than {@code maxAttempts} tries per batch or {@code maxRetryDuration} of a failing destination.
 */
public final class RetryPolicy implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int maxAttempts;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration maxRetryDuration;

    public RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, Duration maxRetryDuration) {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("retry maxAttempts must be at least 1, got " + maxAttempts);
        }
        if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("retry backoff must satisfy 0 <= initialBackoff <= maxBackoff, got "
                    + initialBackoff + " and " + maxBackoff);
        }
        if (maxRetryDuration.isNegative()) {
            throw new IllegalArgumentException("retry maxRetryDuration must not be negative, got " + maxRetryDuration);
        }
        this.maxAttempts = maxAttempts;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
        this.maxRetryDuration = maxRetryDuration;
    }

    public int maxAttempts() { return maxAttempts; }
    public Duration initialBackoff() { return initialBackoff; }
    public Duration maxBackoff() { return maxBackoff; }
    public Duration maxRetryDuration() { return maxRetryDuration; }

    /**
     * The wait before the next try, after {@code failedAttempts} (1 or more) failed tries.
     * Full jitter (uniform in {@code [0, min(maxBackoff, initial * 2^(failedAttempts-1))]}) spreads
     * the retries of many writers. A {@code Retry-After} replaces it: the destination said when
     * it can take more, and asking earlier would only be refused again; the retry budget decides
     * whether waiting that long is allowed.
     */
    public Duration backoff(int failedAttempts, Optional<Duration> retryAfter, RandomGenerator random) {
        if (retryAfter.isPresent()) {
            return retryAfter.get();
        }
        long initialMs = initialBackoff.toMillis();
        int shift = Math.min(Math.max(failedAttempts - 1, 0), 30);
        long ceilingMs = initialMs > (Long.MAX_VALUE >> shift) ? Long.MAX_VALUE : initialMs << shift;
        ceilingMs = Math.min(ceilingMs, maxBackoff.toMillis());
        return Duration.ofMillis(ceilingMs <= 0 ? 0 : random.nextLong(ceilingMs + 1));
    }

    /**
     * Parses a {@code Retry-After} header: delay seconds or an HTTP-date (RFC 1123). A date in the
     * past means "now"; anything unreadable is ignored so the normal backoff applies.
     */
    public static Optional<Duration> parseRetryAfter(String value, Instant now) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        String v = value.trim();
        try {
            long seconds = Long.parseLong(v);
            return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
        } catch (NumberFormatException notSeconds) {
            // fall through to the date form
        }
        try {
            Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            Duration d = Duration.between(now, at);
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        } catch (DateTimeParseException unreadable) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return "RetryPolicy{maxAttempts=" + maxAttempts + ", initialBackoff=" + initialBackoff
                + ", maxBackoff=" + maxBackoff + ", maxRetryDuration=" + maxRetryDuration + "}";
    }
}
