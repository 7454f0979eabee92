package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.testing.Databases;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * INCREMENTAL runs: keyset on the full (cursor, key) tuple across pages that split a run of
 * equal cursors, resume positions, the high-water mark and its delay window, NULL cursors.
 *
 * <p>Table {@code events}: ids 1..10000 with cursor {@code BASE + c seconds}, where c = id except
 * ids 3501..6500, which all share c = 5000; ids 10001..10010 have a cursor a day in the future;
 * ids 20001..20005 have a NULL cursor.
 */
class WarehouseSourceIncrementalITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path dir;

    static final LocalDateTime BASE = LocalDateTime.parse("2024-03-01T00:00:00");
    static JdbcEndpoint postgres;
    static JdbcEndpoint duckdb;
    static final List<String> PLANS = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void createTables() {
        postgres = Databases.newPostgresDatabase("incremental");
        duckdb = Databases.duckDb(dir, "incremental");
        for (JdbcEndpoint db : List.of(postgres, duckdb)) {
            String series = db == postgres ? "generate_series(1, 10000) AS g(i)" : "range(1, 10001) AS g(i)";
            String future = db == postgres ? "generate_series(10001, 10010) AS g(i)" : "range(10001, 10011) AS g(i)";
            String nulls = db == postgres ? "generate_series(20001, 20005) AS g(i)" : "range(20001, 20006) AS g(i)";
            Databases.execute(db,
                    "CREATE TABLE events (id BIGINT PRIMARY KEY, name VARCHAR(20), updated_at TIMESTAMP)",
                    // Insert in descending id order so physical order differs from key order.
                    "INSERT INTO events SELECT 10001 - i, 'e' || (10001 - i), TIMESTAMP '2024-03-01 00:00:00' + "
                            + "(CASE WHEN 10001 - i BETWEEN 3501 AND 6500 THEN 5000 ELSE 10001 - i END) * INTERVAL '1 second' FROM " + series,
                    "INSERT INTO events SELECT i, 'future', LOCALTIMESTAMP + INTERVAL '1 day' FROM " + future,
                    "INSERT INTO events SELECT i, 'no cursor', NULL FROM " + nulls,
                    "CREATE TABLE recent (id BIGINT PRIMARY KEY, ts TIMESTAMP, tstz TIMESTAMP WITH TIME ZONE, day DATE)",
                    "INSERT INTO recent VALUES (1, LOCALTIMESTAMP - INTERVAL '2 hours', CURRENT_TIMESTAMP - INTERVAL '2 hours', CURRENT_DATE - 1)",
                    "INSERT INTO recent VALUES (2, LOCALTIMESTAMP, CURRENT_TIMESTAMP, CURRENT_DATE)",
                    "CREATE TABLE empty_events (id BIGINT PRIMARY KEY, updated_at TIMESTAMP)");
        }
    }

    static Stream<String> databases() {
        return Stream.of("postgres", "duckdb");
    }

    static JdbcEndpoint db(String name) {
        return name.equals("postgres") ? postgres : duckdb;
    }

    static LocalDateTime cursorOf(long id) {
        return BASE.plusSeconds(id >= 3501 && id <= 6500 ? 5000 : id);
    }

    static String position(long id) {
        return PositionCodec.encode(new Object[] {cursorOf(id), id});
    }

    static WarehouseSourceBuilder incremental(String database, String table) {
        return WarehouseSource.builder()
                .endpoint(db(database))
                .table(table)
                .primaryKey(List.of("id"))
                .cursorColumn("updated_at")
                .syncType(SyncType.INCREMENTAL)
                .pageSize(1000)
                .fetchSize(300)
                .runId("run-" + database);
    }

    /** Rows in (cursor, id) order, ids from..to, as positions. */
    static List<String> expectedInOrder(long from, long to) {
        List<Long> ids = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            ids.add(i);
        }
        ids.sort((a, b) -> {
            int c = cursorOf(a).compareTo(cursorOf(b));
            return c != 0 ? c : Long.compare(a, b);
        });
        List<String> out = new ArrayList<>();
        for (long id : ids) {
            out.add(position(id));
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("databases")
    void pagesInsideARunOfEqualCursorsLoseAndRepeatNothing(String database) throws Exception {
        PLANS.clear();
        WarehouseSource source = incremental(database, "events")
                .planListener((run, hwm, splits) -> PLANS.add(hwm + " " + splits.stream().map(s -> s.splitId()).toList()))
                .build();
        assertEquals(10_000, source.estimateRows());

        Collected got = Collected.run(source, 2);

        // Exactly the settled, non-NULL cursor rows, each once, in (cursor, id) order.
        assertEquals(expectedInOrder(1, 10_000), got.positions());
        String hwm = PositionCodec.encode(new Object[] {cursorOf(10_000)});
        assertEquals(List.of(hwm + " [incremental-0]"), PLANS);
        assertEquals(Map.of("incremental-0", 1), got.splitEnds());
        assertEquals(position(10_000), got.endPosition("incremental-0"));
    }

    @ParameterizedTest
    @MethodSource("databases")
    void fullTupleStartAfterResumesInsideTheRunOfEqualCursors(String database) throws Exception {
        WarehouseSource source = incremental(database, "events").startAfter(position(5_000)).build();

        Collected got = Collected.run(source, 1);

        assertEquals(expectedInOrder(5_001, 10_000), got.positions());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void cursorOnlyStartAfterReadsOnlyGreaterCursors(String database) throws Exception {
        String committed = PositionCodec.encode(new Object[] {BASE.plusSeconds(5_000)});
        WarehouseSource source = incremental(database, "events").startAfter(committed).build();

        Collected got = Collected.run(source, 1);

        assertEquals(expectedInOrder(6_501, 10_000), got.positions());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void endPositionOfARunThatFindsNothingIsItsStartPosition(String database) throws Exception {
        String committed = PositionCodec.encode(new Object[] {cursorOf(10_000)});
        WarehouseSource source = incremental(database, "events").startAfter(committed).build();

        Collected got = Collected.run(source, 1);

        assertTrue(got.rows().isEmpty());
        assertEquals(committed, got.endPosition("incremental-0"));
    }

    @ParameterizedTest
    @MethodSource("databases")
    void fullRunReadsNullCursorsButLeavesCursorsBeyondTheHighWaterMark(String database) throws Exception {
        WarehouseSource source = incremental(database, "events").syncType(SyncType.FULL).splits(3).build();

        Collected got = Collected.run(source, 2);

        Set<String> expected = new HashSet<>();
        for (long id = 1; id <= 10_000; id++) {
            expected.add(PositionCodec.encode(new Object[] {id}));
        }
        for (long id = 20_001; id <= 20_005; id++) {
            expected.add(PositionCodec.encode(new Object[] {id}));
        }
        assertEquals(expected.size(), got.positions().size());
        assertEquals(expected, new HashSet<>(got.positions()));
    }

    @ParameterizedTest
    @MethodSource("databases")
    void delayWindowHoldsBackRecentTimestamps(String database) throws Exception {
        for (String cursor : List.of("ts", "tstz")) {
            Collected delayed = Collected.run(incremental(database, "recent").cursorColumn(cursor)
                    .highWaterMarkDelay(Duration.ofHours(1)).build(), 1);
            assertEquals(List.of("1"), delayed.firstValues(), cursor + " with a 1h delay");

            Collected immediate = Collected.run(incremental(database, "recent").cursorColumn(cursor).build(), 1);
            assertEquals(List.of("1", "2"), immediate.firstValues(), cursor + " without delay");
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void dateCursorReadsOnlyDaysThatAreOver(String database) throws Exception {
        long dayBefore = Databases.queryLong(db(database), "SELECT CAST(CURRENT_DATE - DATE '2000-01-01' AS BIGINT)");
        Collected got = Collected.run(incremental(database, "recent").cursorColumn("day").build(), 1);
        long dayAfter = Databases.queryLong(db(database), "SELECT CAST(CURRENT_DATE - DATE '2000-01-01' AS BIGINT)");

        // Row 2 is dated the day the table was filled: read only once that day is over.
        boolean midnightPassed = dayAfter != dayBefore
                || dayBefore != Databases.queryLong(db(database), "SELECT CAST(day - DATE '2000-01-01' AS BIGINT) FROM recent WHERE id = 2");
        assertEquals(midnightPassed ? List.of("1", "2") : List.of("1"), got.firstValues());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void emptyTablePlansNoSplitsAndFinishes(String database) throws Exception {
        PLANS.clear();
        WarehouseSource source = incremental(database, "empty_events")
                .planListener((run, hwm, splits) -> PLANS.add(run + " " + hwm + " " + splits.stream().map(s -> s.splitId()).toList()))
                .build();

        Collected got = Collected.run(source, 2);

        assertTrue(got.records.isEmpty());
        assertEquals(List.of("run-" + database + " null []"), PLANS);
    }
}
