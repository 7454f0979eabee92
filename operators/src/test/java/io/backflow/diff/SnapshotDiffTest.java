package io.backflow.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.ledger.Ledger;
import io.backflow.sink.DeliveryCommittable;
import io.backflow.ledger.LedgerStore;
import io.backflow.ledger.RunStatus;
import io.backflow.model.RowError;
import io.backflow.testing.Databases;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The diff in the database and the ledger's snapshot updates, on PostgreSQL and DuckDB: which rows
 * a delta holds, that only acknowledged rows reach the snapshot, that failed rows come back with
 * their attempt number, and what mirror and upsert modes do with deletes.
 */
class SnapshotDiffTest {
    @TempDir static Path tmp;

    static Stream<String> databases() {
        return Stream.of("postgres", "duckdb");
    }

    private static JdbcEndpoint database(String db, String name) {
        return db.equals("postgres") ? Databases.newPostgresDatabase(name) : Databases.duckDb(tmp, name);
    }

    private static SnapshotDiff diff(JdbcEndpoint endpoint, SyncMode mode, boolean sendAll) {
        return new SnapshotDiff(endpoint.dialect(), "backflow", "items", "shop.items", null, List.of("id"),
                List.of("name", "price"), mode, sendAll, endpoint);
    }

    private static String key(long id) {
        return PositionCodec.encode(new Object[] {id});
    }

    /** Commits the whole delta as one split: {@code errors} not delivered, everything else acknowledged. */
    private static void deliver(Ledger ledger, String run, List<RowError> errors) {
        ledger.planned(run, null, List.of(new Ledger.SplitProgress("full-0", "d", null, false)));
        long failed = errors.stream().filter(e -> e.kind() == RowError.Kind.FAILED).count();
        assertTrue(ledger.commit(new DeliveryCommittable(run, 0, 1, 0, 0, failed, errors.size() - failed, Map.of(), Set.of("full-0"), errors)));
    }

    /** A whole run over a fresh delta: planned, then committed with {@code errors} not delivered. */
    private static String sync(Ledger ledger, JdbcEndpoint endpoint, String type, SyncMode mode, boolean sendAll, RowError... errors) {
        String run = ledger.startRun("items", type, null, type.toLowerCase(java.util.Locale.ROOT));
        ledger.planDelta(run, "items", diff(endpoint, mode, sendAll));
        deliver(ledger, run, List.of(errors));
        return run;
    }

    private static RowError failed(long id) {
        return new RowError(RowError.Kind.FAILED, "{\"id\":" + id + "}", "m" + id, "HTTP 400: rejected", key(id));
    }

    private static Map<String, String> log(Ledger ledger, String run) {
        Map<String, String> out = new TreeMap<>();
        for (SnapshotUpdate.LogEntry e : ledger.rowLog(run, null, 1000)) {
            out.put(e.key(), e.operation() + " " + e.status() + " " + e.attempts());
        }
        return out;
    }

    private static long snapshotRows(JdbcEndpoint endpoint) {
        return Databases.queryLong(endpoint, "SELECT COUNT(*) FROM backflow." + SnapshotDiff.snapshotTableName("items", List.of("id")));
    }

    private static long refusedInserts(JdbcEndpoint endpoint) {
        return Databases.queryLong(endpoint, "SELECT COUNT(*) FROM backflow." + SnapshotDiff.snapshotTableName("items", List.of("id"))
                + " WHERE " + io.backflow.model.DeltaColumns.HASH + " = '" + SnapshotUpdate.REFUSED_INSERT + "'");
    }

    @ParameterizedTest
    @MethodSource("databases")
    void mirrorDiffsSendChangesDeletesAndRetriesOnlyWhatWasNotAcknowledged(String db) {
        JdbcEndpoint endpoint = database(db, "diff_mirror");
        Databases.execute(endpoint, "CREATE SCHEMA shop", "CREATE TABLE shop.items (id INTEGER, name VARCHAR(20), price INTEGER, note VARCHAR(20))",
                "INSERT INTO shop.items VALUES (1, 'a', 10, 'x'), (2, 'b', 20, 'x'), (3, 'c', 30, 'x'), (4, 'd', 40, 'x'), (5, NULL, 50, 'x'),"
                        + " (7, 'dup', 1, 'x'), (7, 'dup', 2, 'x'), (NULL, 'nokey', 0, 'x')");
        try (Ledger ledger = new LedgerStore(endpoint, "backflow").open()) {
            String first = ledger.startRun("items", "FULL", null, "first");
            SnapshotDiff.Result planned = ledger.planDelta(first, "items", diff(endpoint, SyncMode.MIRROR, true));
            assertEquals(5, planned.rows("insert"));
            assertEquals(1, planned.rows("duplicate"));
            assertEquals(1, planned.rowsByOperation().get("null key"));
            deliver(ledger, first, List.of(failed(2), new RowError(RowError.Kind.INVALID, "{\"id\":7}", null, "duplicate", key(7))));
            assertTrue(ledger.run(first).completed(), "every row resolved, one of them failed");
            assertEquals(5, snapshotRows(endpoint), "1, 3, 4 and 5 were acknowledged; 2 failed, 7 is invalid");
            assertEquals(1, refusedInserts(endpoint), "2, a refused insert, is kept by its key, marked, for a delete if it goes");
            Map<String, String> firstLog = log(ledger, first);
            assertEquals("insert succeeded 1", firstLog.get("{\"id\":1}"));
            assertEquals("insert failed 1", firstLog.get("{\"id\":2}"));
            assertEquals("duplicate invalid 1", firstLog.get("{\"id\":7}"));
            assertEquals("insert invalid 1", firstLog.get("{\"id\":null}"));
            assertEquals(1, ledger.failedRowCount("items"));

            // A column the mapping does not read changes nothing; a NULL that becomes '' is a change.
            Databases.execute(endpoint, "UPDATE shop.items SET note = 'y'", "UPDATE shop.items SET name = '' WHERE id = 5",
                    "UPDATE shop.items SET price = 31 WHERE id = 3", "DELETE FROM shop.items WHERE id = 4",
                    "INSERT INTO shop.items VALUES (6, 'f', 60, 'x')");
            String second = ledger.startRun("items", "DIFF", null, "changes");
            SnapshotDiff.Result changes = ledger.planDelta(second, "items", diff(endpoint, SyncMode.MIRROR, false));
            assertEquals(2, changes.rows("insert"), "the failed row 2 and the new row 6");
            assertEquals(2, changes.rows("update"), "rows 3 and 5");
            assertEquals(1, changes.rows("delete"), "row 4");
            deliver(ledger, second, List.of());
            Map<String, String> secondLog = log(ledger, second);
            assertEquals("insert succeeded 2", secondLog.get("{\"id\":2}"), "second attempt of row 2");
            assertEquals("delete succeeded 1", secondLog.get("{\"id\":4}"));
            assertEquals("update succeeded 1", secondLog.get("{\"id\":5}"));
            assertNull(secondLog.get("{\"id\":1}"), "row 1 did not change");
            assertEquals(5, snapshotRows(endpoint), "1, 2, 3, 5 and 6");
            assertEquals(0, ledger.failedRowCount("items"), "row 2 was delivered");
            assertEquals(SnapshotDiff.snapshotTableName("items", List.of("id")), ledger.snapshotOf("items"));

            String third = ledger.startRun("items", "DIFF", null, "nothing");
            SnapshotDiff.Result nothing = ledger.planDelta(third, "items", diff(endpoint, SyncMode.MIRROR, false));
            assertEquals(0, nothing.rows("insert") + nothing.rows("update") + nothing.rows("delete"), nothing.describe());
            assertEquals(1, nothing.rows("duplicate"), "duplicates are counted on every sync");

            // Past retention the older runs' deltas (their row logs) are dropped; the newest run's stays.
            ledger.finishRun(third, RunStatus.FAILED, "test");
            ledger.purge("items", java.time.Instant.now().plusSeconds(60));
            assertNull(ledger.rowLog(first, null, 10));
            assertNull(ledger.rowLog(second, null, 10));
            assertEquals(1, Databases.queryLong(endpoint, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'backflow'"
                    + " AND table_name LIKE 'delta%'"));
            assertEquals(5, snapshotRows(endpoint), "the snapshot is not purged");
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void upsertSendsNoDeletesAndAFailedDeleteIsSentAgain(String db) {
        JdbcEndpoint endpoint = database(db, "diff_upsert");
        Databases.execute(endpoint, "CREATE SCHEMA shop", "CREATE TABLE shop.items (id BIGINT PRIMARY KEY, name VARCHAR(20), price INTEGER)",
                "INSERT INTO shop.items VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)");
        try (Ledger ledger = new LedgerStore(endpoint, "backflow").open()) {
            sync(ledger, endpoint, "FULL", SyncMode.UPSERT, true);
            Databases.execute(endpoint, "DELETE FROM shop.items WHERE id IN (2, 3)");
            String upsert = ledger.startRun("items", "DIFF", null, "upsert");
            assertEquals(0, ledger.planDelta(upsert, "items", diff(endpoint, SyncMode.UPSERT, false)).rows("delete"));
            deliver(ledger, upsert, List.of());

            String mirror = ledger.startRun("items", "DIFF", null, "mirror");
            assertEquals(2, ledger.planDelta(mirror, "items", diff(endpoint, SyncMode.MIRROR, false)).rows("delete"));
            deliver(ledger, mirror, List.of(failed(3)));
            String again = ledger.startRun("items", "DIFF", null, "mirror again");
            SnapshotDiff.Result retry = ledger.planDelta(again, "items", diff(endpoint, SyncMode.MIRROR, false));
            assertEquals(1, retry.rows("delete"), "the delete of row 3 was refused, so it is sent again: " + retry.describe());
            assertEquals("delete pending 2", log(ledger, again).get("{\"id\":3}"));
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aStoppedRunLeavesTheSnapshotAloneAndItsResumerSharesTheDelta(String db) {
        JdbcEndpoint endpoint = database(db, "diff_resume");
        Databases.execute(endpoint, "CREATE SCHEMA shop", "CREATE TABLE shop.items (id INTEGER, name VARCHAR(20), price INTEGER)",
                "INSERT INTO shop.items VALUES (1, 'a', 10), (2, 'b', 20)");
        try (Ledger ledger = new LedgerStore(endpoint, "backflow").open()) {
            String stopped = ledger.startRun("items", "FULL", null, "first");
            ledger.planDelta(stopped, "items", diff(endpoint, SyncMode.UPSERT, true));
            ledger.planned(stopped, null, List.of(new Ledger.SplitProgress("full-0", "d", null, false)));
            assertTrue(ledger.commit(new DeliveryCommittable(stopped, 0, 1, 2, 1, 1, 0, Map.of("full-0", key(2)), Set.of(), List.of(failed(2)))));
            ledger.markStopped(stopped, null, "stopped");
            assertEquals(0, snapshotRows(endpoint), "nothing reaches the snapshot before the delta is resolved");

            String resumer = ledger.startRun("items", "FULL", null, "resume", stopped, null);
            ledger.copyPlan(stopped, resumer);
            ledger.shareDelta(stopped, resumer);
            assertEquals(ledger.run(stopped).delta(), ledger.run(resumer).delta());
            assertTrue(ledger.commit(new DeliveryCommittable(resumer, 0, 1, 0, 0, 0, 0, Map.of(), Set.of("full-0"), List.of())));
            assertEquals(RunStatus.SUCCEEDED, ledger.run(resumer).status());
            assertEquals(2, snapshotRows(endpoint), "row 1, and row 2 marked: it failed in the stopped run");
            assertEquals(1, refusedInserts(endpoint));
            assertEquals(1, ledger.failedRowCount("items"), "the stopped run's failure is still owed");
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aChangedKeyStartsAnotherSnapshotAndTheHashTellsNullFromText(String db) {
        assertTrue(!SnapshotDiff.snapshotTableName("items", List.of("id")).equals(SnapshotDiff.snapshotTableName("items", List.of("id", "sku"))));
        JdbcEndpoint endpoint = database(db, "diff_hash");
        Databases.execute(endpoint, "CREATE SCHEMA shop", "CREATE TABLE shop.items (id INTEGER, name VARCHAR(20), price INTEGER)",
                "INSERT INTO shop.items VALUES (1, NULL, 10), (2, 'NULL', 10), (3, '', 10)");
        String hash = endpoint.dialect().rowHash(List.of("name"));
        List<String> hashes = new ArrayList<>();
        try (java.sql.Connection c = endpoint.open(); java.sql.Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery("SELECT " + hash + " FROM shop.items ORDER BY id")) {
            while (rs.next()) {
                hashes.add(rs.getString(1));
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        assertEquals(3, Set.copyOf(hashes).size(), "NULL, 'NULL' and '' hash apart: " + hashes);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aRowThatFailedInAFullRunIsSentAgainEvenThoughItsValuesDidNotChange(String db) {
        JdbcEndpoint endpoint = database(db, "diff_fullfail");
        Databases.execute(endpoint, "CREATE SCHEMA shop", "CREATE TABLE shop.items (id INTEGER, name VARCHAR(20), price INTEGER)",
                "INSERT INTO shop.items VALUES (1, 'a', 10), (2, 'b', 20)");
        try (Ledger ledger = new LedgerStore(endpoint, "backflow").open()) {
            sync(ledger, endpoint, "FULL", SyncMode.UPSERT, true);
            String resync = ledger.startRun("items", "FULL", null, "full resync");
            assertEquals(2, ledger.planDelta(resync, "items", diff(endpoint, SyncMode.UPSERT, true)).rows("update"));
            deliver(ledger, resync, List.of(failed(2)));
            String next = ledger.startRun("items", "DIFF", null, "next");
            SnapshotDiff.Result retry = ledger.planDelta(next, "items", diff(endpoint, SyncMode.UPSERT, false));
            assertEquals(1, retry.rows("update"), "row 2 was not delivered by the FULL run: " + retry.describe());
            deliver(ledger, next, List.of());
            assertEquals(0, ledger.failedRowCount("items"));
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void duplicatesAreFoundEvenWhenATableOfTheSameNameElsewhereHasAPrimaryKey(String db) {
        JdbcEndpoint endpoint = database(db, "diff_dupschema");
        String schema = db.equals("postgres") ? "public" : "main";
        Databases.execute(endpoint, "CREATE SCHEMA other", "CREATE TABLE other.items (id INTEGER PRIMARY KEY, name VARCHAR(20))",
                "CREATE TABLE " + schema + ".items (id INTEGER, name VARCHAR(20), price INTEGER)",
                "INSERT INTO " + schema + ".items VALUES (1, 'a', 10), (7, 'x', 1), (7, 'y', 2)");
        try (Ledger ledger = new LedgerStore(endpoint, "backflow").open()) {
            String run = ledger.startRun("items", "FULL", null, "first");
            SnapshotDiff.Result result = ledger.planDelta(run, "items", new SnapshotDiff(endpoint.dialect(), "backflow", "items", "items", null,
                    List.of("id"), List.of("name", "NAME", "price"), SyncMode.MIRROR, true, endpoint));
            assertEquals(1, result.rows("duplicate"), result.describe());
            assertEquals(1, result.rows("insert"), result.describe());
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aFloatingPointKeyIsRefusedAndAKeyTypeChangeStartsTheSnapshotAfresh(String db) {
        JdbcEndpoint endpoint = database(db, "diff_keytypes");
        Databases.execute(endpoint, "CREATE SCHEMA shop", "CREATE TABLE shop.items (id REAL, name VARCHAR(20), price INTEGER)",
                "INSERT INTO shop.items VALUES (0.1, 'a', 10)");
        try (Ledger ledger = new LedgerStore(endpoint, "backflow").open()) {
            String run = ledger.startRun("items", "FULL", null, "float");
            RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                    () -> ledger.planDelta(run, "items", diff(endpoint, SyncMode.UPSERT, true)));
            assertTrue(String.valueOf(e.getMessage()).contains("primary key column 'id' is floating point"), e.getMessage());
            ledger.finishRun(run, RunStatus.FAILED, "float key");

            Databases.execute(endpoint, "DROP TABLE shop.items", "CREATE TABLE shop.items (id INTEGER, name VARCHAR(20), price INTEGER)",
                    "INSERT INTO shop.items VALUES (1, 'a', 10)");
            sync(ledger, endpoint, "FULL", SyncMode.UPSERT, true);
            Databases.execute(endpoint, "DROP TABLE shop.items", "CREATE TABLE shop.items (id VARCHAR(10), name VARCHAR(20), price INTEGER)",
                    "INSERT INTO shop.items VALUES ('k-1', 'a', 10)");
            String text = ledger.startRun("items", "FULL", null, "text key");
            assertEquals(1, ledger.planDelta(text, "items", diff(endpoint, SyncMode.MIRROR, true)).rows("insert"));
        }
    }
}
