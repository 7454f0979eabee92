package io.backflow.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class EventTimestampsTest {
    @Test
    void formatMatchesInstantToString() {
        String[] samples = {
            "2024-01-31T10:00:00Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z", "2024-02-29T23:59:59.100Z",
            "2024-01-31T10:00:00.123456Z", "2024-01-31T10:00:00.000001Z", "2024-01-31T10:00:00.123456789Z",
            "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "+10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z",
        };
        for (String s : samples) {
            Instant i = Instant.parse(s);
            assertEquals(i.toString(), EventTimestamps.format(i), s);
        }
    }

    @Test
    void valuesWithoutZoneAreReadAsUtc() {
        Instant expected = Instant.parse("2024-01-31T10:00:00Z");
        assertEquals(expected, EventTimestamps.toInstant(LocalDateTime.of(2024, 1, 31, 10, 0)));
        assertEquals(expected, EventTimestamps.toInstant(OffsetDateTime.of(2024, 1, 31, 12, 0, 0, 0, ZoneOffset.ofHours(2))));
        assertEquals(Instant.parse("2024-01-31T00:00:00Z"), EventTimestamps.toInstant(LocalDate.of(2024, 1, 31)));
        assertEquals(expected, EventTimestamps.toInstant("2024-01-31 10:00:00"));
        assertEquals(expected, EventTimestamps.toInstant("2024-01-31T05:00:00-05:00"));
        assertEquals(expected, EventTimestamps.toInstant("2024-01-31T15:30:00+0530"));
        assertEquals(expected, EventTimestamps.toInstant("2024-01-31t10:00:00z"));
    }

    @Test
    void unreadableValuesGiveNull() {
        assertNull(EventTimestamps.toInstant("31/01/2024"));
        assertNull(EventTimestamps.toInstant("2024-01-31T25:00:00"));
        assertNull(EventTimestamps.toInstant(1706695200000L));
        assertNull(EventTimestamps.toInstant(true));
    }
}
