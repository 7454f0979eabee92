package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.source.enumerator.SyncPlan;
import io.backflow.source.reader.WarehouseSourceReader;
import io.backflow.source.split.SplitKind;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.testing.Databases;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
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
 * INCREMENTAL runs read the rows listed as retry keys by primary key, whatever their cursor, in the
 * {@code retry-keys} split, besides the run's new rows; keys without a row are skipped; positions
 * count keys done chunk by chunk, and a restored split continues at the chunk in progress.
 *
 * <p>Tables (no key constraints): {@code users (id, name, updated_at)} with ids 1..1000, name
 * {@code 'u' || id}, cursor {@code BASE + id s}, id 300 deleted; {@code accounts (region, id, name,
 * updated_at)} with regions eu and us, ids 1..100, name {@code region || '-' || id}, cursor
 * {@code BASE + id s}; {@code stale (id, name, updated_at)} with ids 1..10, name {@code 's' || id}
 * and every cursor NULL, so an INCREMENTAL run has no high-water mark.
 */
class WarehouseSourceRetryKeysITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path dir;

    static final LocalDateTime BASE = LocalDateTime.parse("2024-03-01T00:00:00");
    static JdbcEndpoint postgres;
    static JdbcEndpoint duckdb;

    @BeforeAll
    static void createTables() {
        postgres = Databases.newPostgresDatabase("retry_keys");
        duckdb = Databases.duckDb(dir, "retry_keys");
        for (JdbcEndpoint db : List.of(postgres, duckdb)) {
            boolean pg = db == postgres;
            String thousand = pg ? "generate_series(1, 1000) AS g(i)" : "range(1, 1001) AS g(i)";
            String hundred = pg ? "generate_series(1, 100) AS g(i)" : "range(1, 101) AS g(i)";
            String ten = pg ? "generate_series(1, 10) AS g(i)" : "range(1, 11) AS g(i)";
            Databases.execute(db,
                    "CREATE TABLE users (id BIGINT, name VARCHAR(20), updated_at TIMESTAMP)",
                    "INSERT INTO users SELECT i, 'u' || i, TIMESTAMP '2024-03-01 00:00:00' + i * INTERVAL '1 second' FROM " + thousand,
                    "DELETE FROM users WHERE id = 300",
                    "CREATE TABLE accounts (region VARCHAR(5), id INTEGER, name VARCHAR(20), updated_at TIMESTAMP)",
                    "INSERT INTO accounts SELECT r.region, i, r.region || '-' || i, TIMESTAMP '2024-03-01 00:00:00' + i * INTERVAL '1 second'"
                            + " FROM " + hundred + " CROSS JOIN (SELECT 'eu' AS region UNION ALL SELECT 'us') AS r",
                    "CREATE TABLE stale (id BIGINT, name VARCHAR(20), updated_at TIMESTAMP)",
                    "INSERT INTO stale SELECT i, 's' || i, NULL FROM " + ten);
        }
    }

    static Stream<String> databases() {
        return Stream.of("postgres", "duckdb");
    }

    static JdbcEndpoint db(String name) {
        return name.equals("postgres") ? postgres : duckdb;
    }

    static String after(int seconds) {
        return PositionCodec.encode(new Object[] {BASE.plusSeconds(seconds)});
    }

    static String key(Object... values) {
        return PositionCodec.encode(values);
    }

    static List<String> userKeys(int from, int to) {
        List<String> keys = new ArrayList<>();
        for (long id = from; id <= to; id++) {
            keys.add(key(id));
        }
        return keys;
    }

    static WarehouseSourceBuilder users(String database, String startAfter, List<String> retryKeys) {
        return WarehouseSource.builder()
                .endpoint(db(database))
                .table("users")
                .primaryKey(List.of("id"))
                .cursorColumn("updated_at")
                .syncType(SyncType.INCREMENTAL)
                .startAfter(startAfter)
                .retryKeys(retryKeys)
                .fetchSize(16)
                .runId("retry-" + database);
    }

    static String name(Tuple4<String, Boolean, String, String> row, int column) {
        return row.f3.split("\\|", -1)[column];
    }

    /** The names (column {@code nameColumn}) of a split's rows, checking none is emitted twice in the run. */
    static Set<String> namesOf(Collected got, String splitId, int nameColumn) {
        List<String> all = new ArrayList<>();
        Set<String> out = new TreeSet<>();
        for (var row : got.rows()) {
            all.add(name(row, nameColumn));
            if (row.f0.equals(splitId)) {
                out.add(name(row, nameColumn));
            }
        }
        assertEquals(all.size(), new HashSet<>(all).size(), "a row was emitted twice: " + all);
        return out;
    }

    static Set<String> userNames(int from, int to) {
        Set<String> out = new TreeSet<>();
        for (int i = from; i <= to; i++) {
            if (i != 300) {
                out.add("u" + i);
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("databases")
    void incrementalRunReadsTheListedRowsThatExistBesidesItsNewRows(String database) throws Exception {
        // 300 was deleted, 5000 never existed; the rest are far behind the cursor.
        List<String> retry = List.of(key(5L), key(17L), key(300L), key(42L), key(5000L));
        WarehouseSource source = users(database, after(990), retry).build();
        SyncPlan plan = source.plan();
        assertEquals(List.of("incremental-0", WarehouseSplit.RETRY_KEYS_ID), plan.splits().stream().map(WarehouseSplit::splitId).toList());
        WarehouseSplit split = plan.splits().get(1);
        assertEquals(SplitKind.RETRY_KEYS, split.kind());
        assertEquals(retry, split.retryKeys());
        assertEquals(5, split.estimatedRemaining());
        assertEquals(plan.highWaterMark(), split.highWaterMark());
        assertEquals(after(1000), plan.highWaterMark());

        Collected got = Collected.run(source, 2);
        assertEquals(Set.of("u5", "u17", "u42"), namesOf(got, WarehouseSplit.RETRY_KEYS_ID, 1));
        assertEquals(userNames(991, 1000), namesOf(got, "incremental-0", 1));
        assertEquals(13, got.rows().size());
        for (var row : got.rows()) {
            if (row.f0.equals(WarehouseSplit.RETRY_KEYS_ID)) {
                assertEquals(WarehouseSplit.rowsEmittedPosition(0), row.f2);
            }
        }
        assertEquals(Map.of("incremental-0", 1, WarehouseSplit.RETRY_KEYS_ID, 1), got.splitEnds());
        assertEquals(WarehouseSplit.rowsEmittedPosition(5), got.endPosition(WarehouseSplit.RETRY_KEYS_ID));
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aRunStartingAtAMarkReadsTheMarkAgainAndRetriesOnlyRowsOutsideItsRange(String database) throws Exception {
        // 17 and 990 wait to be retried; 990 (and 991, the mark) is in this run's range [991 s, 1000 s].
        List<String> retry = List.of(key(17L), key(990L), key(995L));
        WarehouseSource source = WarehouseSource.builder()
                .endpoint(db(database))
                .table("users")
                .primaryKey(List.of("id"))
                .cursorColumn("updated_at")
                .syncType(SyncType.INCREMENTAL)
                .startAtMark(after(990))
                .retryKeys(retry)
                .fetchSize(16)
                .runId("mark-" + database)
                .build();
        SyncPlan plan = source.plan();
        for (WarehouseSplit split : plan.splits()) {
            assertEquals(after(990), split.startMark(), split.toString());
        }
        Collected got = Collected.run(source, 2);
        // The mark itself (990) is read again, inclusively; the retried 995 only once, by the incremental split.
        assertEquals(userNames(990, 1000), namesOf(got, "incremental-0", 1));
        assertEquals(Set.of("u17"), namesOf(got, WarehouseSplit.RETRY_KEYS_ID, 1));
        assertEquals(12, got.rows().size());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void compositeKeysMatchOnEveryColumnWhenTheRunHasNoNewRows(String database) throws Exception {
        WarehouseSource source = WarehouseSource.builder()
                .endpoint(db(database))
                .table("accounts")
                .primaryKey(List.of("region", "id"))
                .cursorColumn("updated_at")
                .syncType(SyncType.INCREMENTAL)
                .startAfter(after(100))
                .retryKeys(List.of(key("eu", 7L), key("us", 7L), key("eu", 500L), key("us", 8L), key("asia", 8L)))
                .runId("retry-composite-" + database)
                .build();
        Collected got = Collected.run(source, 1);
        assertEquals(Set.of("eu-7", "us-7", "us-8"), namesOf(got, WarehouseSplit.RETRY_KEYS_ID, 2));
        assertEquals(3, got.rows().size());
        assertEquals(Map.of("incremental-0", 1, WarehouseSplit.RETRY_KEYS_ID, 1), got.splitEnds());
        assertEquals(WarehouseSplit.rowsEmittedPosition(5), got.endPosition(WarehouseSplit.RETRY_KEYS_ID));
    }

    @ParameterizedTest
    @MethodSource("databases")
    void runWithoutAHighWaterMarkReadsOnlyTheRetryKeys(String database) throws Exception {
        WarehouseSource source = WarehouseSource.builder()
                .endpoint(db(database))
                .table("stale")
                .primaryKey(List.of("id"))
                .cursorColumn("updated_at")
                .syncType(SyncType.INCREMENTAL)
                .retryKeys(List.of(key(2L), key(4L), key(11L)))
                .runId("retry-stale-" + database)
                .build();
        SyncPlan plan = source.plan();
        assertNull(plan.highWaterMark());
        assertEquals(List.of(WarehouseSplit.RETRY_KEYS_ID), plan.splits().stream().map(WarehouseSplit::splitId).toList());
        assertNull(plan.splits().get(0).highWaterMark());

        Collected got = Collected.run(source, 2);
        assertEquals(Set.of("s2", "s4"), namesOf(got, WarehouseSplit.RETRY_KEYS_ID, 1));
        assertEquals(2, got.rows().size());
        assertEquals(Map.of(WarehouseSplit.RETRY_KEYS_ID, 1), got.splitEnds());
        assertEquals(WarehouseSplit.rowsEmittedPosition(3), got.endPosition(WarehouseSplit.RETRY_KEYS_ID));
    }

    @ParameterizedTest
    @MethodSource("databases")
    void manyKeysAreLookedUpInChunksOf200WithTheChunkStartAsPosition(String database) throws Exception {
        Collected got = Collected.run(users(database, after(1000), userKeys(1, 450)).build(), 2);
        assertEquals(userNames(1, 450), namesOf(got, WarehouseSplit.RETRY_KEYS_ID, 1));
        assertEquals(449, got.rows().size());
        for (var row : got.rows()) {
            int id = Integer.parseInt(name(row, 0));
            assertEquals(WarehouseSplit.rowsEmittedPosition((id - 1) / 200 * 200L), row.f2, "position of id " + id);
        }
        assertEquals(WarehouseSplit.rowsEmittedPosition(450), got.endPosition(WarehouseSplit.RETRY_KEYS_ID));
    }

    @ParameterizedTest
    @MethodSource("databases")
    void restoredSplitLooksUpAgainFromTheChunkInProgress(String database) throws Exception {
        WarehouseSource source = users(database, after(1000), userKeys(1, 450)).build();
        WarehouseSplit split = source.plan().splits().stream().filter(WarehouseSplit::isRetryKeyScan).findFirst().orElseThrow();

        Map<Long, Integer> seen = new HashMap<>();
        List<WarehouseSplit> snapshot;
        // Stop after 250 rows: all of chunk [0, 200) and 50 rows of chunk [200, 400).
        try (WarehouseSourceReader first = new WarehouseSourceReader(source.settings(), new TestingReaderContext())) {
            first.start();
            first.addSplits(List.of(split));
            TestingReaderOutput<SourceRow> out = new TestingReaderOutput<>();
            WarehouseSourceReaderITCase.pollUntil(first, out, 250);
            snapshot = first.snapshotState(1);
            List<SourceRow> rows = out.getEmittedRecords();
            assertEquals(250, rows.size());
            for (int k = 0; k < rows.size(); k++) {
                long id = (Long) rows.get(k).get("id");
                assertEquals(WarehouseSplit.rowsEmittedPosition(k < 200 ? 0 : 200), rows.get(k).position(), "row " + k);
                assertTrue(k < 200 ? id <= 200 : id > 200 && id <= 400, "id " + id + " at row " + k);
                seen.merge(id, 1, Integer::sum);
            }
        }
        assertEquals(1, snapshot.size());
        assertEquals(SplitKind.RETRY_KEYS, snapshot.get(0).kind());
        assertEquals(WarehouseSplit.rowsEmittedPosition(200), snapshot.get(0).position());
        assertEquals(200, snapshot.get(0).keysDone());
        assertEquals(userKeys(1, 450), snapshot.get(0).retryKeys());

        List<SourceRow> rest;
        try (WarehouseSourceReader second = new WarehouseSourceReader(source.settings(), new TestingReaderContext())) {
            second.start();
            second.addSplits(snapshot);
            second.notifyNoMoreSplits();
            TestingReaderOutput<SourceRow> out = new TestingReaderOutput<>();
            assertEquals(InputStatus.END_OF_INPUT, WarehouseSourceReaderITCase.pollUntil(second, out, Integer.MAX_VALUE));
            rest = new ArrayList<>(out.getEmittedRecords());
        }
        SourceRow end = rest.remove(rest.size() - 1);
        assertTrue(end.isSplitEnd());
        assertEquals(WarehouseSplit.rowsEmittedPosition(450), end.position());
        Set<Long> restIds = new TreeSet<>();
        for (SourceRow row : rest) {
            assertFalse(row.isSplitEnd());
            long id = (Long) row.get("id");
            assertTrue(restIds.add(id), "id " + id + " emitted twice after the restore");
            assertEquals(WarehouseSplit.rowsEmittedPosition(id <= 400 ? 200 : 400), row.position(), "position of id " + id);
            seen.merge(id, 1, Integer::sum);
        }
        // The restore starts at the chunk in progress: keys 201..450, nothing before.
        Set<Long> expected = new TreeSet<>();
        for (long id = 201; id <= 450; id++) {
            if (id != 300) {
                expected.add(id);
            }
        }
        assertEquals(expected, restIds);
        // Every row at least once; only rows of the chunk in progress twice.
        assertEquals(449, seen.size());
        for (Map.Entry<Long, Integer> e : seen.entrySet()) {
            boolean chunkInProgress = e.getKey() > 200 && e.getKey() <= 400;
            assertTrue(e.getValue() == 1 || (chunkInProgress && e.getValue() == 2), "id " + e.getKey() + " emitted " + e.getValue() + " times");
        }
        assertEquals(50, seen.values().stream().filter(n -> n == 2).count());
        // Rows share one column-name array per split.
        assertTrue(rest.get(0).columns() == rest.get(rest.size() - 1).columns());
    }
}
