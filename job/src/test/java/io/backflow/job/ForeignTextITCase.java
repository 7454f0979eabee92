package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Text the code did not choose: cursors and keys whose order in the database's collation differs
 * from Java's String order (case-insensitive MariaDB, ICU on PostgreSQL, code points above the
 * BMP against U+FFxx in C.UTF-8), non-ASCII payloads that must arrive byte for byte, and rows
 * whose cursor is NULL.
 */
class ForeignTextITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;
    JdbcEndpoint ledger;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private void open(String database) {
        if (database.equals("mariadb")) {
            db = Databases.newMariaDbDatabase("text");
            ledger = Databases.newPostgresDatabase("text_ledger");
        } else {
            db = Databases.newPostgresDatabase("text");
        }
    }

    /** A column type with the database's non-binary collation. */
    private String text(String database) {
        return database.equals("mariadb") ? "VARCHAR(40)" : "VARCHAR(40) COLLATE \"en-x-icu\"";
    }

    private Path connection(String key, String cursor, String properties) {
        return BackflowCli.write(dir, "text", String.join("\n",
                "source:",
                "  url: " + db.url(),
                db.user() == null ? "" : "  user: " + db.user(),
                "  table: t",
                "  primary_key: " + key,
                cursor == null ? "" : "  cursor: " + cursor,
                "  page_size: 3",
                "  fetch_size: 2",
                "mapping:",
                "  event_type: track",
                "  event: Row Changed",
                "  user_id: u",
                "  properties: " + properties,
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 4",
                ledger == null ? "" : "state:\n  url: " + ledger.url() + "\n  user: " + ledger.user(),
                "sync:",
                "  checkpoint_interval: 200ms",
                ""));
    }

    private List<JsonNode> sync(Path conn, String type) {
        receiver.reset();
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(0, r.exitCode(), r.toString());
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals("SUCCEEDED", run.get("status").asText(), run.toString());
        assertEquals(type, run.get("type").asText(), run.toString());
        assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong(), run.toString());
        return receiver.deliveredEvents();
    }

    private static Map<String, Integer> countBy(List<JsonNode> events, String keyColumn) {
        Map<String, Integer> out = new TreeMap<>();
        for (JsonNode e : events) {
            out.merge(e.get("context").get("backflow").get("primary_key").get(keyColumn).asText(), 1, Integer::sum);
        }
        return out;
    }

    private static Map<String, Integer> once(String... keys) {
        Map<String, Integer> out = new TreeMap<>();
        for (String k : keys) {
            out.put(k, 1);
        }
        return out;
    }

    private String lit(String s) {
        // MariaDB reads a backslash in a string literal as an escape.
        String escaped = ledger != null ? s.replace("\\", "\\\\") : s;
        return "'" + escaped.replace("'", "''") + "'";
    }

    /**
     * The cursor is text whose collation puts 'B' after 'a', where Java puts it before: the mark
     * moves from 'a' to 'B', and the run after that, with nothing new, must send nothing.
     */
    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void aTextCursorThatMovesForwardInTheCollationButBackInJavaOrderMovesTheMark(String database) {
        open(database);
        Databases.execute(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, u VARCHAR(20), n INTEGER, c " + text(database) + ")",
                "INSERT INTO t VALUES (1, 'u', 1, 'a'), (2, 'u', 1, 'a'), (3, 'u', 1, 'a'), (4, 'u', 1, 'a')");
        Path conn = connection("id", "c", "{n: '{{ n }}'}");
        assertEquals(once("1", "2", "3", "4"), countBy(sync(conn, "FULL"), "id"));
        Databases.execute(db, "INSERT INTO t VALUES (5, 'u', 1, 'B'), (6, 'u', 1, 'B'), (7, 'u', 1, 'B'), (8, 'u', 1, 'B')");
        assertEquals(once("5", "6", "7", "8"), countBy(sync(conn, "INCREMENTAL"), "id"));
        assertEquals(once(), countBy(sync(conn, "INCREMENTAL"), "id"), "nothing new after the mark moved to 'B'");
        Databases.execute(db, "INSERT INTO t VALUES (9, 'u', 1, 'c')");
        assertEquals(once("9"), countBy(sync(conn, "INCREMENTAL"), "id"));
        assertEquals(once(), countBy(sync(conn, "INCREMENTAL"), "id"));
    }

    /** On MariaDB 'x' and 'X ' are the same cursor value: rows at the mark in either spelling are skipped alike. */
    @ParameterizedTest
    @ValueSource(strings = {"mariadb"})
    void cursorValuesEqualInTheCollationButSpelledDifferentlyAreNotSentAgain(String database) {
        open(database);
        Databases.execute(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, u VARCHAR(20), n INTEGER, c " + text(database) + ")",
                "INSERT INTO t VALUES (1, 'u', 1, 'a'), (2, 'u', 1, 'x'), (3, 'u', 1, 'X'), (4, 'u', 1, 'x '), (5, 'u', 1, 'X')");
        Path conn = connection("id", "c", "{n: '{{ n }}'}");
        assertEquals(once("1", "2", "3", "4", "5"), countBy(sync(conn, "FULL"), "id"));
        Databases.execute(db, "INSERT INTO t VALUES (6, 'u', 1, 'x')");
        assertEquals(once("6"), countBy(sync(conn, "INCREMENTAL"), "id"));
        assertEquals(once(), countBy(sync(conn, "INCREMENTAL"), "id"));
    }

    private static final String[] KEYS = {"", "a", "B", "ç", "Z", "zz", "😀", "李", "O'Brien", "x y", "-1", "10", "9", "Ärger", "ångström", "Ω",
            "\uFF01", "\uD83D\uDE00x", "tab\there", "quote\"back\\slash", "e\u0301", "\u2028line"};

    /**
     * Text keys, all at one cursor value across pages of 3 in the collation's order, then new keys
     * at that value on both sides of every old one; every key once, and the payload's text is the
     * column's text exactly.
     */
    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void textKeysInTheCollationsOrderArriveOnceWithTheirExactText(String database) {
        open(database);
        Databases.execute(db, "CREATE TABLE t (k " + text(database) + " PRIMARY KEY, u VARCHAR(20), n INTEGER, note VARCHAR(60), c TIMESTAMP)");
        List<String> first = new ArrayList<>();
        List<String> later = new ArrayList<>();
        for (int i = 0; i < KEYS.length; i++) {
            (i % 3 == 2 ? later : first).add(KEYS[i]);
        }
        if (database.equals("postgresql")) {
            // PostgreSQL keeps case and trailing spaces apart: keys MariaDB's collation calls equal.
            first.addAll(List.of("A", "b", "a "));
            later.addAll(List.of("é", "e", "ß", "ss", " "));
        }
        Map<String, String> notes = new HashMap<>();
        insertKeys(first, notes);
        Path conn = connection("k", "c", "{note: '{{ note }}', k: '{{ k }}'}");
        List<JsonNode> got = sync(conn, "FULL");
        assertEquals(once(first.toArray(new String[0])), countBy(got, "k"));
        checkText(got, notes);

        insertKeys(later, notes);
        got = sync(conn, "INCREMENTAL");
        assertEquals(once(later.toArray(new String[0])), countBy(got, "k"));
        checkText(got, notes);
        assertEquals(once(), countBy(sync(conn, "INCREMENTAL"), "k"));
    }

    private void insertKeys(List<String> keys, Map<String, String> notes) {
        StringBuilder values = new StringBuilder();
        for (String k : keys) {
            String note = "ünïcode ✓ «" + k + "» 🚀";
            notes.put(k, note);
            values.append(values.length() == 0 ? "" : ", ").append("(").append(lit(k)).append(", 'u', 1, ").append(lit(note))
                    .append(", TIMESTAMP '2024-01-01 00:00:00')");
        }
        Databases.execute(db, "INSERT INTO t VALUES " + values);
    }

    private static void checkText(List<JsonNode> events, Map<String, String> notes) {
        for (JsonNode e : events) {
            String k = e.get("context").get("backflow").get("primary_key").get("k").asText();
            assertEquals(k, e.get("properties").get("k").asText());
            assertEquals(notes.get(k), e.get("properties").get("note").asText(), "note of key " + k);
        }
    }

    /**
     * Rows whose cursor is NULL: FULL sends them. A row inserted later with a NULL cursor, or one
     * whose cursor is set to NULL, is never read by an INCREMENTAL sync, and not counted either (the
     * README's cursor caveats say so); the next full resync sends them.
     */
    @ParameterizedTest
    @ValueSource(strings = {"postgresql"})
    void rowsWithANullCursorAfterTheFullSyncWaitForAFullResync(String database) {
        open(database);
        Databases.execute(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, u VARCHAR(20), n INTEGER, c TIMESTAMP)",
                "INSERT INTO t VALUES (1, 'u', 1, TIMESTAMP '2024-01-01'), (2, 'u', 1, NULL), (3, 'u', 1, TIMESTAMP '2024-01-02')");
        Path conn = connection("id", "c", "{n: '{{ n }}'}");
        assertEquals(once("1", "2", "3"), countBy(sync(conn, "FULL"), "id"));
        Databases.execute(db, "INSERT INTO t VALUES (4, 'u', 1, NULL), (5, 'u', 1, TIMESTAMP '2024-01-03')",
                "UPDATE t SET n = 2, c = NULL WHERE id = 1");
        assertEquals(once("5"), countBy(sync(conn, "INCREMENTAL"), "id"));
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals(1, run.get("read").asLong(), "rows 1 and 4 are not counted: " + run);
        receiver.reset();
        BackflowCli.Result r = BackflowCli.sync(conn, "--full-resync");
        assertEquals(0, r.exitCode(), r.toString());
        Map<String, Integer> all = countBy(receiver.deliveredEvents(), "id");
        assertEquals(once("1", "2", "3", "4", "5"), all);
    }

    /**
     * Values a driver's usual conversion refuses: a PostgreSQL numeric NaN or infinity failed every
     * sync of its table ("Bad value for type BigDecimal : NaN"). Every row now arrives, the odd
     * values as what they are; a MariaDB zero date, which its driver reads as NULL, as null.
     */
    @ParameterizedTest
    @ValueSource(strings = {"postgres", "mariadb"})
    void valuesTheDriverCannotConvertDoNotFailTheSync(String database) {
        open(database);
        if (database.equals("postgres")) {
            Databases.execute(db, "CREATE TABLE t (id INT PRIMARY KEY, u VARCHAR(10), v NUMERIC, c INT)",
                    "INSERT INTO t VALUES (1, 'a', 'NaN', 1), (2, 'b', 'Infinity', 2), (3, 'c', 2.5, 3)");
        } else {
            Databases.execute(db, "SET SESSION sql_mode = ''", "CREATE TABLE t (id INT PRIMARY KEY, u VARCHAR(10), v DATE, c INT)",
                    "INSERT INTO t VALUES (1, 'a', '0000-00-00', 1), (2, 'b', '2024-02-29', 2), (3, 'c', NULL, 3)");
        }
        List<JsonNode> events = sync(connection("id", "c", "{v: '{{ v }}'}"), "FULL");
        assertEquals(3, events.size(), events.toString());
        java.util.Map<String, String> byUser = new java.util.TreeMap<>();
        for (JsonNode e : events) {
            byUser.put(e.get("userId").asText(), e.path("properties").path("v").toString());
        }
        assertEquals(database.equals("postgres") ? java.util.Map.of("a", "\"NaN\"", "b", "\"Infinity\"", "c", "2.5")
                : java.util.Map.of("a", "null", "b", "\"2024-02-29\"", "c", "null"), byUser);
    }

    /**
     * A cursor in the future ('infinity', a 9999-12-31 sentinel) is never settled, so no sync
     * reads its row (a FULL run read 2 of a table's 3 rows and said nothing); the others go as usual.
     */
    @ParameterizedTest
    @ValueSource(strings = {"postgres", "mariadb"})
    void rowsWithACursorInTheFutureWaitAndTheOthersGo(String database) {
        open(database);
        Databases.execute(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, u VARCHAR(20), n INTEGER, c " + (database.equals("mariadb") ? "DATETIME(6)" : "TIMESTAMP") + ")",
                "INSERT INTO t VALUES (1, 'u', 1, '2024-01-01 00:00:00'), (2, 'u', 1, '9999-12-31 00:00:00'), (3, 'u', 1, '2024-01-02 00:00:00')");
        Path conn = connection("id", "c", "{n: '{{ n }}'}");
        assertEquals(once("1", "3"), countBy(sync(conn, "FULL"), "id"));
        Databases.execute(db, "INSERT INTO t VALUES (4, 'u', 1, '2024-01-03 00:00:00')");
        // The INCREMENTAL run sends the new row and counts the one it cannot read (SyncPlannerTest
        // checks the count, the warning names it).
        assertEquals(once("4"), countBy(sync(conn, "INCREMENTAL"), "id"));
    }

    /** Names as a warehouse nobody here designed spells them: spaces, other scripts, a reserved word. */
    @Test
    void schemaTableAndColumnNamesWithSpacesAndOtherScriptsSync() {
        open("postgres");
        Databases.execute(db, "CREATE SCHEMA \"Sales Data\"",
                "CREATE TABLE \"Sales Data\".\"Orders 2024\" (\"Order ID\" BIGINT PRIMARY KEY, \"prénom\" TEXT, \"Amount€\" NUMERIC(10,2),"
                        + " \"Updated At\" TIMESTAMPTZ NOT NULL, \"select\" TEXT)",
                "INSERT INTO \"Sales Data\".\"Orders 2024\" VALUES (1, 'Zoë', 1.5, '2024-01-01 00:00+00', 'x'), (2, 'Ōsaka 大阪', 2.5, '2024-01-02 00:00+00', 'y')");
        Path conn = BackflowCli.write(dir, "names", String.join("\n",
                "source:",
                "  url: " + db.url(),
                "  user: " + db.user(),
                "  table: Sales Data.Orders 2024",
                "  primary_key: Order ID",
                "  cursor: Updated At",
                "mapping:",
                "  event_type: track",
                "  event: Order",
                "  user_id: prénom",
                "  properties: {amount: '{{ Amount€ }}', sel: '{{ select }}'}",
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                ""));
        List<JsonNode> events = sync(conn, "FULL");
        java.util.Map<String, String> got = new java.util.TreeMap<>();
        for (JsonNode e : events) {
            got.put(e.get("userId").asText(), e.get("properties").toString());
        }
        assertEquals(java.util.Map.of("Zoë", "{\"amount\":1.5,\"sel\":\"x\"}", "Ōsaka 大阪", "{\"amount\":2.5,\"sel\":\"y\"}"), got);
    }
}
