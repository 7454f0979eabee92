package io.backflow.source.split;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.backflow.jdbc.Position;
import io.backflow.source.SyncType;
import org.junit.jupiter.api.Test;

/** A split's rows counted after it began reading: what remains is the count less what was emitted since. */
class WarehouseSplitStateTest {
    @Test
    void aLateCountLessTheRowsEmittedIsWhatRemainsOnce() {
        WarehouseSplitState state = new WarehouseSplitState(new WarehouseSplit("full-0", SyncType.FULL, null, null, null, null, -1, false));
        for (long i = 1; i <= 30; i++) {
            state.rowEmitted(Position.of(new Object[] {i}));
        }
        assertEquals(-1, state.estimatedRemaining());
        assertEquals(70, state.rowsCounted(100));
        state.rowEmitted(Position.of(new Object[] {31L}));
        assertEquals(69, state.estimatedRemaining());
        assertEquals(-1, state.rowsCounted(100), "counted once");

        WarehouseSplitState small = new WarehouseSplitState(new WarehouseSplit("full-1", SyncType.FULL, null, null, null, null, -1, false));
        small.rowEmitted(Position.of(new Object[] {1L}));
        small.rowEmitted(Position.of(new Object[] {2L}));
        assertEquals(0, small.rowsCounted(1), "rows committed after the count are read too");
        WarehouseSplitState done = new WarehouseSplitState(new WarehouseSplit("full-2", SyncType.FULL, null, null, null, null, -1, false));
        done.endEmitted();
        assertEquals(-1, done.rowsCounted(5));
    }
}
