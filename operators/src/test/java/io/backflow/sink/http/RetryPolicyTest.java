package io.backflow.sink.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    private final RetryPolicy policy = new RetryPolicy(8, Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofMinutes(5));

    @Test
    void fullJitterStaysWithinTheExponentialCeilingAndUsesItsWholeRange() {
        SplittableRandom random = new SplittableRandom(42);
        long[] ceilings = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
        for (int attempt = 1; attempt <= ceilings.length; attempt++) {
            long min = Long.MAX_VALUE;
            long max = 0;
            for (int i = 0; i < 2000; i++) {
                long ms = policy.backoff(attempt, Optional.empty(), random).toMillis();
                min = Math.min(min, ms);
                max = Math.max(max, ms);
            }
            long ceiling = ceilings[attempt - 1];
            assertThat(min).as("attempt %d", attempt).isGreaterThanOrEqualTo(0).isLessThan(ceiling / 10);
            assertThat(max).as("attempt %d", attempt).isLessThanOrEqualTo(ceiling).isGreaterThan(ceiling * 9 / 10);
        }
    }

    @Test
    void veryHighAttemptCountsDoNotOverflow() {
        Duration d = policy.backoff(Integer.MAX_VALUE, Optional.empty(), new SplittableRandom(1));
        assertThat(d).isBetween(Duration.ZERO, Duration.ofSeconds(30));
    }

    @Test
    void retryAfterReplacesTheBackoffAsTheDestinationAsksEvenBeyondMaxBackoff() {
        SplittableRandom random = new SplittableRandom(7);
        assertThat(policy.backoff(1, Optional.of(Duration.ofSeconds(3)), random)).isEqualTo(Duration.ofSeconds(3));
        // Whether an hour may be waited is the retry budget's call, not max_backoff's.
        assertThat(policy.backoff(1, Optional.of(Duration.ofHours(1)), random)).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void parsesRetryAfterSeconds() {
        Instant now = Instant.parse("2025-01-01T00:00:00Z");
        assertThat(RetryPolicy.parseRetryAfter("1", now)).contains(Duration.ofSeconds(1));
        assertThat(RetryPolicy.parseRetryAfter(" 120 ", now)).contains(Duration.ofSeconds(120));
        assertThat(RetryPolicy.parseRetryAfter("0", now)).contains(Duration.ZERO);
    }

    @Test
    void parsesRetryAfterHttpDates() {
        Instant now = Instant.parse("2025-01-01T00:00:00Z");
        String in90s = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.plusSeconds(90).atZone(ZoneOffset.UTC));
        assertThat(RetryPolicy.parseRetryAfter(in90s, now)).contains(Duration.ofSeconds(90));
        assertThat(RetryPolicy.parseRetryAfter("Wed, 01 Jan 2025 00:00:05 GMT", now)).contains(Duration.ofSeconds(5));
        assertThat(RetryPolicy.parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now)).contains(Duration.ZERO);
    }

    @Test
    void ignoresUnreadableRetryAfter() {
        Instant now = Instant.now();
        assertThat(RetryPolicy.parseRetryAfter(null, now)).isEmpty();
        assertThat(RetryPolicy.parseRetryAfter("", now)).isEmpty();
        assertThat(RetryPolicy.parseRetryAfter("-5", now)).isEmpty();
        assertThat(RetryPolicy.parseRetryAfter("soon", now)).isEmpty();
        assertThat(RetryPolicy.parseRetryAfter("1.5", now)).isEmpty();
    }

    @Test
    void rejectsNonsensicalSettings() {
        assertThatThrownBy(() -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO, Duration.ZERO))
                .hasMessageContaining("maxAttempts");
        assertThatThrownBy(() -> new RetryPolicy(3, Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ZERO))
                .hasMessageContaining("initialBackoff <= maxBackoff");
    }
}
