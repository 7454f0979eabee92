package io.backflow.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DeliveryCommittableSerializer;
import io.backflow.model.RowError;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The sink's committables survive the serializer it declares, errors included. */
class DeliveryCommittableSerializerTest {

    @Test
    void roundTripsWhatTheWriterProduces() throws Exception {
        Map<String, String> positions = new LinkedHashMap<>();
        positions.put("split-0", "{\"updated_at\":\"2025-01-01T00:00:00Z\",\"id\":7}");
        positions.put("split-1", null);
        String longReason = "HTTP 400: " + "x".repeat(70_000);
        List<RowError> errors = List.of(
                new RowError(RowError.Kind.FAILED, "{\"id\":7}", "m-7", "HTTP 503 after 8 attempts: down"),
                new RowError(RowError.Kind.INVALID, "{\"id\":8}", null, "no userId or anonymousId"),
                new RowError(RowError.Kind.FAILED, "{\"id\":9}", "m-9", longReason));
        io.backflow.model.MarkRows.Builder marks = new io.backflow.model.MarkRows.Builder();
        marks.add(io.backflow.model.MarkRow.of("[[\"long\",7]]", "9f2d1c3e-58a4-4b1e-8c7d-2a6b5e4f3d21"));
        marks.add(new io.backflow.model.MarkRow(-1L, Long.MIN_VALUE, 5L));
        DeliveryCommittable c = new DeliveryCommittable("run-1", 3, 42, 10, 7, 2, 1, positions, Set.of("split-0"), errors, marks.drain());
        DeliveryCommittableSerializer serializer = new DeliveryCommittableSerializer();

        DeliveryCommittable back = serializer.deserialize(serializer.getVersion(), serializer.serialize(c));

        assertThat(back).isEqualTo(c);
        assertThat(back.positions()).containsExactlyEntriesOf(positions);
        assertThat(back.errors()).hasSize(3);
        assertThat(back.markRows()).isEqualTo(c.markRows());
        assertThat(back.markRows().size()).isEqualTo(2);
        for (int i = 0; i < errors.size(); i++) {
            RowError want = errors.get(i);
            RowError got = back.errors().get(i);
            assertThat(got.kind()).isEqualTo(want.kind());
            assertThat(got.key()).isEqualTo(want.key());
            assertThat(got.messageId()).isEqualTo(want.messageId());
            assertThat(got.reason()).isEqualTo(want.reason());
        }
    }

    @Test
    void roundTripsTheStageOfStagedRowErrors() throws Exception {
        DeliveryCommittable c = new DeliveryCommittable("run-1", 0, 7, 20_000, 0, 0, 20_000, Map.of(), Set.of(), List.of(),
                io.backflow.model.MarkRows.EMPTY, "writer-uuid/3", 19_500);
        DeliveryCommittableSerializer serializer = new DeliveryCommittableSerializer();
        DeliveryCommittable back = serializer.deserialize(serializer.getVersion(), serializer.serialize(c));
        assertThat(back).isEqualTo(c);
        assertThat(back.errorStage()).isEqualTo("writer-uuid/3");
        assertThat(back.stagedErrors()).isEqualTo(19_500);
    }
}
