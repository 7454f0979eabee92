package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.testing.Databases;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** FULL runs read every row exactly once, on PostgreSQL and DuckDB, in one split or several. */
class WarehouseSourceFullITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path dir;

    static final int ROWS = 5_000;
    static JdbcEndpoint postgres;
    static JdbcEndpoint duckdb;

    /** Collects every plan the sources announce. */
    static final List<String> PLANS = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void createTables() {
        postgres = Databases.newPostgresDatabase("full");
        duckdb = Databases.duckDb(dir, "full");
        for (JdbcEndpoint db : List.of(postgres, duckdb)) {
            boolean pg = db == postgres;
            Databases.execute(db,
                    "CREATE SCHEMA shop",
                    "CREATE TABLE shop.items (id BIGINT PRIMARY KEY, name VARCHAR(40), updated_at TIMESTAMP)",
                    pg ? "INSERT INTO shop.items SELECT i, 'item ' || i, CASE WHEN i % 100 = 0 THEN NULL ELSE TIMESTAMP '2024-01-01 00:00:00' + (i % 7) * INTERVAL '1 hour' END FROM generate_series(1, " + ROWS + ") AS g(i)"
                       : "INSERT INTO shop.items SELECT i, 'item ' || i, CASE WHEN i % 100 = 0 THEN NULL ELSE TIMESTAMP '2024-01-01 00:00:00' + (i % 7) * INTERVAL '1 hour' END FROM range(1, " + (ROWS + 1) + ") AS g(i)",
                    // A composite key whose first column has many duplicates, so pages split inside a run of equal values.
                    "CREATE TABLE orders (tenant VARCHAR(10) NOT NULL, seq INTEGER NOT NULL, amount DECIMAL(10,2), PRIMARY KEY (tenant, seq))",
                    pg ? "INSERT INTO orders SELECT 't' || (i % 3), i, i / 100.0 FROM generate_series(1, 3000) AS g(i)"
                       : "INSERT INTO orders SELECT 't' || (i % 3), i, i / 100.0 FROM range(1, 3001) AS g(i)");
        }
    }

    static Stream<String> databases() {
        return Stream.of("postgres", "duckdb");
    }

    static JdbcEndpoint db(String name) {
        return name.equals("postgres") ? postgres : duckdb;
    }

    static Set<String> expectedIdPositions(long from, long to, long step) {
        Set<String> out = new HashSet<>();
        for (long i = from; i <= to; i += step) {
            out.add(PositionCodec.encode(new Object[] {i}));
        }
        return out;
    }

    static void assertExactlyOnce(Collected got, Set<String> expectedPositions) {
        List<String> positions = got.positions();
        Set<String> unique = new HashSet<>(positions);
        assertEquals(positions.size(), unique.size(), "a row was emitted twice");
        assertEquals(expectedPositions, unique);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void parallelRangeSplitsReadEveryRowOnce(String database) throws Exception {
        PLANS.clear();
        WarehouseSource source = WarehouseSource.builder()
                .endpoint(db(database))
                .table("shop.items")
                .primaryKey(List.of("id"))
                .syncType(SyncType.FULL)
                .splits(3)
                .pageSize(700)
                .fetchSize(250)
                .runId("run-parallel-" + database)
                .planListener((run, hwm, splits) -> PLANS.add(run + " " + hwm + " " + splits.stream().map(s -> s.splitId()).toList()))
                .build();
        Collected got = Collected.run(source, 2);

        assertExactlyOnce(got, expectedIdPositions(1, ROWS, 1));
        assertEquals(Map.of("full-0", 1, "full-1", 1, "full-2", 1), got.splitEnds());
        assertEquals(List.of("run-parallel-" + database + " null [full-0, full-1, full-2]"), PLANS);
        // Every row carries all columns, the key first.
        Set<String> values = new TreeSet<>();
        for (var row : got.rows()) {
            String[] v = row.f3.split("\\|");
            assertEquals(3, v.length);
            assertEquals("item " + v[0], v[1]);
            values.add(v[0]);
        }
        assertEquals(ROWS, values.size());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void singleSplitReadsInKeyOrderAndEndsWithTheLastPosition(String database) throws Exception {
        WarehouseSource source = WarehouseSource.builder()
                .endpoint(db(database))
                .table("shop.items")
                .primaryKey(List.of("id"))
                .pageSize(999)
                .runId("run-single")
                .build();
        Collected got = Collected.run(source, 2);

        assertExactlyOnce(got, expectedIdPositions(1, ROWS, 1));
        List<String> ids = got.firstValues();
        for (int i = 0; i < ids.size(); i++) {
            assertEquals(String.valueOf(i + 1), ids.get(i), "rows must come in key order");
        }
        assertEquals(Map.of("full-0", 1), got.splitEnds());
        assertEquals(PositionCodec.encode(new Object[] {(long) ROWS}), got.endPosition("full-0"));
    }

    @ParameterizedTest
    @MethodSource("databases")
    void compositeKeyPagesInsideRunsOfEqualFirstColumn(String database) throws Exception {
        WarehouseSource source = WarehouseSource.builder()
                .endpoint(db(database))
                .table("orders")
                .primaryKey(List.of("tenant", "seq"))
                .splits(4) // ignored: the key is not a single integer
                .pageSize(128)
                .runId("run-composite")
                .build();
        Collected got = Collected.run(source, 2);

        Set<String> expected = new HashSet<>();
        for (long i = 1; i <= 3000; i++) {
            expected.add(PositionCodec.encode(new Object[] {"t" + (i % 3), i}));
        }
        assertExactlyOnce(got, expected);
        assertEquals(Map.of("full-0", 1), got.splitEnds());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void queryModelIsReadAsASubquery(String database) throws Exception {
        WarehouseSource source = WarehouseSource.builder()
                .endpoint(db(database))
                .query("SELECT id AS user_id, upper(name) AS label FROM shop.items WHERE id % 2 = 0;")
                .primaryKey(List.of("user_id"))
                .splits(3)
                .pageSize(500)
                .runId("run-query")
                .build();
        Collected got = Collected.run(source, 2);

        assertExactlyOnce(got, expectedIdPositions(2, ROWS, 2));
        for (var row : got.rows()) {
            String[] v = row.f3.split("\\|");
            assertEquals("ITEM " + v[0], v[1]);
        }
        assertEquals(3, got.splitEnds().size());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void fullRunWithCursorReadsNullCursorsAndStopsAtTheHighWaterMark(String database) throws Exception {
        PLANS.clear();
        WarehouseSource source = WarehouseSource.builder()
                .endpoint(db(database))
                .table("shop.items")
                .primaryKey(List.of("id"))
                .cursorColumn("updated_at")
                .splits(2)
                .pageSize(1000)
                .runId("run-cursor")
                .planListener((run, hwm, splits) -> PLANS.add(hwm))
                .build();
        Collected got = Collected.run(source, 2);

        // Every row: cursors are in the past (<= HWM) or NULL.
        assertExactlyOnce(got, expectedIdPositions(1, ROWS, 1));
        assertEquals(List.of(PositionCodec.encode(new Object[] {java.time.LocalDateTime.parse("2024-01-01T06:00")})), PLANS);
        List<String> nullCursorIds = new ArrayList<>();
        for (var row : got.rows()) {
            if (row.f3.endsWith("|null")) {
                nullCursorIds.add(row.f3.split("\\|")[0]);
            }
        }
        assertEquals(ROWS / 100, nullCursorIds.size());
        assertFalse(nullCursorIds.isEmpty());
        assertTrue(nullCursorIds.stream().allMatch(id -> Long.parseLong(id) % 100 == 0));
    }
}
