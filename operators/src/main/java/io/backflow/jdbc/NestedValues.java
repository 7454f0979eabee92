package io.backflow.jdbc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DuckDB's nested values (LIST, fixed-size ARRAY, STRUCT, MAP, as from Parquet files) as JSON text.
 * Their Java {@code toString()} is ambiguous and unparseable: {@code ['a, b']} and {@code ['a', 'b']}
 * both print {@code [a, b]}, a struct prints {@code {k=x}}. As JSON, an event carries the value
 * exactly, and {@code {{ column | json }}} inserts it as an array or object.
 */
public final class NestedValues {
    private static final ObjectMapper JSON = new ObjectMapper();

    private NestedValues() {}

    /** True for the values {@link #json} writes: DuckDB's arrays and structs, and any map. */
    public static boolean isNested(Object v) {
        return v instanceof Map || v instanceof org.duckdb.DuckDBStruct || v instanceof org.duckdb.DuckDBArray;
    }

    /** JSON text of a value already made plain (also a map key that is a list or a struct). */
    private static String jsonOf(Object plain) throws SQLException {
        try {
            return JSON.writeValueAsString(plain);
        } catch (JsonProcessingException e) {
            throw new SQLException("cannot write a nested value as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** {@code v} (see {@link #isNested}) as JSON text. */
    public static String json(Object v) throws SQLException {
        return jsonOf(plain(v));
    }

    /** Lists, maps and JSON scalars Jackson writes as they are; other values as their ISO or plain text. */
    private static Object plain(Object v) throws SQLException {
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Number || v instanceof byte[]) {
            return v;
        }
        if (v instanceof java.sql.Array) {
            Object[] items = (Object[]) ((java.sql.Array) v).getArray();
            List<Object> out = new ArrayList<>(items.length);
            for (Object item : items) {
                out.add(plain(item));
            }
            return out;
        }
        if (v instanceof java.sql.Blob) {
            java.sql.Blob blob = (java.sql.Blob) v;
            return blob.getBytes(1, (int) blob.length());
        }
        if (v instanceof Map || v instanceof org.duckdb.DuckDBStruct) {
            // A struct's fields keep their declared order. DuckDB's driver hands a MAP over as a
            // HashMap, whose order is not the map's and, for keys that are lists or structs (hashed
            // by identity), not even the same at each read: such entries are sorted by their key's
            // text, so a row reads the same every time (its messageId and diff hash depend on it).
            Map<?, ?> map = v instanceof org.duckdb.DuckDBStruct ? ((org.duckdb.DuckDBStruct) v).getMap() : (Map<?, ?>) v;
            boolean ordered = v instanceof org.duckdb.DuckDBStruct || map instanceof LinkedHashMap || map instanceof java.util.SortedMap;
            Map<String, Object> out = ordered ? new LinkedHashMap<>() : new java.util.TreeMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                Object key = plain(e.getKey());
                out.put(key instanceof String ? (String) key : jsonOf(key), plain(e.getValue()));
            }
            return out;
        }
        if (v instanceof OffsetDateTime) {
            return ((OffsetDateTime) v).toInstant().toString();
        }
        if (v instanceof java.sql.Timestamp) {
            return ((java.sql.Timestamp) v).toLocalDateTime().toString();
        }
        if (v instanceof java.sql.Date) {
            return ((java.sql.Date) v).toLocalDate().toString();
        }
        return v.toString();
    }
}
