package io.backflow.jdbc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
        ArrayNode arr = JSON.createArrayNode();
        for (Object v : values) {
            ArrayNode pair = arr.addArray();
            if (v == null) {
                pair.add("null");
            } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
                pair.add("long").add(((Number) v).longValue());
            } else if (v instanceof Double || v instanceof Float) {
                pair.add("double").add(((Number) v).doubleValue());
            } else if (v instanceof BigDecimal) {
                pair.add("decimal").add(v.toString());
            } else if (v instanceof Boolean) {
                pair.add("bool").add((Boolean) v);
            } else if (v instanceof LocalDate) {
                pair.add("date").add(v.toString());
            } else if (v instanceof LocalDateTime) {
                pair.add("timestamp").add(v.toString());
            } else if (v instanceof Instant) {
                pair.add("timestamptz").add(v.toString());
            } else if (v instanceof byte[]) {
                pair.add("bytes").add(Base64.getEncoder().encodeToString((byte[]) v));
            } else {
                pair.add("string").add(v.toString());
            }
        }
        return arr.toString();
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
