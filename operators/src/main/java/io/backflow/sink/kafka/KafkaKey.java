package io.backflow.sink.kafka;

/** What a record's Kafka key is, and so which partition keeps one row's (or one user's) events in order. */
public enum KafkaKey {
    /** The row's primary key as JSON, such as {@code {"id":42}}: every event of one row lands in one partition, in order. */
    ROW_KEY,
    /** The event's {@code userId} (or {@code anonymousId} when it has none): one user's events stay in order. */
    USER_ID
}
