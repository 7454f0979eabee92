package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.PositionCodec;
import io.backflow.source.enumerator.WarehouseEnumeratorState;
import io.backflow.source.enumerator.WarehouseEnumeratorStateSerializer;
import io.backflow.source.split.SplitKind;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.split.WarehouseSplitSerializer;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Split and enumerator-state serializers round-trip every field, including nulls and long
 * positions, and still read what earlier versions wrote.
 */
class WarehouseSerializersTest {

    // Written by the version 1 serializer (before NULL_KEYS splits existed); never regenerate.
    static final String V1_FULL_SPLIT = "AAAABmZ1bGwtMQAAAARGVUxMAQAAAAAAAABkAQAAAAAAAADIAAAAJVtbInRpbWVzdGFtcCIsIjIwMjQtMDUtMDZUMDc6MDg6MDkiXV0"
            + "AAAAOW1sibG9uZyIsMTUwXV0AAAAAAAAAMgA=";
    static final String V1_INCREMENTAL_SPLIT = "AAAADWluY3JlbWVudGFsLTAAAAALSU5DUkVNRU5UQUwAAAAAAAxbWyJsb25nIiw5XV3///////////////8B";
    static final String V1_STATE = "AQAAAAxbWyJsb25nIiw5XV0AAAACAAAAAQAAAGgAAAAGZnVsbC0xAAAABEZVTEwBAAAAAAAAAGQBAAAAAAAAAMgAAAAlW1sidGltZXN0YW1wIiwiMjAy"
            + "NC0wNS0wNlQwNzowODowOSJdXQAAAA5bWyJsb25nIiwxNTBdXQAAAAAAAAAyAAAAAAEAAAA/AAAADWluY3JlbWVudGFsLTAAAAALSU5DUkVNRU5UQUwA"
            + "AAAAAAxbWyJsb25nIiw5XV3///////////////8B";
    static final WarehouseSplit V1_FULL = new WarehouseSplit("full-1", SyncType.FULL, 100L, 200L,
            "[[\"timestamp\",\"2024-05-06T07:08:09\"]]", "[[\"long\",150]]", 50, false);
    static final WarehouseSplit V1_INCREMENTAL = new WarehouseSplit("incremental-0", SyncType.INCREMENTAL, null, null,
            "[[\"long\",9]]", null, -1, true);

    // Written by the version 2 serializer (before RETRY_KEYS splits existed); never regenerate.
    static final String V2_NULL_KEYS_SPLIT = "AAAACW51bGwta2V5cwAAAAtJTkNSRU1FTlRBTAAAAAAADFtbImxvbmciLDldXQAAAAxbWyJsb25nIiw1XV0AAAAAAAAADAAAAAAJTlVM"
            + "TF9LRVlTAAAADFtbImxvbmciLDNdXQ==";
    static final String V2_FULL_SPLIT = "AAAABmZ1bGwtMQAAAARGVUxMAQAAAAAAAABkAQAAAAAAAADIAAAAJVtbInRpbWVzdGFtcCIsIjIwMjQtMDUtMDZUMDc6MDg6MDkiXV0AAAAO"
            + "W1sibG9uZyIsMTUwXV0AAAAAAAAAMgAAAAAGS0VZU0VU/////w==";
    // toBase64 of V2_NULL_KEYS by the version 2 serializer, as a ledger kept it.
    static final String V2_NULL_KEYS_DESCRIPTOR = "AAAAAgAAAAludWxsLWtleXMAAAALSU5DUkVNRU5UQUwAAAAAAAxbWyJsb25nIiw5XV0AAAAMW1sibG9uZyIsNV1dAAAAAAAAAAwAAAAACU5V"
            + "TExfS0VZUwAAAAxbWyJsb25nIiwzXV0=";
    static final WarehouseSplit V2_NULL_KEYS = WarehouseSplit.nullKeys(SyncType.INCREMENTAL, "[[\"long\",9]]", "[[\"long\",3]]", 17)
            .withProgress(WarehouseSplit.rowsEmittedPosition(5), 12, false);

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
        assertEquals("unknown WarehouseSplit serializer version 99 (this build reads 1 to 5)", e.getMessage());
        assertThrows(IOException.class, () -> WarehouseEnumeratorStateSerializer.INSTANCE.deserialize(3, new byte[0]));
    }

    @Test
    void version1SplitsAndStatesStillDecodeAsKeysetSplits() throws IOException {
        WarehouseSplitSerializer s = WarehouseSplitSerializer.INSTANCE;
        assertEquals(5, s.getVersion());
        WarehouseSplit full = s.deserialize(1, Base64.getDecoder().decode(V1_FULL_SPLIT));
        assertEquals(V1_FULL, full);
        assertEquals(SplitKind.KEYSET, full.kind());
        assertEquals(V1_INCREMENTAL, s.deserialize(1, Base64.getDecoder().decode(V1_INCREMENTAL_SPLIT)));

        WarehouseEnumeratorStateSerializer states = WarehouseEnumeratorStateSerializer.INSTANCE;
        assertEquals(new WarehouseEnumeratorState(true, "[[\"long\",9]]", List.of(V1_FULL, V1_INCREMENTAL)),
                states.deserialize(1, Base64.getDecoder().decode(V1_STATE)));
        // Its version-1 splits also read back from a descriptor string.
        assertEquals(V1_FULL, WarehouseSplitSerializer.fromBase64(
                Base64.getEncoder().encodeToString(concat(new byte[] {0, 0, 0, 1}, Base64.getDecoder().decode(V1_FULL_SPLIT)))));
    }

    @Test
    void nullKeySplitsRoundTripInSplitsAndStates() throws IOException {
        WarehouseSplit incremental = WarehouseSplit.nullKeys(SyncType.INCREMENTAL, HWM, PositionCodec.encode(new Object[] {LocalDateTime.parse("2024-01-01T00:00")}), 17)
                .withProgress(WarehouseSplit.rowsEmittedPosition(5), 12, false);
        WarehouseSplit back = roundTrip(incremental);
        assertEquals(incremental, back);
        assertEquals(SplitKind.NULL_KEYS, back.kind());
        assertEquals(WarehouseSplit.NULL_KEYS_ID, back.splitId());
        assertEquals(5, back.rowsEmitted());
        assertEquals(incremental.cursorAfter(), back.cursorAfter());

        WarehouseSplit full = WarehouseSplit.nullKeys(SyncType.FULL, null, null, -1);
        assertEquals(full, roundTrip(full));
        assertEquals(0, full.rowsEmitted());

        WarehouseEnumeratorStateSerializer s = WarehouseEnumeratorStateSerializer.INSTANCE;
        WarehouseEnumeratorState state = new WarehouseEnumeratorState(true, HWM, List.of(V1_FULL, incremental));
        assertEquals(state, s.deserialize(s.getVersion(), s.serialize(state)));
    }

    @Test
    void descriptorStringsRoundTripEveryKindAndRefuseGarbage() {
        for (WarehouseSplit split : List.of(V1_FULL, V1_INCREMENTAL,
                WarehouseSplit.nullKeys(SyncType.FULL, HWM, null, 3).withProgress(WarehouseSplit.rowsEmittedPosition(2), -1, true))) {
            String descriptor = WarehouseSplitSerializer.toBase64(split);
            assertEquals(split, WarehouseSplitSerializer.fromBase64(descriptor));
            // The ledger moves a descriptor on with the committed position.
            WarehouseSplit moved = WarehouseSplitSerializer.fromBase64(descriptor).withProgress("[[\"long\",7]]", -1, false);
            assertEquals(split.kind(), moved.kind());
            assertEquals(split.rangeEnd(), moved.rangeEnd());
        }
        assertEquals("split descriptor is empty",
                assertThrows(IllegalArgumentException.class, () -> WarehouseSplitSerializer.fromBase64(" ")).getMessage());
        assertEquals("split descriptor is too short (2 bytes)",
                assertThrows(IllegalArgumentException.class, () -> WarehouseSplitSerializer.fromBase64("AAA=")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WarehouseSplitSerializer.fromBase64("not base64!"))
                .getMessage().startsWith("split descriptor is not Base64"));
        assertEquals("split descriptor is unreadable: unknown WarehouseSplit serializer version 7 (this build reads 1 to 5)",
                assertThrows(IllegalArgumentException.class, () -> WarehouseSplitSerializer.fromBase64("AAAAB0FBQUE=")).getMessage());
    }

    @Test
    void version2SplitsStillDecodeWithoutRetryKeys() throws IOException {
        WarehouseSplitSerializer s = WarehouseSplitSerializer.INSTANCE;
        WarehouseSplit nullKeys = s.deserialize(2, Base64.getDecoder().decode(V2_NULL_KEYS_SPLIT));
        assertEquals(V2_NULL_KEYS, nullKeys);
        assertEquals(SplitKind.NULL_KEYS, nullKeys.kind());
        assertEquals(5, nullKeys.rowsEmitted());
        assertEquals(List.of(), nullKeys.retryKeys());
        assertEquals(V1_FULL, s.deserialize(2, Base64.getDecoder().decode(V2_FULL_SPLIT)));
        assertEquals(V2_NULL_KEYS, WarehouseSplitSerializer.fromBase64(V2_NULL_KEYS_DESCRIPTOR));
    }

    @Test
    void retryKeySplitsRoundTripInVersion3SplitsStatesAndDescriptors() throws IOException {
        List<String> keys = List.of(
                PositionCodec.encode(new Object[] {"eu", 7L}),
                PositionCodec.encode(new Object[] {LONG_KEY, 8L}),
                PositionCodec.encode(new Object[] {"ünïcode", -1L}));
        WarehouseSplit split = WarehouseSplit.retryKeys(SyncType.INCREMENTAL, HWM, keys)
                .withProgress(WarehouseSplit.rowsEmittedPosition(2), 1, false);
        WarehouseSplit back = roundTrip(split);
        assertEquals(split, back);
        assertEquals(SplitKind.RETRY_KEYS, back.kind());
        assertEquals(WarehouseSplit.RETRY_KEYS_ID, back.splitId());
        assertEquals(keys, back.retryKeys());
        assertEquals(2, back.keysDone());

        WarehouseSplit descriptorBack = WarehouseSplitSerializer.fromBase64(WarehouseSplitSerializer.toBase64(split));
        assertEquals(split, descriptorBack);
        assertEquals(keys, descriptorBack.withProgress(WarehouseSplit.rowsEmittedPosition(3), 0, true).retryKeys());
        // Descriptors name the version they were written with.
        assertEquals(5, Base64.getDecoder().decode(WarehouseSplitSerializer.toBase64(split))[3]);

        // Without a high-water mark (an INCREMENTAL run with no new rows) and without progress.
        WarehouseSplit fresh = WarehouseSplit.retryKeys(SyncType.INCREMENTAL, null, keys.subList(0, 1));
        assertEquals(fresh, roundTrip(fresh));
        assertEquals(0, fresh.keysDone());
        assertEquals(1, fresh.estimatedRemaining());

        WarehouseEnumeratorStateSerializer states = WarehouseEnumeratorStateSerializer.INSTANCE;
        WarehouseEnumeratorState state = new WarehouseEnumeratorState(true, HWM, List.of(V1_FULL, V2_NULL_KEYS, split));
        assertEquals(state, states.deserialize(states.getVersion(), states.serialize(state)));
    }

    @Test
    void startMarksRoundTripInVersion4AndOlderSplitsHaveNone() throws IOException {
        String mark = PositionCodec.encode(new Object[] {java.time.LocalDate.of(2024, 1, 5)});
        WarehouseSplit incremental = new WarehouseSplit("incremental-0", SyncType.INCREMENTAL, null, null, HWM, null, -1, false)
                .withStartMark(mark);
        WarehouseSplit moved = incremental.withProgress(PositionCodec.encode(new Object[] {java.time.LocalDate.of(2024, 1, 5), 9L}), 3, false);
        for (WarehouseSplit split : List.of(incremental, moved,
                WarehouseSplit.nullKeys(SyncType.INCREMENTAL, HWM, null, 2).withStartMark(mark),
                WarehouseSplit.retryKeys(SyncType.INCREMENTAL, HWM, List.of("[[\"long\",1]]")).withStartMark(mark))) {
            WarehouseSplit back = roundTrip(split);
            assertEquals(split, back);
            assertEquals(mark, back.startMark());
            assertEquals(split, WarehouseSplitSerializer.fromBase64(WarehouseSplitSerializer.toBase64(split)));
        }
        // Version 3 bytes are version 4 bytes without the start mark: such splits keep their exclusive bounds.
        WarehouseSplit unmarked = moved.withStartMark(null);
        byte[] v4 = WarehouseSplitSerializer.INSTANCE.serialize(unmarked);
        byte[] v3 = java.util.Arrays.copyOf(v4, v4.length - 4);
        WarehouseSplit old = WarehouseSplitSerializer.INSTANCE.deserialize(3, v3);
        assertEquals(unmarked, old);
        assertEquals(null, old.startMark());
        // A start mark belongs to INCREMENTAL runs, and replaces the older cursorAfter bound.
        assertThrows(IllegalArgumentException.class, () -> V1_FULL.withStartMark(mark));
        assertThrows(IllegalArgumentException.class, () -> V2_NULL_KEYS.withStartMark(mark));
    }

    @Test
    void retryKeySplitsAreIncrementalWithKeysAndCountKeysDone() {
        List<String> keys = List.of("[[\"long\",1]]", "[[\"long\",2]]");
        assertEquals("split retry-keys: only INCREMENTAL runs retry keys (a FULL run resends every row)",
                assertThrows(IllegalArgumentException.class, () -> WarehouseSplit.retryKeys(SyncType.FULL, null, keys)).getMessage());
        assertEquals("split retry-keys is a RETRY_KEYS split without keys",
                assertThrows(IllegalArgumentException.class, () -> WarehouseSplit.retryKeys(SyncType.INCREMENTAL, HWM, List.of())).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new WarehouseSplit("full-0", SplitKind.KEYSET, SyncType.INCREMENTAL,
                null, null, HWM, null, null, -1, false, keys));
        assertThrows(IllegalArgumentException.class, () -> new WarehouseSplit("retry-keys", SplitKind.RETRY_KEYS, SyncType.INCREMENTAL,
                1L, null, HWM, null, null, -1, false, keys));
        WarehouseSplit split = WarehouseSplit.retryKeys(SyncType.INCREMENTAL, HWM, keys);
        assertEquals(2, split.withProgress(WarehouseSplit.rowsEmittedPosition(2), 0, true).keysDone());
        assertThrows(IllegalArgumentException.class, () -> split.withProgress(WarehouseSplit.rowsEmittedPosition(3), 0, false).keysDone());
        assertThrows(IllegalStateException.class, V1_FULL::keysDone);
        assertThrows(IllegalStateException.class, split::rowsEmitted);
        // Keys are personal data: never in the split's description.
        assertEquals("WarehouseSplit{retry-keys, INCREMENTAL, 2 retry key(s), from start}", split.toString());
    }

    @Test
    void nullKeySplitsHaveNoRangeAndCountRows() {
        assertThrows(IllegalArgumentException.class,
                () -> new WarehouseSplit("null-keys", SplitKind.NULL_KEYS, SyncType.FULL, 1L, null, null, null, null, -1, false));
        assertThrows(IllegalArgumentException.class,
                () -> new WarehouseSplit("full-0", SplitKind.KEYSET, SyncType.INCREMENTAL, null, null, HWM, HWM, null, -1, false));
        assertThrows(IllegalStateException.class, V1_FULL::rowsEmitted);
        assertThrows(IllegalArgumentException.class, () -> WarehouseSplit.rowsEmitted("[[\"string\",\"x\"]]"));
        assertThrows(IllegalArgumentException.class, () -> WarehouseSplit.rowsEmitted(WarehouseSplit.rowsEmittedPosition(-1)));
    }

    @Test
    void runIdsRoundTripInVersion5AndOlderSplitsAndStatesHaveNone() throws IOException {
        WarehouseSplit incremental = new WarehouseSplit("incremental-0", SyncType.INCREMENTAL, null, null, HWM, null, -1, false)
                .withStartMark(HWM).withRunId("run-12");
        WarehouseSplit back = roundTrip(incremental);
        assertEquals(incremental, back);
        assertEquals("run-12", back.runId());
        assertEquals(incremental, WarehouseSplitSerializer.fromBase64(WarehouseSplitSerializer.toBase64(incremental)));
        // Progress keeps the run.
        assertEquals("run-12", incremental.withProgress(HWM, 0, true).runId());
        // Version 5 appends the run id to version 4, whose splits have none.
        byte[] v5 = WarehouseSplitSerializer.INSTANCE.serialize(incremental.withRunId(null));
        WarehouseSplit v4 = WarehouseSplitSerializer.INSTANCE.deserialize(4, java.util.Arrays.copyOf(v5, v5.length - 4));
        assertEquals(incremental.withRunId(null), v4);
        assertEquals(null, v4.runId());

        // Enumerator states of version 2 name the current run and the job's first run; version 1 names neither.
        WarehouseEnumeratorStateSerializer states = WarehouseEnumeratorStateSerializer.INSTANCE;
        assertEquals(2, states.getVersion());
        WarehouseEnumeratorState state = new WarehouseEnumeratorState(true, HWM, List.of(incremental), "run-12", "run-10");
        WarehouseEnumeratorState stateBack = states.deserialize(states.getVersion(), states.serialize(state));
        assertEquals(state, stateBack);
        assertEquals("run-12", stateBack.runId());
        assertEquals("run-10", stateBack.jobRunId());
        WarehouseEnumeratorState v1 = states.deserialize(1, Base64.getDecoder().decode(V1_STATE));
        assertEquals(null, v1.runId());
        assertEquals(null, v1.jobRunId());
        assertTrue(v1.planned());
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
