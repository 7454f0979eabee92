package io.backflow.mapping;

/** The kind of RudderStack/Segment call a connection turns each row into. */
public enum EventType {
    /** A named action with {@code properties}. */
    TRACK("track"),
    /** A user profile update with {@code traits}. */
    IDENTIFY("identify"),
    /**
     * RudderStack's reverse-ETL record: an {@code action} (insert, update, upsert or delete) on the row
     * named by its {@code identifiers}, with the row's {@code fields}; no user id is needed.
     */
    RECORD("record");

    private final String wireName;

    EventType(String wireName) {
        this.wireName = wireName;
    }

    /** The value of the event's {@code type} field. */
    public String wireName() {
        return wireName;
    }
}
