package io.backflow.mapping;

/** The kind of RudderStack/Segment call a connection turns each row into. */
public enum EventType {
    /** A named action with {@code properties}. */
    TRACK,
    /** A user profile update with {@code traits}. */
    IDENTIFY;

    /** The value of the event's {@code type} field. */
    public String wireName() {
        return this == TRACK ? "track" : "identify";
    }
}
