package io.backflow.sink.http;

import io.backflow.sink.DeliveryEntry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.RequestEntryWrapper;
import org.junit.jupiter.api.Test;

class DeliveryEntryStateSerializerTest {
    private final DeliveryEntryStateSerializer serializer = new DeliveryEntryStateSerializer();

    @Test
    void roundTripsBufferedEntries() throws Exception {
        String longKey = "{\"id\":\"" + "k".repeat(70_000) + "\"}";
        List<DeliveryEntry> entries = List.of(
                new DeliveryEntry("{\"id\":1}", "m-1", "{\"event\":\"a\"}".getBytes(StandardCharsets.UTF_8)),
                new DeliveryEntry(null, null, new byte[0]),
                new DeliveryEntry("{\"id\":\"ü€\"}", "m-ü", "{\"name\":\"Zoë 🚀\"}".getBytes(StandardCharsets.UTF_8)),
                new DeliveryEntry(longKey, "m-long", new byte[] {'{', '}'}),
                new DeliveryEntry("{\"id\":2}", "m-2", new byte[] {'{', '}'}, "[[\"long\",2]]", new io.backflow.model.MarkRow(3, 4, 5)));
        List<RequestEntryWrapper<DeliveryEntry>> wrapped = new ArrayList<>();
        for (DeliveryEntry e : entries) {
            wrapped.add(new RequestEntryWrapper<>(e, e.sizeInBytes()));
        }

        byte[] bytes = serializer.serialize(new BufferedRequestState<>(wrapped));
        BufferedRequestState<DeliveryEntry> back = serializer.deserialize(serializer.getVersion(), bytes);

        List<RequestEntryWrapper<DeliveryEntry>> restored = new ArrayList<>(back.getBufferedRequestEntries());
        assertThat(restored).hasSize(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            DeliveryEntry want = entries.get(i);
            DeliveryEntry got = restored.get(i).getRequestEntry();
            assertThat(got.key()).isEqualTo(want.key());
            assertThat(got.messageId()).isEqualTo(want.messageId());
            assertThat(got.payload()).isEqualTo(want.payload());
            assertThat(got.mark()).isEqualTo(want.mark());
            assertThat(restored.get(i).getSize()).isEqualTo(want.sizeInBytes());
        }
        assertThat(back.getStateSize()).isEqualTo(entries.stream().mapToLong(DeliveryEntry::sizeInBytes).sum());
    }

    @Test
    void roundTripsAnEmptyBuffer() throws Exception {
        byte[] bytes = serializer.serialize(new BufferedRequestState<>(List.of()));
        assertThat(serializer.deserialize(1, bytes).getBufferedRequestEntries()).isEmpty();
    }

    @Test
    void refusesAnUnknownVersion() throws Exception {
        byte[] bytes = serializer.serialize(new BufferedRequestState<>(List.of()));
        assertThatThrownBy(() -> serializer.deserialize(99, bytes)).hasMessageContaining("version 99");
    }
}
