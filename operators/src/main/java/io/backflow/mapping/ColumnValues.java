package io.backflow.mapping;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;

/**
 * Renders the column value types of {@link io.backflow.jdbc.JdbcValues} as JSON values and as
 * strings, the same way everywhere (template, ids, keys), so the event and its messageId are stable.
 */
final class ColumnValues {
    private ColumnValues() {}

    /** Writes {@code value} as its natural JSON type. */
    static void write(JsonGenerator g, Object value) throws IOException {
        if (value == null) {
            g.writeNull();
        } else if (value instanceof String) {
            g.writeString((String) value);
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            g.writeNumber(((Number) value).longValue());
        } else if (value instanceof BigDecimal) {
            g.writeNumber((BigDecimal) value);
        } else if (value instanceof Double || value instanceof Float) {
            g.writeNumber(((Number) value).doubleValue());
        } else if (value instanceof Boolean) {
            g.writeBoolean((Boolean) value);
        } else if (value instanceof BigInteger) {
            g.writeNumber((BigInteger) value);
        } else {
            g.writeString(text(value));
        }
    }

    /**
     * The string form of a value, used for ids, event names and interpolation: numbers without
     * exponent (whole doubles without ".0"), dates in ISO-8601, bytes in base64, null as null.
     */
    static String text(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof String) {
            return (String) value;
        }
        if (value instanceof BigDecimal) {
            return ((BigDecimal) value).toPlainString();
        }
        if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            // An id stored as DOUBLE (42.0) should still read "42".
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                return Long.toString((long) d);
            }
            return Double.toString(d);
        }
        if (value instanceof LocalDateTime) {
            // toString() drops ":00" seconds; the formatter always writes them.
            return DateTimeFormatter.ISO_LOCAL_DATE_TIME.format((LocalDateTime) value);
        }
        if (value instanceof LocalDate || value instanceof Instant) {
            return value.toString();
        }
        if (value instanceof byte[]) {
            return Base64.getEncoder().encodeToString((byte[]) value);
        }
        return value.toString();
    }

    /** True when a value is null or its string form is blank. */
    static boolean isBlank(String text) {
        return text == null || text.isBlank();
    }
}
