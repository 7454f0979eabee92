package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.backflow.jdbc.PositionCodec;
import io.backflow.source.enumerator.WarehouseEnumeratorState;
import io.backflow.source.enumerator.WarehouseEnumeratorStateSerializer;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.split.WarehouseSplitSerializer;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Split and enumerator-state serializers round-trip every field, including nulls and long positions. */
class WarehouseSerializersTest {

    static final String HWM = PositionCodec.encode(new Object[] {LocalDateTime.parse("2024-05-06T07:08:09.123456")});
    static final String LONG_KEY = "k".repeat(70_000); // beyond writeUTF's 64 KB

    static WarehouseSplit roundTrip(WarehouseSplit split) throws IOException {
        WarehouseSplitSerializer s = WarehouseSplitSerializer.INSTANCE;
        return s.deserialize(s.getVersion(), s.serialize(split));
    }

    @Test
    void splitRoundTripsWithEveryFieldSet() throws IOException {
        WarehouseSplit split = new WarehouseSplit("full-2", SyncType.FULL, -5L, Long.MAX_VALUE, HWM,
                PositionCodec.encode(new Object[] {42L}), 1234, false);
        assertEquals(split, roundTrip(split));
    }

    @Test
    void splitRoundTripsWithNullsAndALongPosition() throws IOException {
        String position = PositionCodec.encode(new Object[] {Instant.parse("2024-01-01T00:00:00Z"), LONG_KEY, new BigDecimal("1.50")});
        WarehouseSplit split = new WarehouseSplit("incremental-0", SyncType.INCREMENTAL, null, null, null, position, -1, true);
        WarehouseSplit back = roundTrip(split);
        assertEquals(split, back);
        assertEquals(LONG_KEY, PositionCodec.decode(back.position())[1]);
    }

    @Test
    void enumeratorStateRoundTrips() throws IOException {
        WarehouseEnumeratorStateSerializer s = WarehouseEnumeratorStateSerializer.INSTANCE;
        WarehouseEnumeratorState state = new WarehouseEnumeratorState(true, HWM, List.of(
                new WarehouseSplit("full-1", SyncType.FULL, 10L, 20L, HWM, null, 10, false),
                new WarehouseSplit("full-2", SyncType.FULL, 20L, null, HWM, null, -1, false)));
        assertEquals(state, s.deserialize(s.getVersion(), s.serialize(state)));

        WarehouseEnumeratorState unplanned = WarehouseEnumeratorState.unplanned();
        assertEquals(unplanned, s.deserialize(s.getVersion(), s.serialize(unplanned)));
    }

    @Test
    void unknownVersionsAreRefusedWithAClearMessage() {
        IOException e = assertThrows(IOException.class, () -> WarehouseSplitSerializer.INSTANCE.deserialize(99, new byte[0]));
        assertEquals("unknown WarehouseSplit serializer version 99 (this build reads 1)", e.getMessage());
        assertThrows(IOException.class, () -> WarehouseEnumeratorStateSerializer.INSTANCE.deserialize(2, new byte[0]));
    }
}
