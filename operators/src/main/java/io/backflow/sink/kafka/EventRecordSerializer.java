package io.backflow.sink.kafka;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.backflow.model.SyncRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A Backflow event as one Kafka record: the value is the event's JSON as the mapper built it (no
 * second encoding), the key is chosen by {@link KafkaKey}, and header {@code messageId} carries the
 * event's message id so that a consumer can drop the copies an at-least-once delivery may add.
 */
final class EventRecordSerializer implements KafkaRecordSerializationSchema<SyncRecord> {
    private static final long serialVersionUID = 1L;
    static final String MESSAGE_ID_HEADER = "messageId";
    private static final JsonFactory JSON = new JsonFactory();

    private final String topic;
    private final KafkaKey key;

    EventRecordSerializer(String topic, KafkaKey key) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.key = Objects.requireNonNull(key, "key");
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(SyncRecord record, KafkaSinkContext context, Long timestamp) {
        RecordHeaders headers = new RecordHeaders();
        if (record.messageId() != null) {
            headers.add(MESSAGE_ID_HEADER, record.messageId().getBytes(StandardCharsets.UTF_8));
        }
        return new ProducerRecord<>(topic, null, null, keyOf(record), record.payload(), headers);
    }

    private byte[] keyOf(SyncRecord record) {
        String k = key == KafkaKey.USER_ID ? userId(record.payload()) : null;
        if (k == null) {
            k = record.key();
        }
        return k == null ? null : k.getBytes(StandardCharsets.UTF_8);
    }

    /** The event's top-level {@code userId}, else its {@code anonymousId}, read without building a tree. */
    static String userId(byte[] event) {
        String anonymous = null;
        try (JsonParser p = JSON.createParser(event)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (value == JsonToken.VALUE_STRING && "userId".equals(name)) {
                    return p.getText();
                }
                if (value == JsonToken.VALUE_STRING && "anonymousId".equals(name)) {
                    anonymous = p.getText();
                } else if (value.isStructStart()) {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("event is not JSON", e);
        }
        return anonymous;
    }
}
