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

    /** Positions written before are read back and compared as text: the streaming encoder writes what the tree did. */
    @Test
    void theTextIsWhatTheJsonTreeWrote() {
        Object[] values = {42L, 7, 1.5d, 1e300, -0.0d, new BigDecimal("1E+3"), false, "é\u0001\"\\\n/", new byte[] {1, 2, (byte) 255},
                LocalDate.of(2024, 2, 29), LocalDateTime.of(2024, 1, 31, 23, 59, 59, 123_456_000), Instant.parse("2024-01-31T10:00:00Z"), null,
                new java.util.UUID(1, 2)};
        com.fasterxml.jackson.databind.node.ArrayNode tree = new com.fasterxml.jackson.databind.ObjectMapper().createArrayNode();
        tree.addArray().add("long").add(42L);
        tree.addArray().add("long").add(7L);
        tree.addArray().add("double").add(1.5d);
        tree.addArray().add("double").add(1e300);
        tree.addArray().add("double").add(-0.0d);
        tree.addArray().add("decimal").add("1E+3");
        tree.addArray().add("bool").add(false);
        tree.addArray().add("string").add("é\u0001\"\\\n/");
        tree.addArray().add("bytes").add(java.util.Base64.getEncoder().encodeToString(new byte[] {1, 2, (byte) 255}));
        tree.addArray().add("date").add("2024-02-29");
        tree.addArray().add("timestamp").add("2024-01-31T23:59:59.123456");
        tree.addArray().add("timestamptz").add("2024-01-31T10:00:00Z");
        tree.addArray().add("null");
        tree.addArray().add("string").add(new java.util.UUID(1, 2).toString());
        org.junit.jupiter.api.Assertions.assertEquals(tree.toString(), PositionCodec.encode(values));
    }

    @Test
    void nullStaysNull() {
        assertNull(PositionCodec.encode(null));
        assertNull(PositionCodec.decode(null));
    }
}
