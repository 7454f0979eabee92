package io.backflow.sink;

import io.backflow.jdbc.Position;
import io.backflow.model.MarkRow;
import java.io.Serializable;
import java.util.Objects;

/**
 * One event as the sink buffers and sends it: the row key and message id (to report a failure)
 * and the event's UTF-8 JSON. Split and position stay with the writer, which resolves them per
 * checkpoint rather than per event.
 */
public final class DeliveryEntry implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final String messageId;
    private final byte[] payload;
    private final Position keyPosition;
    private final MarkRow mark;

    public DeliveryEntry(String key, String messageId, byte[] payload) {
        this(key, messageId, payload, null);
    }

    public DeliveryEntry(String key, String messageId, byte[] payload, String keyPosition) {
        this(key, messageId, payload, keyPosition, null);
    }

    /**
     * {@code keyPosition}: the row's primary key values (PositionCodec), so a failed event can be
     * read again by key; {@code mark}: its identity when the row is at the run's high-water mark.
     */
    public DeliveryEntry(String key, String messageId, byte[] payload, String keyPosition, MarkRow mark) {
        this(key, messageId, payload, Position.ofEncoded(keyPosition), mark);
    }

    /** As above, with the key values still unencoded: only a failed entry's are ever encoded. */
    public DeliveryEntry(String key, String messageId, byte[] payload, Position keyPosition, MarkRow mark) {
        this.key = key;
        this.messageId = messageId;
        this.payload = Objects.requireNonNull(payload, "payload");
        this.keyPosition = keyPosition;
        this.mark = mark;
    }

    /** The row's primary key as JSON. */
    public String key() { return key; }
    public String messageId() { return messageId; }
    /** The event's UTF-8 JSON, sent as is. */
    public byte[] payload() { return payload; }
    /** The row's primary key values (PositionCodec), or null when unknown. */
    public String keyPosition() { return Position.encoded(keyPosition); }
    public Position keyPositionValue() { return keyPosition; }
    /** The row's identity at the run's high-water mark, or null. */
    public MarkRow mark() { return mark; }

    /** What this entry adds to a request body (without separators). */
    public long sizeInBytes() {
        return payload.length;
    }

    @Override
    public String toString() {
        return "DeliveryEntry{key=" + key + ", messageId=" + messageId + ", bytes=" + payload.length + "}";
    }
}
