package io.backflow.sink.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pacing a limiter hands out, read from its reservations (no clock is waited on). */
class RateLimiterTest {
    /** Time stands still unless a test moves it, so the waits are exact. */
    private final java.util.function.LongSupplier clock = () -> 1_000_000_000L;

    private static long ms(Duration d) {
        return d.toMillis();
    }

    @Test
    void requestsAreSpacedAtTheRateWithoutABurst() {
        RateLimiter limiter = new RateLimiter(10, 0, clock);
        long previous = -1;
        for (int i = 0; i < 20; i++) {
            long wait = ms(limiter.reserve(1));
            // Each request starts 100 ms after the one before, at 99% of the rate: 101 ms.
            assertThat(wait).isEqualTo((long) (i * 100 / RateLimiter.PACE));
            assertThat(wait).isGreaterThan(previous);
            previous = wait;
        }
    }

    @Test
    void anEventRateSpacesRequestsByTheirSize() {
        RateLimiter limiter = new RateLimiter(0, 1_000, clock);
        assertThat(ms(limiter.reserve(500))).isZero();
        // The first 500 events use half a second of the rate (505 ms at 99% of it).
        assertThat(ms(limiter.reserve(100))).isEqualTo(505L);
        assertThat(ms(limiter.reserve(100))).isEqualTo(606L);
    }

    @Test
    void aThrottleHalvesTheRateAndDeliveriesBringItBackUpToTheConfiguredOneAndNoFurther() {
        RateLimiter limiter = new RateLimiter(100, 0, clock);
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
        RateLimiter limiter = new RateLimiter(0, 0, clock);
        for (int i = 0; i < 40; i++) {
            assertThat(limiter.reserve(1)).isZero();
        }
        limiter.throttled();
        assertThat(limiter.requestRate()).isEqualTo(20);
        assertThat(ms(limiter.reserve(1))).isZero();
        assertThat(ms(limiter.reserve(1))).isEqualTo(50L);
    }

    /** Without a configured rate the pacing a 429 started climbs back and ends (one early 429 once paced the whole run at 1/s). */
    @Test
    void withoutAConfiguredRateThePacingEndsOnceDeliveriesClimbBack() {
        RateLimiter limiter = new RateLimiter(0, 0, clock);
        assertThat(limiter.reserve(1)).isZero();
        limiter.throttled();
        assertThat(limiter.requestRate()).isEqualTo(0.5);
        for (int i = 0; i < 10; i++) {
            limiter.succeeded();
        }
        assertThat(limiter.requestRate()).as("no limit any more").isZero();
        for (int i = 0; i < 100; i++) {
            assertThat(limiter.reserve(1)).isZero();
        }
        // Over the rate again: paced at half of it, and a second 429 while pacing halves the pace.
        limiter.throttled();
        assertThat(limiter.requestRate()).isEqualTo(50.5);
        limiter.throttled();
        assertThat(limiter.requestRate()).isEqualTo(25.25);
        for (int i = 0; i < 20; i++) {
            limiter.succeeded();
        }
        assertThat(limiter.requestRate()).isZero();
    }
}
