package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.source.split.SplitKind;
import io.backflow.source.split.WarehouseSplit;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** build() refuses incomplete or contradictory settings and names the setting. */
class WarehouseSourceBuilderTest {
    static final JdbcEndpoint ENDPOINT = new JdbcEndpoint("jdbc:postgresql://db/warehouse", "reader", "secret");

    static WarehouseSourceBuilder valid() {
        return WarehouseSource.builder().endpoint(ENDPOINT).table("public.users").primaryKey(List.of("id")).runId("run-1");
    }

    static String error(UnaryOperator<WarehouseSourceBuilder> change) {
        return assertThrows(IllegalArgumentException.class, () -> change.apply(valid()).build()).getMessage();
    }

    @Test
    void defaultsAreFullWithDocumentedSizes() {
        WarehouseSourceSettings s = valid().build().settings();
        assertEquals(SyncType.FULL, s.syncType());
        assertEquals(5_000, s.fetchSize());
        assertEquals(50_000, s.pageSize());
        assertEquals(1, s.splits());
        assertEquals(Duration.ZERO, s.highWaterMarkDelay());
        assertEquals("\"public\".\"users\"", s.fromClause());
    }

    @Test
    void queryIsWrappedAsASubqueryWithoutItsSemicolon() {
        WarehouseSourceSettings s = valid().table(null).query("SELECT id FROM t ;; ").build().settings();
        assertEquals("(SELECT id FROM t) AS \"backflow_model\"", s.fromClause());
    }

    @Test
    void invalidSettingsAreNamed() {
        assertEquals("endpoint is required", error(b -> b.endpoint(null)));
        assertEquals("a model is required: set table or query", error(b -> b.table(null)));
        assertEquals("set either table or query, not both", error(b -> b.query("SELECT 1")));
        assertEquals("primaryKey is required: at least one column that identifies a row", error(b -> b.primaryKey(List.of())));
        assertEquals("primaryKey lists column 'id' twice", error(b -> b.primaryKey(List.of("id", "id"))));
        assertEquals("INCREMENTAL sync needs a cursorColumn", error(b -> b.syncType(SyncType.INCREMENTAL)));
        assertEquals("highWaterMarkDelay must be zero or positive, got PT-1S", error(b -> b.highWaterMarkDelay(Duration.ofSeconds(-1))));
        assertEquals("fetchSize must be positive, got 0", error(b -> b.fetchSize(0)));
        assertEquals("pageSize must be positive, got -1", error(b -> b.pageSize(-1)));
        assertEquals("splits must be positive, got 0", error(b -> b.splits(0)));
        assertEquals("runId is required", error(b -> b.runId(" ")));
        assertEquals("syncType is required: FULL or INCREMENTAL", error(b -> b.syncType(null)));
    }

    @Test
    void startAfterMustFitTheSyncType() {
        String cursorOnly = PositionCodec.encode(new Object[] {5L});
        String tuple = PositionCodec.encode(new Object[] {5L, 7L});
        valid().cursorColumn("v").syncType(SyncType.INCREMENTAL).startAfter(cursorOnly).build();
        valid().cursorColumn("v").syncType(SyncType.INCREMENTAL).startAfter(tuple).build();
        valid().startAfter(cursorOnly).build();

        assertEquals("startAfter has 3 values; INCREMENTAL expects 1 (cursor) or 2 (cursor, id)",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).startAfter(PositionCodec.encode(new Object[] {1L, 2L, 3L}))));
        assertEquals("startAfter has 2 values; FULL expects 1 (id)", error(b -> b.startAfter(tuple)));
        assertEquals("startAfter has a null value; positions never hold nulls",
                error(b -> b.startAfter(PositionCodec.encode(new Object[] {null}))));
        assertEquals("startAfter is not an encoded position: not a position: {oops",
                error(b -> b.startAfter("{oops")).replaceAll("\\R.*", ""));
    }

    @Test
    void resumeSplitsMustFitTheRun() {
        String hwm = PositionCodec.encode(new Object[] {100L});
        String key = PositionCodec.encode(new Object[] {7L});
        WarehouseSplit full0 = new WarehouseSplit("full-0", SyncType.FULL, null, 10L, hwm, key, -1, true);
        WarehouseSplit full1 = new WarehouseSplit("full-1", SyncType.FULL, 10L, null, hwm, null, -1, false);
        WarehouseSplit nullKeys = WarehouseSplit.nullKeys(SyncType.FULL, hwm, null, -1).withProgress(WarehouseSplit.rowsEmittedPosition(3), -1, false);
        WarehouseSourceSettings resumed = valid().cursorColumn("v").resumeSplits(hwm, List.of(full0, full1, nullKeys)).build().settings();
        assertEquals(List.of(full0, full1, nullKeys), resumed.resumeSplits());
        assertEquals(hwm, resumed.resumeHighWaterMark());
        assertNull(valid().build().settings().resumeSplits());
        // A run planned with no splits resumes reading nothing.
        assertEquals(List.of(), valid().resumeSplits(null, List.of()).build().settings().resumeSplits());

        WarehouseSplit incremental = new WarehouseSplit("incremental-0", SyncType.INCREMENTAL, null, null, hwm,
                PositionCodec.encode(new Object[] {50L, 7L}), -1, false);
        valid().cursorColumn("v").syncType(SyncType.INCREMENTAL).resumeSplits(hwm, List.of(incremental)).build();

        assertEquals("resumeSplits: split full-1 is FULL but syncType is INCREMENTAL; a run resumes with the type it was planned with",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).resumeSplits(hwm, List.of(full1))));
        assertEquals("resumeSplits: split full-1 has high-water mark [[\"long\",100]], not the run's [[\"long\",5]]",
                error(b -> b.cursorColumn("v").resumeSplits(PositionCodec.encode(new Object[] {5L}), List.of(full1))));
        assertEquals("resumeSplits lists split full-1 twice", error(b -> b.resumeSplits(hwm, List.of(full1, full1))));
        assertEquals("set either startAfter or resumeSplits, not both: resumed splits carry their own positions",
                error(b -> b.startAfter(key).resumeSplits(hwm, List.of(full1))));
        assertEquals("resumeSplits needs a list of splits (empty when the run had none)", error(b -> b.resumeSplits(hwm, null)));
        assertEquals("resumeSplits: an INCREMENTAL run needs the high-water mark it was planned with",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).resumeSplits(null, List.of(incremental.withProgress(null, -1, false)))));
        assertEquals("resumeSplits: split full-0 position has 2 values; FULL expects 1 (id)",
                error(b -> b.resumeSplits(hwm, List.of(full0.withProgress(PositionCodec.encode(new Object[] {1L, 2L}), -1, false)))));
        assertEquals("resumeSplits: split incremental-0 position has 3 values; INCREMENTAL expects 1 (cursor) or 2 (cursor, id)",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).resumeSplits(hwm,
                        List.of(incremental.withProgress(PositionCodec.encode(new Object[] {1L, 2L, 3L}), -1, false)))));
        assertEquals("resumeSplits: split full-1 has a key range but the primary key has 2 columns",
                error(b -> b.primaryKey(List.of("a", "b")).resumeSplits(hwm, List.of(full1))));
        assertEquals("resumeSplits: split null-keys: a NULL_KEYS or RETRY_KEYS split position is one non-negative long (a count), got 2 value(s)",
                error(b -> b.resumeSplits(hwm, List.of(nullKeys.withProgress(PositionCodec.encode(new Object[] {1L, 2L}), -1, false)))));
        assertEquals("resumeSplits: split other is a second NULL_KEYS split; a run has at most one",
                error(b -> b.resumeSplits(hwm, List.of(nullKeys,
                        new WarehouseSplit("other", SplitKind.NULL_KEYS, SyncType.FULL, null, null, hwm, null, null, -1, false)))));
        assertEquals("resumeSplits holds a null split", error(b -> b.resumeSplits(hwm, java.util.Arrays.asList(full1, null))));
    }

    static WarehouseSourceBuilder incremental() {
        return valid().cursorColumn("v").syncType(SyncType.INCREMENTAL);
    }

    @Test
    void retryKeysAreCheckedAgainstTheKeyAndOnlyForIncrementalRuns() {
        String k1 = "[[\"long\",42]]";
        String k2 = "[[\"long\",43]]";
        assertEquals(List.of(k1, k2), incremental().retryKeys(List.of(k1, k2, k1)).build().settings().retryKeys());
        assertEquals(List.of(), incremental().build().settings().retryKeys());
        assertEquals(List.of(), incremental().retryKeys(null).build().settings().retryKeys());
        // An empty list means none, so FULL accepts it.
        assertEquals(List.of(), valid().retryKeys(List.of()).build().settings().retryKeys());
        String composite = "[[\"string\",\"eu\"],[\"long\",7]]";
        assertEquals(List.of(composite),
                incremental().primaryKey(List.of("region", "id")).retryKeys(List.of(composite)).build().settings().retryKeys());

        assertEquals("retryKeys apply to INCREMENTAL syncs only: a FULL sync resends every row anyway",
                error(b -> b.retryKeys(List.of(k1))));
        assertEquals("retryKeys[1] is not an encoded position (e.g. [[\"long\",42]])",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).retryKeys(List.of(k1, "id=42"))));
        assertEquals("retryKeys[0] is not an encoded position (e.g. [[\"long\",42]])",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).retryKeys(List.of("[42]"))));
        assertEquals("retryKeys[1] has 1 value(s); the primary key (region, id) has 2",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).primaryKey(List.of("region", "id")).retryKeys(List.of(composite, k1))));
        assertEquals("retryKeys[0] has 2 value(s); the primary key (id) has 1",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).retryKeys(List.of(composite))));
        assertEquals("retryKeys[0] has a null value; a primary key has none",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).retryKeys(List.of("[[\"null\"]]"))));
        assertEquals("retryKeys[1] is empty; expected an encoded position of the primary key",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).retryKeys(java.util.Arrays.asList(k1, null))));
        assertEquals("set either retryKeys or resumeSplits, not both: a resumed retry-keys split carries its own keys",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).retryKeys(List.of(k1)).resumeSplits(null, List.of())));
    }

    @Test
    void resumeSplitsAcceptOneRetryKeySplitWithValidKeys() {
        String hwm = PositionCodec.encode(new Object[] {9L});
        WarehouseSplit retry = WarehouseSplit.retryKeys(SyncType.INCREMENTAL, hwm, List.of("[[\"long\",1]]", "[[\"long\",2]]"));
        WarehouseSplit incremental = new WarehouseSplit("incremental-0", SyncType.INCREMENTAL, null, null, hwm, null, -1, true);
        WarehouseSplit halfDone = retry.withProgress(WarehouseSplit.rowsEmittedPosition(1), -1, false);
        assertEquals(List.of(incremental, halfDone),
                incremental().resumeSplits(hwm, List.of(incremental, halfDone)).build().settings().resumeSplits());
        // A run with no new rows had no high-water mark and only the retry-keys split.
        WarehouseSplit noMark = WarehouseSplit.retryKeys(SyncType.INCREMENTAL, null, List.of("[[\"long\",1]]"));
        assertEquals(List.of(noMark), incremental().resumeSplits(null, List.of(noMark)).build().settings().resumeSplits());

        WarehouseSplit second = new WarehouseSplit("other", SplitKind.RETRY_KEYS, SyncType.INCREMENTAL, null, null, hwm, null, null, -1, false,
                List.of("[[\"long\",3]]"));
        assertEquals("resumeSplits: split other is a second RETRY_KEYS split; a run has at most one",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).resumeSplits(hwm, List.of(retry, second))));
        assertEquals("resumeSplits: split retry-keys: split retry-keys has 3 keys done but only 2 keys",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).resumeSplits(hwm,
                        List.of(retry.withProgress(WarehouseSplit.rowsEmittedPosition(3), -1, false)))));
        WarehouseSplit wide = WarehouseSplit.retryKeys(SyncType.INCREMENTAL, hwm, List.of("[[\"long\",1]]", "[[\"long\",1],[\"long\",2]]"));
        assertEquals("resumeSplits: split retry-keys retry key [1] has 2 value(s); the primary key (id) has 1",
                error(b -> b.cursorColumn("v").syncType(SyncType.INCREMENTAL).resumeSplits(hwm, List.of(wide))));
    }

    @Test
    void descriptionNeverShowsThePassword() {
        String text = valid().build().settings().toString() + ENDPOINT;
        assertEquals(-1, text.indexOf("secret"), text);
    }
}
