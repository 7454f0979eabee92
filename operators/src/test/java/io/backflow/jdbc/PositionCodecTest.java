package io.backflow.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;

class PositionCodecTest {

    @Test
    void everyTypeSurvivesARoundTrip() {
        Object[] values = {42L, 1.5d, new BigDecimal("12345678901234567890.123"), true, "a\"b",
                LocalDate.of(2024, 2, 29), LocalDateTime.of(2024, 1, 31, 23, 59, 59, 123_456_000),
                Instant.parse("2024-01-31T10:00:00.000001Z"), null};
        assertArrayEquals(values, PositionCodec.decode(PositionCodec.encode(values)));
    }

    @Test
    void nullStaysNull() {
        assertNull(PositionCodec.encode(null));
        assertNull(PositionCodec.decode(null));
    }
}
