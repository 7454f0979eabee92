package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.source.enumerator.SyncPlan;
import io.backflow.source.reader.WarehouseSourceReader;
import io.backflow.source.sql.ModelColumns;
import io.backflow.source.split.SplitKind;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.testing.Databases;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.connector.testutils.source.reader.TestingReaderContext;
import org.apache.flink.connector.testutils.source.reader.TestingReaderOutput;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Rows with a NULL in a primary-key column are read once each by the {@code null-keys} split, in
 * the run's scope, and a restored null-keys split skips the rows it already emitted.
 *
 * <p>Table {@code people (tenant, seq)} has no key constraint. Rows 1..3000 have a full key and
 * cursor {@code BASE + (i % 50) min}. Rows 3001..3040 have one NULL key column (even i: tenant,
 * odd i: seq) and cursor {@code BASE + (i - 3000) min}, except i % 10 == 4, whose cursor is NULL.
 * Row 3041 has a NULL tenant and a cursor a day in the future. {@code name} is {@code 'p' || i}.
 */
class WarehouseSourceNullKeysITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path dir;

    static final LocalDateTime BASE = LocalDateTime.parse("2024-02-01T00:00:00");
    static JdbcEndpoint postgres;
    static JdbcEndpoint duckdb;

    @BeforeAll
    static void createTables() {
        postgres = Databases.newPostgresDatabase("null_keys");
        duckdb = Databases.duckDb(dir, "null_keys");
        for (JdbcEndpoint db : List.of(postgres, duckdb)) {
            boolean pg = db == postgres;
            String keyed = pg ? "generate_series(1, 3000) AS g(i)" : "range(1, 3001) AS g(i)";
            String nullKeyed = pg ? "generate_series(3001, 3040) AS g(i)" : "range(3001, 3041) AS g(i)";
            Databases.execute(db,
                    "CREATE TABLE people (tenant VARCHAR(10), seq INTEGER, name VARCHAR(20), updated_at TIMESTAMP)",
                    "INSERT INTO people SELECT 't' || (i % 3), i, 'p' || i, TIMESTAMP '2024-02-01 00:00:00' + (i % 50) * INTERVAL '1 minute' FROM " + keyed,
                    "INSERT INTO people SELECT CASE WHEN i % 2 = 0 THEN NULL ELSE 'tx' END, CASE WHEN i % 2 = 0 THEN i ELSE NULL END, 'p' || i,"
                            + " CASE WHEN i % 10 = 4 THEN NULL ELSE TIMESTAMP '2024-02-01 00:00:00' + (i - 3000) * INTERVAL '1 minute' END FROM " + nullKeyed,
                    "INSERT INTO people VALUES (NULL, 3041, 'p3041', LOCALTIMESTAMP + INTERVAL '1 day')");
        }
    }

    static Stream<String> databases() {
        return Stream.of("postgres", "duckdb");
    }

    static JdbcEndpoint db(String name) {
        return name.equals("postgres") ? postgres : duckdb;
    }

    static WarehouseSourceBuilder people(String database) {
        return WarehouseSource.builder()
                .endpoint(db(database))
                .table("people")
                .primaryKey(List.of("tenant", "seq"))
                .pageSize(700)
                .fetchSize(16)
                .runId("null-keys-" + database);
    }

    static LocalDateTime cursorOf(int i) {
        if (i <= 3000) {
            return BASE.plusMinutes(i % 50);
        }
        return i % 10 == 4 ? null : BASE.plusMinutes(i - 3000);
    }

    static String name(Tuple4<String, Boolean, String, String> row) {
        return row.f3.split("\\|", -1)[2];
    }

    /** The names of the null-keys split's rows in emission order, checking their positions count 1, 2, 3... */
    static List<String> nullKeyNames(Collected got) {
        List<String> names = new ArrayList<>();
        for (var row : got.rows()) {
            if (row.f0.equals(WarehouseSplit.NULL_KEYS_ID)) {
                names.add(name(row));
                assertEquals(WarehouseSplit.rowsEmittedPosition(names.size()), row.f2);
            }
        }
        return names;
    }

    static void assertEachNameOnce(Collected got, Set<String> expected) {
        List<String> names = new ArrayList<>();
        for (var row : got.rows()) {
            names.add(name(row));
        }
        assertEquals(names.size(), new HashSet<>(names).size(), "a row was emitted twice");
        assertEquals(new TreeSet<>(expected), new TreeSet<>(names));
    }

    static Set<String> names(int from, int to, java.util.function.IntPredicate keep) {
        Set<String> out = new HashSet<>();
        for (int i = from; i <= to; i++) {
            if (keep.test(i)) {
                out.add("p" + i);
            }
        }
        return out;
    }

    /** Whether the database vouches for each column of {@code relation} never being NULL. */
    static boolean[] neverNull(JdbcEndpoint db, String relation) throws Exception {
        try (java.sql.Connection c = db.open(); java.sql.Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery("SELECT * FROM " + relation + " WHERE 1 = 0")) {
            ModelColumns columns = ModelColumns.of(rs.getMetaData());
            boolean[] out = new boolean[columns.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = columns.neverNull(i);
            }
            return out;
        }
    }

    /**
     * The planner skips its NULL-key count (a scan of the table on PostgreSQL 15) only when the
     * database guarantees the key NOT NULL; a view over the same table, a nullable column, or a
     * driver that does not say, is counted as before, and either way every row is read.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void onlyKeysTheDatabaseDeclaresNotNullSkipTheNullKeyCount(String database) throws Exception {
        JdbcEndpoint db = db(database);
        Databases.execute(db,
                "CREATE TABLE keyed_" + database + " (tenant VARCHAR(10) NOT NULL, seq INTEGER NOT NULL, name VARCHAR(20), updated_at TIMESTAMP)",
                "INSERT INTO keyed_" + database + " SELECT tenant, seq, name, updated_at FROM people WHERE tenant IS NOT NULL AND seq IS NOT NULL",
                "CREATE VIEW keyed_view_" + database + " AS SELECT * FROM keyed_" + database);
        // PostgreSQL's driver reports NOT NULL table columns; DuckDB's (1.1) reports every column
        // nullable, so DuckDB tables are always counted.
        boolean[] keyed = neverNull(db, "keyed_" + database);
        assertEquals(database.equals("postgres"), keyed[0] && keyed[1]);
        assertFalse(keyed[2], "name is nullable");
        assertFalse(neverNull(db, "keyed_view_" + database)[0], "a view column is not vouched for");
        assertFalse(neverNull(db, "people")[0], "no constraint, no promise");

        for (String relation : List.of("keyed_" + database, "keyed_view_" + database)) {
            WarehouseSource source = people(database).table(relation).cursorColumn("updated_at").build();
            SyncPlan plan = source.plan();
            assertEquals(0, plan.rowsWithNullKey(), relation);
            assertTrue(plan.splits().stream().noneMatch(s -> s.kind() == SplitKind.NULL_KEYS), relation);
            assertEachNameOnce(Collected.run(source, 2), names(1, 3000, i -> true));
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void fullRunReadsEveryNullKeyRowInScopeOnceAndEndsTheSplit(String database) throws Exception {
        WarehouseSource source = people(database).cursorColumn("updated_at").build();
        SyncPlan plan = source.plan();
        // 40 rows: the NULL cursors are in a FULL run's scope, the future cursor is not.
        assertEquals(40, plan.rowsWithNullKey());
        assertEquals(-1, plan.rowsWithNullCursor(), "a FULL run reads NULL cursors, so it does not count them apart");
        WarehouseSplit nullKeys = plan.splits().get(plan.splits().size() - 1);
        assertEquals(SplitKind.NULL_KEYS, nullKeys.kind());
        assertEquals(40, nullKeys.estimatedRemaining());
        assertEquals(3040, plan.estimatedRows());

        Collected got = Collected.run(source, 2);
        Set<String> expected = names(1, 3040, i -> true);
        assertEachNameOnce(got, expected);
        List<String> nullKeyNames = nullKeyNames(got);
        assertEquals(names(3001, 3040, i -> true), new HashSet<>(nullKeyNames));
        // In cursor order (then key), NULL cursors after the others on both databases.
        List<String> withCursor = nullKeyNames.subList(0, 36);
        for (int k = 1; k < withCursor.size(); k++) {
            int prev = Integer.parseInt(withCursor.get(k - 1).substring(1));
            int next = Integer.parseInt(withCursor.get(k).substring(1));
            assertTrue(cursorOf(prev).isBefore(cursorOf(next)), "null-key rows out of cursor order: " + nullKeyNames);
        }
        assertEquals(Map.of("full-0", 1, WarehouseSplit.NULL_KEYS_ID, 1), got.splitEnds());
        assertEquals(WarehouseSplit.rowsEmittedPosition(40), got.endPosition(WarehouseSplit.NULL_KEYS_ID));
        // The end marker comes after the split's last row.
        List<String> order = new ArrayList<>();
        for (var r : got.records) {
            if (r.f0.equals(WarehouseSplit.NULL_KEYS_ID)) {
                order.add(r.f1 ? "end" : "row");
            }
        }
        assertEquals("end", order.get(order.size() - 1));
        assertEquals(41, order.size());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void fullRunWithoutCursorReadsEveryNullKeyRow(String database) throws Exception {
        Collected got = Collected.run(people(database).build(), 1);
        assertEachNameOnce(got, names(1, 3041, i -> true));
        assertEquals(names(3001, 3041, i -> true), new HashSet<>(nullKeyNames(got)));
        assertEquals(1, got.splitEnds().get(WarehouseSplit.NULL_KEYS_ID));
    }

    @ParameterizedTest
    @MethodSource("databases")
    void incrementalRunReadsNullKeyRowsWithACursorAfterTheStartAndUpToTheHighWaterMark(String database) throws Exception {
        LocalDateTime after = BASE.plusMinutes(25);
        WarehouseSource source = people(database).cursorColumn("updated_at").syncType(SyncType.INCREMENTAL)
                .startAfter(PositionCodec.encode(new Object[] {after})).build();
        SyncPlan plan = source.plan();
        WarehouseSplit nullKeys = plan.splits().get(plan.splits().size() - 1);
        assertEquals(PositionCodec.encode(new Object[] {after}), nullKeys.cursorAfter());
        assertEquals(PositionCodec.encode(new Object[] {BASE.plusMinutes(49)}), plan.highWaterMark());

        Collected got = Collected.run(source, 2);
        java.util.function.IntPredicate inScope = i -> cursorOf(i) != null && cursorOf(i).isAfter(after);
        assertEachNameOnce(got, names(1, 3040, inScope));
        Set<String> expectedNullKeys = names(3001, 3040, inScope);
        assertEquals(14, expectedNullKeys.size());
        assertEquals(14, plan.rowsWithNullKey());
        // Rows 3004, 3014, 3024 and 3034 have a NULL cursor: no INCREMENTAL run reads them, so it counts them.
        assertEquals(4, plan.rowsWithNullCursor());
        assertEquals(expectedNullKeys, new HashSet<>(nullKeyNames(got)));
        assertEquals(Map.of("incremental-0", 1, WarehouseSplit.NULL_KEYS_ID, 1), got.splitEnds());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void incrementalRunWithoutNullKeyRowsInScopePlansNoNullKeySplit(String database) throws Exception {
        // Cursors up to BASE + 49 min: no null-key row after BASE + 45 min but row 3041 (beyond the mark).
        WarehouseSource source = people(database).cursorColumn("updated_at").syncType(SyncType.INCREMENTAL)
                .startAfter(PositionCodec.encode(new Object[] {BASE.plusMinutes(45)})).build();
        SyncPlan plan = source.plan();
        assertEquals(0, plan.rowsWithNullKey());
        assertEquals(List.of("incremental-0"), plan.splits().stream().map(WarehouseSplit::splitId).toList());
        Collected got = Collected.run(source, 1);
        assertFalse(got.splitIds().contains(WarehouseSplit.NULL_KEYS_ID));
        assertEquals(4 * 60, got.rows().size());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void restoredNullKeySplitContinuesWithoutReEmitting(String database) throws Exception {
        WarehouseSource source = people(database).cursorColumn("updated_at").build();
        WarehouseSplit split = source.plan().splits().stream().filter(WarehouseSplit::isNullKeyScan).findFirst().orElseThrow();

        List<String> names = new ArrayList<>();
        List<WarehouseSplit> snapshot;
        // Stop after 23 rows: inside the second fetch of 16.
        try (WarehouseSourceReader first = new WarehouseSourceReader(source.settings(), new TestingReaderContext())) {
            first.start();
            first.addSplits(List.of(split));
            TestingReaderOutput<SourceRow> out = new TestingReaderOutput<>();
            WarehouseSourceReaderITCase.pollUntil(first, out, 23);
            snapshot = first.snapshotState(1);
            for (SourceRow row : out.getEmittedRecords()) {
                names.add((String) row.get("name"));
            }
        }
        assertEquals(23, names.size());
        assertEquals(1, snapshot.size());
        assertEquals(WarehouseSplit.rowsEmittedPosition(23), snapshot.get(0).position());
        assertEquals(SplitKind.NULL_KEYS, snapshot.get(0).kind());
        assertEquals(40 - 23, snapshot.get(0).estimatedRemaining());

        List<SourceRow> rest = new ArrayList<>();
        try (WarehouseSourceReader second = new WarehouseSourceReader(source.settings(), new TestingReaderContext())) {
            second.start();
            second.addSplits(snapshot);
            second.notifyNoMoreSplits();
            TestingReaderOutput<SourceRow> out = new TestingReaderOutput<>();
            assertEquals(InputStatus.END_OF_INPUT, WarehouseSourceReaderITCase.pollUntil(second, out, Integer.MAX_VALUE));
            rest.addAll(out.getEmittedRecords());
        }
        SourceRow end = rest.remove(rest.size() - 1);
        assertTrue(end.isSplitEnd());
        assertEquals(WarehouseSplit.rowsEmittedPosition(40), end.position());
        for (int k = 0; k < rest.size(); k++) {
            assertFalse(rest.get(k).isSplitEnd());
            assertEquals(WarehouseSplit.rowsEmittedPosition(24 + k), rest.get(k).position());
            names.add((String) rest.get(k).get("name"));
        }

        // Exactly the rows, in the order, of one uninterrupted read.
        Collected whole = Collected.run(WarehouseSource.builder().endpoint(db(database)).table("people")
                .primaryKey(List.of("tenant", "seq")).cursorColumn("updated_at").runId("whole").build(), 1);
        assertEquals(nullKeyNames(whole), names);
    }
}
