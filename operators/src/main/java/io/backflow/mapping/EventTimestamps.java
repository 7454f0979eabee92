package io.backflow.mapping;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.TemporalAccessor;

/**
 * Turns a timestamp column value into an instant. Values without a zone (timestamp without time
 * zone, date, zone-less text) are read as UTC, because warehouses conventionally store UTC there.
 */
final class EventTimestamps {
    /** ISO date, optionally with time and an offset such as Z, +02, +0200 or +02:00. */
    private static final DateTimeFormatter TEXT = new DateTimeFormatterBuilder()
            .parseCaseInsensitive()
            .append(DateTimeFormatter.ISO_LOCAL_DATE)
            .optionalStart()
            .appendLiteral('T')
            .append(DateTimeFormatter.ISO_LOCAL_TIME)
            .optionalStart()
            .parseLenient()
            .appendOffset("+HH", "Z")
            .parseStrict()
            .optionalEnd()
            .optionalEnd()
            .toFormatter();

    private EventTimestamps() {}

    /** The instant of a non-null value, or null when it cannot be read as a timestamp. */
    static Instant toInstant(Object value) {
        if (value instanceof Instant) {
            return (Instant) value;
        }
        if (value instanceof LocalDateTime) {
            return ((LocalDateTime) value).toInstant(ZoneOffset.UTC);
        }
        if (value instanceof LocalDate) {
            return ((LocalDate) value).atStartOfDay(ZoneOffset.UTC).toInstant();
        }
        if (value instanceof OffsetDateTime) {
            return ((OffsetDateTime) value).toInstant();
        }
        if (value instanceof ZonedDateTime) {
            return ((ZonedDateTime) value).toInstant();
        }
        if (value instanceof String) {
            return parse((String) value);
        }
        // Numbers are deliberately refused: seconds or milliseconds cannot be told apart.
        return null;
    }

    /**
     * Formats like {@link Instant#toString()} ({@code 2024-01-31T10:00:00Z}, fractions in groups of three
     * digits) without its formatter machinery, which dominates the cost of a small event.
     */
    static String format(Instant instant) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(instant.getEpochSecond(), instant.getNano(), ZoneOffset.UTC);
        int year = t.getYear();
        if (year < 0 || year > 9999) {
            return instant.toString();
        }
        int nano = t.getNano();
        int digits = nano == 0 ? 0 : nano % 1000_000 == 0 ? 3 : nano % 1000 == 0 ? 6 : 9;
        char[] c = new char[20 + (digits == 0 ? 0 : digits + 1)];
        put(c, 0, year, 4);
        c[4] = '-';
        put(c, 5, t.getMonthValue(), 2);
        c[7] = '-';
        put(c, 8, t.getDayOfMonth(), 2);
        c[10] = 'T';
        put(c, 11, t.getHour(), 2);
        c[13] = ':';
        put(c, 14, t.getMinute(), 2);
        c[16] = ':';
        put(c, 17, t.getSecond(), 2);
        int at = 19;
        if (digits > 0) {
            c[at++] = '.';
            put(c, at, nano / pow10(9 - digits), digits);
            at += digits;
        }
        c[at] = 'Z';
        return new String(c);
    }

    private static int pow10(int n) {
        int p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }

    /** Writes {@code value} as exactly {@code width} zero-padded digits ending before {@code at + width}. */
    private static void put(char[] c, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            c[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }

    private static Instant parse(String text) {
        String s = text.trim();
        if (s.length() > 10 && s.charAt(10) == ' ') {
            // The SQL text form "2024-01-31 10:00:00".
            s = s.substring(0, 10) + 'T' + s.substring(11);
        }
        try {
            TemporalAccessor t = TEXT.parseBest(s, OffsetDateTime::from, LocalDateTime::from, LocalDate::from);
            if (t instanceof OffsetDateTime) {
                return ((OffsetDateTime) t).toInstant();
            }
            if (t instanceof LocalDateTime) {
                return ((LocalDateTime) t).toInstant(ZoneOffset.UTC);
            }
            return ((LocalDate) t).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeException e) {
            return null;
        }
    }
}
