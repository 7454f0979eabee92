package io.backflow.jdbc;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Base64;

/**
 * Encodes a tuple of column values (a keyset position such as {@code (cursor, key...)}) as a JSON
 * string that keeps each value's type, so it can be stored in a ledger or in Flink state and bound
 * back into a query with the same type.
 */
public final class PositionCodec {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PositionCodec() {}

    public static String encode(Object[] values) {
        if (values == null) {
            return null;
        }
        // Written with the streaming generator, not a tree: this runs for every row read. The
        // text is the same as the tree's (PositionCodecTest compares them).
        java.io.StringWriter out = new java.io.StringWriter(16 + 24 * values.length);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartArray();
            for (Object v : values) {
                g.writeStartArray();
                if (v == null) {
                    g.writeString("null");
                } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
                    g.writeString("long");
                    g.writeNumber(((Number) v).longValue());
                } else if (v instanceof Double || v instanceof Float) {
                    g.writeString("double");
                    g.writeNumber(((Number) v).doubleValue());
                } else if (v instanceof BigDecimal) {
                    g.writeString("decimal");
                    g.writeString(v.toString());
                } else if (v instanceof Boolean) {
                    g.writeString("bool");
                    g.writeBoolean((Boolean) v);
                } else if (v instanceof LocalDate) {
                    g.writeString("date");
                    g.writeString(v.toString());
                } else if (v instanceof LocalDateTime) {
                    g.writeString("timestamp");
                    g.writeString(v.toString());
                } else if (v instanceof Instant) {
                    g.writeString("timestamptz");
                    g.writeString(v.toString());
                } else if (v instanceof byte[]) {
                    g.writeString("bytes");
                    g.writeString(Base64.getEncoder().encodeToString((byte[]) v));
                } else {
                    g.writeString("string");
                    g.writeString(v.toString());
                }
                g.writeEndArray();
            }
            g.writeEndArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("a StringWriter does not fail", e);
        }
        return out.toString();
    }

    public static Object[] decode(String encoded) {
        if (encoded == null) {
            return null;
        }
        try {
            JsonNode arr = JSON.readTree(encoded);
            Object[] out = new Object[arr.size()];
            for (int i = 0; i < arr.size(); i++) {
                JsonNode pair = arr.get(i);
                String type = pair.get(0).asText();
                JsonNode v = pair.get(1);
                switch (type) {
                    case "null": out[i] = null; break;
                    case "long": out[i] = v.asLong(); break;
                    case "double": out[i] = v.asDouble(); break;
                    case "decimal": out[i] = new BigDecimal(v.asText()); break;
                    case "bool": out[i] = v.asBoolean(); break;
                    case "date": out[i] = LocalDate.parse(v.asText()); break;
                    case "timestamp": out[i] = LocalDateTime.parse(v.asText()); break;
                    case "timestamptz": out[i] = Instant.parse(v.asText()); break;
                    case "bytes": out[i] = Base64.getDecoder().decode(v.asText()); break;
                    default: out[i] = v.asText();
                }
            }
            return out;
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not a position: " + encoded, e);
        }
    }
}
