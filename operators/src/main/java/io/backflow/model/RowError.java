package io.backflow.model;

import java.io.Serializable;

/** A row that was not delivered: its key, whether it was invalid or failed, and why. */
public final class RowError implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Invalid rows never left Backflow; failed rows were refused by the destination or ran out of retries. */
    public enum Kind { INVALID, FAILED }

    private final Kind kind;
    private final String key;
    private final String messageId;
    private final String reason;
    private final String keyPosition;

    public RowError(Kind kind, String key, String messageId, String reason) {
        this(kind, key, messageId, reason, null);
    }

    /** {@code keyPosition}: the row's primary key values as a PositionCodec string, so it can be read again. */
    public RowError(Kind kind, String key, String messageId, String reason, String keyPosition) {
        this.kind = kind;
        this.key = key;
        this.messageId = messageId;
        this.reason = reason;
        this.keyPosition = keyPosition;
    }

    public Kind kind() { return kind; }
    public String key() { return key; }
    public String messageId() { return messageId; }
    public String reason() { return reason; }
    /** The row's primary key values (PositionCodec), or null when unknown. */
    public String keyPosition() { return keyPosition; }

    @Override
    public String toString() {
        return kind + " " + key + ": " + reason;
    }
}
