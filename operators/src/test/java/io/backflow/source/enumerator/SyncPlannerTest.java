package io.backflow.source.enumerator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.source.SyncType;
import io.backflow.source.WarehouseSource;
import io.backflow.testing.Databases;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What an INCREMENTAL run counts besides its splits: rows it cannot place (NULL cursor), and,
 * with the rows to read, rows whose date or timestamp cursor is later than the database's clock,
 * which no run reads before the clock gets there ('infinity', 9999-12-31: never).
 */
class SyncPlannerTest {
    @Test
    void anIncrementalPlanCountsNullAndFutureCursors() throws Exception {
        JdbcEndpoint db = Databases.newPostgresDatabase("planner");
        Databases.execute(db, "CREATE TABLE t (id INT PRIMARY KEY, c TIMESTAMP, d DATE, n INT)",
                "INSERT INTO t VALUES (1, '2024-01-01', '2024-01-01', 1), (2, 'infinity', '9999-12-31', 2), (3, NULL, NULL, 3),"
                        + " (4, LOCALTIMESTAMP + INTERVAL '1 day', CURRENT_DATE, 4)");
        SyncPlanner timestamps = planner(db, "c");
        SyncPlan plan = timestamps.plan(false);
        assertEquals(1, plan.rowsWithNullCursor());
        assertEquals("[[\"timestamp\",\"2024-01-01T00:00\"]]", plan.highWaterMark());
        // Counted with the rows to read, once reading has begun: without an index it is a scan.
        assertEquals(2L, timestamps.count(plan.splits()).get(SyncPlanner.FUTURE_CURSORS), "infinity and tomorrow");
        // A DATE cursor reads days that are over: today's row is not in the future, 9999-12-31 is.
        SyncPlanner dates = planner(db, "d");
        assertEquals(1L, dates.count(dates.plan(false).splits()).get(SyncPlanner.FUTURE_CURSORS));
        // A numeric cursor has no clock: nothing is counted.
        SyncPlanner numbers = planner(db, "n");
        assertEquals(null, numbers.count(numbers.plan(false).splits()).get(SyncPlanner.FUTURE_CURSORS));
    }

    private static SyncPlanner planner(JdbcEndpoint db, String cursor) {
        return new SyncPlanner(WarehouseSource.builder().endpoint(db).table("t").primaryKey(List.of("id")).cursorColumn(cursor)
                .syncType(SyncType.INCREMENTAL).runId("r").build().settings(), true);
    }
}
