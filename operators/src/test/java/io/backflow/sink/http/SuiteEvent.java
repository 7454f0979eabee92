package io.backflow.sink.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.model.SyncRecord;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The record type of Flink's sink test suite, which needs {@code Comparable} values with equality:
 * one event of a split, turned into a {@link SyncRecord} on the way into the sink and read back
 * from what the receiver got (its split and index travel in the event's properties).
 */
public final class SuiteEvent implements Comparable<SuiteEvent>, java.io.Serializable {
    private static final long serialVersionUID = 1L;
    public String splitId;
    public long index;

    public SuiteEvent() {}

    SuiteEvent(String splitId, long index) {
        this.splitId = splitId;
        this.index = index;
    }

    String messageId() {
        return splitId + "-" + index;
    }

    SyncRecord toSyncRecord() {
        String payload = "{\"type\":\"track\",\"event\":\"Suite Event\",\"userId\":\"u-" + index + "\",\"messageId\":\""
                + messageId() + "\",\"properties\":{\"split\":\"" + splitId + "\",\"index\":" + index + "}}";
        return SyncRecord.event(splitId, Long.toString(index), "{\"id\":" + index + "}", messageId(),
                payload.getBytes(StandardCharsets.UTF_8));
    }

    static SuiteEvent fromDelivered(JsonNode event) {
        JsonNode p = event.path("properties");
        return new SuiteEvent(p.path("split").asText(), p.path("index").asLong());
    }

    @Override
    public int compareTo(SuiteEvent o) {
        int bySplit = splitId.compareTo(o.splitId);
        return bySplit != 0 ? bySplit : Long.compare(index, o.index);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SuiteEvent && ((SuiteEvent) o).index == index && Objects.equals(((SuiteEvent) o).splitId, splitId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(splitId, index);
    }

    @Override
    public String toString() {
        return messageId();
    }
}
