package io.backflow.mapping;

/**
 * The result of mapping one row: a ready event (key, messageId, UTF-8 JSON payload) or an invalid
 * row (key and a one-line reason naming the column).
 */
public final class MappedRow {
    private final String key;
    private final String messageId;
    private final byte[] payload;
    private final String reason;

    private MappedRow(String key, String messageId, byte[] payload, String reason) {
        this.key = key;
        this.messageId = messageId;
        this.payload = payload;
        this.reason = reason;
    }

    public static MappedRow event(String key, String messageId, byte[] payload) {
        return new MappedRow(key, messageId, payload, null);
    }

    public static MappedRow invalid(String key, String reason) {
        return new MappedRow(key, null, null, reason);
    }

    public boolean isEvent() {
        return payload != null;
    }

    /** The primary key as a JSON object, such as {@code {"id":5}}; null key values are kept for invalid rows. */
    public String key() {
        return key;
    }

    /** The event's messageId, or null for an invalid row. */
    public String messageId() {
        return messageId;
    }

    /** The event as UTF-8 JSON, or null for an invalid row. */
    public byte[] payload() {
        return payload;
    }

    /** Why the row is invalid, or null for an event. */
    public String reason() {
        return reason;
    }

    @Override
    public String toString() {
        return isEvent() ? "Event{" + key + ", " + messageId + ", " + payload.length + " bytes}" : "Invalid{" + key + ": " + reason + "}";
    }
}
