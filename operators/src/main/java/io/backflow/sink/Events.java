package io.backflow.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** Reads the events Backflow builds ({@code track}, {@code identify}, {@code record} JSON) for destinations that reshape them. */
public final class Events {
    /** Shared: ObjectMapper is thread-safe once configured. */
    public static final ObjectMapper JSON = new ObjectMapper();

    private Events() {}

    /** The event of {@code entry} as a tree. */
    public static JsonNode parse(DeliveryEntry entry) {
        try {
            return JSON.readTree(entry.payload());
        } catch (IOException e) {
            // Backflow wrote these bytes itself; unreadable JSON is a bug, not a bad row.
            throw new IllegalStateException("event of row " + entry.key() + " is not JSON", e);
        }
    }

    /** A text field of {@code event}, or null when it is missing, null or empty. */
    public static String text(JsonNode event, String field) {
        JsonNode v = event.get(field);
        return v == null || v.isNull() || v.asText().isEmpty() ? null : v.asText();
    }

    /** {@code node} as JSON bytes. */
    public static byte[] bytes(Object node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException("could not write a request body", e);
        }
    }
}
