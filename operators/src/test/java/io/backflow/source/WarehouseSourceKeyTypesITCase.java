package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.testing.Databases;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keys and cursors the reader holds as strings or instants still page correctly: UUID keys (which
 * neither database compares with a text parameter by default), DuckDB HUGEINT keys of 39 digits,
 * timestamptz cursors; rows with a NULL key are counted and read by their own split.
 */
class WarehouseSourceKeyTypesITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path dir;

    static JdbcEndpoint postgres;
    static JdbcEndpoint duckdb;

    @BeforeAll
    static void createTables() {
        postgres = Databases.newPostgresDatabase("key_types");
        duckdb = Databases.duckDb(dir, "key_types");
        for (JdbcEndpoint db : List.of(postgres, duckdb)) {
            boolean pg = db == postgres;
            String series = pg ? "generate_series(1, 2000) AS g(i)" : "range(1, 2001) AS g(i)";
            Databases.execute(db,
                    "CREATE TABLE accounts (id UUID PRIMARY KEY, n INTEGER, changed_at TIMESTAMP WITH TIME ZONE)",
                    "INSERT INTO accounts SELECT " + (pg ? "md5(i::text)::uuid" : "md5(i::VARCHAR)::UUID")
                            + ", i, TIMESTAMPTZ '2024-01-01 00:00:00+00' + (i % 50) * INTERVAL '1 minute' FROM " + series);
        }
        // 39-digit keys, which DuckDB's driver bound as NULL (a DECIMAL of more than 38 digits).
        Databases.execute(duckdb, "CREATE TABLE huge (id HUGEINT PRIMARY KEY, n INTEGER, changed_at TIMESTAMP WITH TIME ZONE)",
                "INSERT INTO huge SELECT CAST('100000000000000000000000000000000000000' AS HUGEINT) + i * 1000, i,"
                        + " TIMESTAMPTZ '2024-01-01 00:00:00+00' FROM range(1, 2001) AS g(i)");
    }

    static Stream<String> databases() {
        return Stream.of("postgres", "duckdb");
    }

    static JdbcEndpoint db(String name) {
        return name.equals("postgres") ? postgres : duckdb;
    }

    static void assertAllOnce(Collected got, int expected) {
        List<String> n = new java.util.ArrayList<>();
        for (var row : got.rows()) {
            n.add(row.f3.split("\\|")[1]);
        }
        assertEquals(expected, n.size());
        assertEquals(expected, new HashSet<>(n).size());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void uuidKeysPageInFullRuns(String database) throws Exception {
        Collected got = Collected.run(WarehouseSource.builder().endpoint(db(database)).table("accounts")
                .primaryKey(List.of("id")).pageSize(300).runId("uuid-full").build(), 1);
        assertAllOnce(got, 2000);
    }

    @org.junit.jupiter.api.Test
    void keysBeyondThirtyEightDigitsPage() throws Exception {
        Collected got = Collected.run(WarehouseSource.builder().endpoint(duckdb).table("huge")
                .primaryKey(List.of("id")).pageSize(300).splits(2).runId("huge-full").build(), 2);
        assertAllOnce(got, 2000);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void uuidKeysAndTimestamptzCursorsPageInIncrementalRuns(String database) throws Exception {
        WarehouseSourceBuilder builder = WarehouseSource.builder().endpoint(db(database)).table("accounts")
                .primaryKey(List.of("id")).cursorColumn("changed_at").syncType(SyncType.INCREMENTAL)
                .pageSize(300).runId("uuid-incremental");
        Collected all = Collected.run(builder.build(), 1);
        assertAllOnce(all, 2000);

        // Resume from the 1000th row's position: exactly the other 1000 rows.
        String middle = all.positions().get(999);
        Object[] decoded = PositionCodec.decode(middle);
        assertEquals(java.time.Instant.class, decoded[0].getClass());
        Collected rest = Collected.run(builder.startAfter(middle).build(), 1);
        assertEquals(all.positions().subList(1000, 2000), rest.positions());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void rowsWithANullKeyAreCountedAndReadByTheirOwnSplit(String database) throws Exception {
        WarehouseSource source = WarehouseSource.builder().endpoint(db(database))
                .query("SELECT CASE WHEN n % 10 = 0 THEN NULL ELSE n END AS k, n FROM accounts")
                .primaryKey(List.of("k")).splits(2).pageSize(500).runId("null-keys").build();
        assertEquals(200, source.plan().rowsWithNullKey());
        assertEquals(2000, source.estimateRows());
        Collected got = Collected.run(source, 2);
        assertAllOnce(got, 2000);
        long nullKeyRows = got.rows().stream().filter(r -> r.f0.equals("null-keys")).count();
        assertEquals(200, nullKeyRows);
        assertEquals(1, got.splitEnds().get("null-keys"));
    }
}
