package io.backflow.sink.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pacing a limiter hands out, read from its reservations (no clock is waited on). */
class RateLimiterTest {
    private static long ms(Duration d) {
        return d.toMillis();
    }

    @Test
    void requestsAreSpacedAtTheRateWithoutABurst() {
        RateLimiter limiter = new RateLimiter(10, 0);
        long previous = -1;
        for (int i = 0; i < 20; i++) {
            long wait = ms(limiter.reserve(1));
            // Each request starts 100 ms after the one before (within the time the loop takes).
            assertThat(wait).isBetween(i * 100L - 20, i * 100L + 5);
            assertThat(wait).isGreaterThan(previous);
            previous = wait;
        }
    }

    @Test
    void anEventRateSpacesRequestsByTheirSize() {
        RateLimiter limiter = new RateLimiter(0, 1_000);
        assertThat(ms(limiter.reserve(500))).isLessThan(5);
        // The first 500 events use half a second of the rate.
        assertThat(ms(limiter.reserve(100))).isBetween(480L, 505L);
        assertThat(ms(limiter.reserve(100))).isBetween(580L, 605L);
    }

    @Test
    void aThrottleHalvesTheRateAndDeliveriesBringItBackUpToTheConfiguredOneAndNoFurther() {
        RateLimiter limiter = new RateLimiter(100, 0);
        limiter.throttled();
        assertThat(limiter.requestRate()).isEqualTo(50);
        limiter.throttled();
        assertThat(limiter.requestRate()).isEqualTo(25);
        for (int i = 0; i < 100; i++) {
            limiter.succeeded();
        }
        assertThat(limiter.requestRate()).isEqualTo(100);
        for (int i = 0; i < 20; i++) {
            limiter.throttled();
        }
        assertThat(limiter.requestRate()).as("never below a floor, so a run always moves").isEqualTo(1);
    }

    @Test
    void withoutAConfiguredRateAThrottleStartsPacingAtHalfWhatWasSent() {
        RateLimiter limiter = new RateLimiter(0, 0);
        for (int i = 0; i < 40; i++) {
            assertThat(limiter.reserve(1)).isZero();
        }
        limiter.throttled();
        assertThat(limiter.requestRate()).isEqualTo(20);
        assertThat(ms(limiter.reserve(1))).isLessThan(5);
        assertThat(ms(limiter.reserve(1))).isBetween(30L, 55L);
    }
}
