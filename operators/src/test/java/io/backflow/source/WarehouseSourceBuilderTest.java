package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
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
    void descriptionNeverShowsThePassword() {
        String text = valid().build().settings().toString() + ENDPOINT;
        assertEquals(-1, text.indexOf("secret"), text);
    }
}
