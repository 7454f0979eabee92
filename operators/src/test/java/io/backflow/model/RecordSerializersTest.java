package io.backflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.Position;
import io.backflow.source.SourceRow;
import io.backflow.source.SourceRowSerializer;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** Backflow's record types have their own serializers, which round-trip every value type a row can hold. */
class RecordSerializersTest {

    private static final Object[] EVERY_TYPE = {
        null, 42L, 7, 3.5d, 1.25f, new BigDecimal("-12345678901234567890.000123"), true,
        LocalDate.of(1969, 12, 31), LocalDateTime.of(2024, 2, 29, 23, 59, 59, 999_999_999), Instant.parse("1900-01-01T00:00:00.000001Z"),
        new byte[] {0, -1, 127}, "Zoë – 東京 🚀", "", "x".repeat(70_000)
    };

    @Test
    void flinkFindsTheRecordTypesThroughTheirAnnotationsNotKryo() {
        for (Class<?> c : new Class<?>[] {SourceRow.class, SyncRecord.class}) {
            TypeInformation<?> info = TypeInformation.of(c);
            assertInstanceOf(RecordTypeInfo.class, info, c.getName());
            SerializerConfigImpl noGenerics = new SerializerConfigImpl();
            noGenerics.setGenericTypes(false);
            // Would throw "Generic types have been disabled" for a Kryo fallback.
            assertTrue(info.createSerializer(noGenerics) != null);
        }
    }

    @Test
    void aRowOfEveryValueTypeAndItsPositionRoundTrip() throws IOException {
        String[] columns = new String[EVERY_TYPE.length];
        for (int i = 0; i < columns.length; i++) {
            columns[i] = "Col_" + i;
        }
        SourceRow row = SourceRow.row("full-1", columns, EVERY_TYPE.clone(), Position.of(new Object[] {LocalDate.of(2024, 1, 1), 9L}),
                (byte) (SourceRow.AT_START_MARK | SourceRow.AT_HIGH_WATER_MARK));
        SourceRow back = roundTrip(SourceRowSerializer.INSTANCE, row);
        assertEquals("full-1", back.splitId());
        assertArrayEquals(columns, back.columns());
        assertValues(EVERY_TYPE, back.values());
        assertEquals(row.position(), back.position());
        assertTrue(back.atStartMark() && back.atHighWaterMark());
        assertTrue(!back.isSplitEnd());

        SourceRow copy = SourceRowSerializer.INSTANCE.copy(row);
        assertNotSame(row.values(), copy.values());
        assertNotSame(row.values()[10], copy.values()[10]);
        assertValues(EVERY_TYPE, copy.values());

        SourceRow end = roundTrip(SourceRowSerializer.INSTANCE, SourceRow.splitEnd("incremental-0", "[[\"long\",3]]"));
        assertTrue(end.isSplitEnd());
        assertEquals("[[\"long\",3]]", end.position());
        assertNull(roundTrip(SourceRowSerializer.INSTANCE, SourceRow.splitEnd("s", (Position) null)).positionValue());
    }

    @Test
    void everyKindOfSyncRecordRoundTrips() throws IOException {
        Position key = Position.of(new Object[] {"k-1", 2L});
        SyncRecord event = SyncRecord.event("full-0", Position.of(new Object[] {5L}), "{\"id\":5}", "0f8fad5b-d9cb-469f-a165-70867728950e",
                "{\"type\":\"track\",\"name\":\"Zoë\"}".getBytes(StandardCharsets.UTF_8), key).atHighWaterMark(new MarkRow(1L, -2L, 3L));
        SyncRecord e = roundTrip(SyncRecordSerializer.INSTANCE, event);
        assertEquals(SyncRecord.Kind.EVENT, e.kind());
        assertEquals("full-0", e.splitId());
        assertEquals(event.position(), e.position());
        assertEquals("{\"id\":5}", e.key());
        assertEquals(event.messageId(), e.messageId());
        assertArrayEquals(event.payload(), e.payload());
        assertEquals(event.keyPosition(), e.keyPosition());
        assertEquals(new MarkRow(1L, -2L, 3L), e.mark());

        SyncRecord invalid = roundTrip(SyncRecordSerializer.INSTANCE,
                SyncRecord.invalid("full-0", "[[\"long\",6]]", "{\"id\":6}", "no user id: userId column 'user_id' is null or blank"));
        assertEquals(SyncRecord.Kind.INVALID, invalid.kind());
        assertEquals("no user id: userId column 'user_id' is null or blank", invalid.reason());
        assertNull(invalid.payload());
        assertNull(invalid.mark());

        SyncRecord end = roundTrip(SyncRecordSerializer.INSTANCE, SyncRecord.splitEnd("full-0", "[[\"long\",7]]"));
        assertEquals(SyncRecord.Kind.SPLIT_END, end.kind());
        assertEquals("[[\"long\",7]]", end.position());
    }

    @Test
    void aValueOfAnotherTypeIsRefusedByNameAndSnapshotsRestoreTheSameSerializer() throws IOException {
        SourceRow odd = SourceRow.row("s", new String[] {"c"}, new Object[] {new java.util.ArrayList<>()}, (Position) null);
        IOException e = assertThrows(IOException.class, () -> SourceRowSerializer.INSTANCE.serialize(odd, new DataOutputSerializer(16)));
        assertTrue(e.getMessage().contains("java.util.ArrayList"), e.getMessage());

        for (TypeSerializer<?> s : new TypeSerializer<?>[] {SourceRowSerializer.INSTANCE, SyncRecordSerializer.INSTANCE}) {
            assertCompatibleAfterRestore(s);
        }
    }

    private static <T> void assertCompatibleAfterRestore(TypeSerializer<T> serializer) throws IOException {
        TypeSerializerSnapshot<T> snapshot = serializer.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        TypeSerializerSnapshot<T> restored = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), RecordSerializersTest.class.getClassLoader());
        assertEquals(serializer, restored.restoreSerializer());
        TypeSerializerSchemaCompatibility<T> compatibility = serializer.snapshotConfiguration().resolveSchemaCompatibility(restored);
        assertTrue(compatibility.isCompatibleAsIs(), compatibility.toString());
    }

    private static <T> T roundTrip(TypeSerializer<T> serializer, T value) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(value, out);
        byte[] bytes = out.getCopyOfBuffer();
        DataOutputSerializer copied = new DataOutputSerializer(64);
        serializer.copy(new DataInputDeserializer(bytes), copied);
        assertArrayEquals(bytes, copied.getCopyOfBuffer(), "copy(in, out) writes the same bytes");
        DataInputDeserializer in = new DataInputDeserializer(bytes);
        T back = serializer.deserialize(in);
        assertEquals(0, in.available(), "every byte read");
        return back;
    }

    private static void assertValues(Object[] expected, Object[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] instanceof byte[] b) {
                assertArrayEquals(b, (byte[]) actual[i], "value " + i);
            } else {
                assertEquals(expected[i], actual[i], "value " + i);
                assertEquals(expected[i] == null ? null : expected[i].getClass(), actual[i] == null ? null : actual[i].getClass(), "type of value " + i);
            }
        }
    }
}
