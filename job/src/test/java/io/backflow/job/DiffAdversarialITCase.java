package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Diff syncs against data nobody shaped for the code: values whose text forms look alike, typed
 * values whose scale, sign or zone differ, keys that are deleted, duplicated, re-inserted or change
 * type, and runs stopped, crashed or abandoned while the table changes. Each case asserts exactly
 * which (key, action) events the receiver got, that runs reconcile, and that a sync after no change
 * sends nothing.
 */
class DiffAdversarialITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;
    JdbcEndpoint ledger;
    String kind;
    int seen;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private void useDatabase(String kind) {
        this.kind = kind;
        switch (kind) {
            case "postgres":
                db = Databases.newPostgresDatabase("diffadv");
                break;
            case "postgres, ledger in another database":
                db = Databases.newPostgresDatabase("diffadv");
                ledger = Databases.newPostgresDatabase("diffadv_ledger");
                break;
            case "postgres, ledger in duckdb":
                db = Databases.newPostgresDatabase("diffadv");
                ledger = Databases.duckDb(dir, "ledger");
                break;
            case "mariadb, ledger in postgres":
                db = Databases.newMariaDbDatabase("diffadv");
                ledger = Databases.newPostgresDatabase("diffadv_ledger");
                break;
            case "mariadb, ledger in duckdb":
                db = Databases.newMariaDbDatabase("diffadv");
                ledger = Databases.duckDb(dir, "ledger");
                break;
            default:
                db = Databases.duckDb(dir, "warehouse");
        }
    }

    private boolean maria() {
        return kind.startsWith("mariadb");
    }

    private String textType() {
        return maria() ? "TEXT" : kind.equals("duckdb") ? "VARCHAR" : "TEXT";
    }

    /** A connection of {@code table} keyed by {@code key}, record events whose fields are {@code fields} (name: column). */
    private Path connection(String name, String table, String key, Map<String, String> fields, String mode, String extra) {
        StringBuilder mapping = new StringBuilder("mapping:\n  event_type: record\n  fields:");
        fields.forEach((f, c) -> mapping.append("\n    ").append(f).append(": '{{ ").append(c).append(" }}'"));
        return BackflowCli.write(dir, name, String.join("\n",
                "source:",
                "  url: " + db.url(),
                db.user() == null ? "" : "  user: " + db.user(),
                db.password() == null ? "" : "  password: " + db.password(),
                "  table: " + table,
                "  primary_key: " + key,
                "  page_size: 300",
                mapping.toString(),
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 20",
                "  max_in_flight: 1",
                "  retry: {max_attempts: 3, initial_backoff: 50ms, max_backoff: 200ms, max_duration: 10s}",
                "sync:",
                "  mode: " + mode,
                "  parallelism: 2",
                "  checkpoint_interval: 200ms",
                "  savepoint_dir: " + dir.resolve("savepoints"),
                ledger == null ? "" : "state:\n  url: " + ledger.url() + (ledger.user() == null ? "" : "\n  user: " + ledger.user()),
                extra,
                ""));
    }

    /** One received event: its key (the identifiers as JSON), action and fields. */
    record Ev(String key, String action, JsonNode fields) {}

    /** The events received since the last call, in arrival order. */
    private List<Ev> received() {
        List<JsonNode> events = receiver.deliveredEvents();
        List<Ev> out = new ArrayList<>();
        for (JsonNode e : events.subList(seen, events.size())) {
            out.add(new Ev(e.get("identifiers").toString(), e.get("action").asText(), e.get("fields")));
        }
        seen = events.size();
        return out;
    }

    /** key -> action, failing when a key arrived twice. */
    private static Map<String, String> actions(List<Ev> events) {
        Map<String, String> out = new TreeMap<>();
        for (Ev e : events) {
            String before = out.put(e.key(), e.action());
            if (before != null) {
                throw new AssertionError("key " + e.key() + " arrived twice (" + before + ", " + e.action() + ") in " + events);
            }
        }
        return out;
    }

    private static String id(long id) {
        return "{\"id\":" + id + "}";
    }

    private JsonNode sync(Path conn, String expectedType, String... flags) {
        BackflowCli.Result r = BackflowCli.sync(conn, flags);
        assertEquals(0, r.exitCode(), r.toString());
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals("SUCCEEDED", run.get("status").asText(), run.toString());
        assertEquals(expectedType, run.get("type").asText(), r.out());
        reconciles(conn);
        return run;
    }

    private void reconciles(Path conn) {
        for (JsonNode run : BackflowCli.history(conn)) {
            if (run.get("status").asText().equals("SUCCEEDED")) {
                assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong(),
                        run.toString());
            }
        }
    }

    private void assertNothingMoreToSend(Path conn) {
        JsonNode again = sync(conn, "DIFF");
        assertEquals(0, again.get("read").asLong(), "a sync after no change reads nothing: " + again);
        List<Ev> events = received();
        assertEquals(List.of(), events, "a sync after no change sends nothing");
    }

    private void exec(String sql, Object... params) {
        try (Connection c = db.open(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ look-alike text values

    /** Pairs of (a, b) values whose text forms look alike: each row is updated from the first to the second. */
    private static final String[][][] LOOK_ALIKES = {
        {{null, "x"}, {"", "x"}},
        {{"", "x"}, {"NULL", "x"}},
        {{"NULL", "x"}, {"\\N", "x"}},
        {{"\\N", "x"}, {null, "x"}},
        {{"a", "bc"}, {"ab", "c"}},
        {{null, "x"}, {"x", null}},
        {{"a,b", null}, {"a", "b"}},
        {{"\"q\"", ""}, {"\"q", "\""}},
        {{"(1", "2)"}, {"(1,2)", null}},
        {{"x", "y"}, {"x ", "y"}},
        {{"\u00e9", "y"}, {"e\u0301", "y"}},
        {{"[\"a\",\"b\"]", "{}"}, {"[\"a\", \"b\"]", "{}"}},
        {{"a\\", "b"}, {"a", "\\b"}},
        {{"a\"", ""}, {"a", "\""}},
        {{"\ud83d\ude00", "t\tab"}, {"\ud83d\ude01", "t ab"}},
        {{"line\nbreak", "z"}, {"line\r\nbreak", "z"}},
        {{"{\"k\":1}", "z"}, {"{\"k\": 1}", "z"}},
        {{"'", "z"}, {"''", "z"}},
        {{"a", "NULL"}, {"a", null}},
        {{"x", ","}, {"x,", ""}},
        {{"x".repeat(20_000), "z"}, {"x".repeat(19_999) + "y", "z"}},
        {{"[a, b]", "z"}, {"[a,b]", "z"}},
    };

    private Map<Long, JsonNode> lookAlikeTable() {
        Map<Long, JsonNode> out = new TreeMap<>();
        try (Connection c = db.open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id, a, b FROM look")) {
            while (rs.next()) {
                ObjectNode n = JSON.createObjectNode();
                n.put("a", rs.getString(2));
                n.put("b", rs.getString(3));
                out.put(rs.getLong(1), n);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "duckdb", "postgres, ledger in another database", "postgres, ledger in duckdb", "mariadb, ledger in postgres",
            "mariadb, ledger in duckdb"})
    void lookAlikeTextValuesAreEachAChangeAndTheSameValuesAreNone(String database) throws Exception {
        useDatabase(database);
        Databases.execute(db, "CREATE TABLE look (id BIGINT, a " + textType() + ", b " + textType() + ")");
        for (int i = 0; i < LOOK_ALIKES.length; i++) {
            exec("INSERT INTO look VALUES (?, ?, ?)", (long) i + 1, LOOK_ALIKES[i][0][0], LOOK_ALIKES[i][0][1]);
        }
        Path conn = connection("look", "look", "id", Map.of("a", "a", "b", "b"), "mirror", "");
        sync(conn, "FULL");
        Map<Long, JsonNode> destination = new TreeMap<>();
        for (Ev e : received()) {
            destination.put(JSON.readTree(e.key()).get("id").asLong(), e.fields());
        }
        assertEquals(lookAlikeTable(), destination, "the first sync sends every row as it is");

        // Every row takes its look-alike: each must go out once, as an update.
        for (int i = 0; i < LOOK_ALIKES.length; i++) {
            exec("UPDATE look SET a = ?, b = ? WHERE id = ?", LOOK_ALIKES[i][1][0], LOOK_ALIKES[i][1][1], (long) i + 1);
        }
        JsonNode second = sync(conn, "DIFF");
        List<Ev> events = received();
        Map<String, String> expected = new TreeMap<>();
        for (int i = 0; i < LOOK_ALIKES.length; i++) {
            expected.put(id(i + 1), "update");
        }
        assertEquals(expected, actions(events), "every look-alike is a change");
        assertEquals(LOOK_ALIKES.length, second.get("succeeded").asLong());
        for (Ev e : events) {
            destination.put(JSON.readTree(e.key()).get("id").asLong(), e.fields());
        }
        assertEquals(lookAlikeTable(), destination, "sent as they are");
        assertNothingMoreToSend(conn);

        // Writing the same values again is no change; going back is one update each.
        Databases.execute(db, "UPDATE look SET a = a, b = b");
        assertNothingMoreToSend(conn);
        for (int i = 0; i < LOOK_ALIKES.length; i++) {
            exec("UPDATE look SET a = ?, b = ? WHERE id = ?", LOOK_ALIKES[i][0][0], LOOK_ALIKES[i][0][1], (long) i + 1);
        }
        sync(conn, "DIFF");
        assertEquals(expected, actions(received()), "and back");
        assertNothingMoreToSend(conn);
    }

    // ------------------------------------------------------------------ typed values

    /**
     * PostgreSQL typed values: (id, before, after, whether the mapped event differs). A change
     * must be sent exactly when the event differs.
     */
    @ParameterizedTest
    @ValueSource(strings = {"postgres", "postgres, ledger in another database", "postgres, ledger in duckdb"})
    void postgresTypedValuesChangeExactlyWhenTheEventDoes(String database) throws Exception {
        useDatabase(database);
        Databases.execute(db, "CREATE TABLE typed (id BIGINT PRIMARY KEY, n NUMERIC, d FLOAT8, ts TIMESTAMP(6), tz TIMESTAMPTZ, bin BYTEA, jb JSONB,"
                        + " js JSON, arr TEXT[], ch CHAR(5), u UUID)",
                "INSERT INTO typed VALUES (1, 1.0, 0.0, '2024-01-01 00:00:00.000001', '2024-01-01 00:00:00+00', '\\x00ff', '{\"b\":1,\"a\":2}',"
                        + " '{\"b\":1,\"a\":2}', '{a,b}', 'ab', '00000000-0000-0000-0000-000000000001')",
                "INSERT INTO typed VALUES (2, 1.0, 'NaN', '2024-01-01 00:00:00', '2024-06-01 12:00:00+02', '\\x', '[]', '[]', '{}', 'ab  ', NULL)",
                "INSERT INTO typed VALUES (3, 2, '-0'::float8, NULL, NULL, NULL, 'null', 'null', '{NULL}', NULL, NULL)",
                "INSERT INTO typed VALUES (4, 5.5, 1e-300, '2024-01-01', '2024-01-01 00:00:00.5+00', '\\x0a', '{\"a\":[1,2]}', '{\"a\":[1,2]}',"
                        + " '{\"a,b\"}', 'x', NULL)",
                "INSERT INTO typed VALUES (5, 0.5, 1.5, '2024-01-01', '2024-01-01 00:00:00+00', '\\x0a', '{\"b\":1,\"a\":2}', '{}', '{a}', 'x',"
                        + " '00000000-0000-0000-0000-00000000000A')");
        Map<String, String> fields = new LinkedHashMap<>();
        for (String c : List.of("n", "d", "ts", "tz", "bin", "jb", "js", "arr", "ch", "u")) {
            fields.put(c, c);
        }
        Path conn = connection("typed", "typed", "id", fields, "mirror", "");
        sync(conn, "FULL");
        Map<String, JsonNode> first = new TreeMap<>();
        received().forEach(e -> first.put(e.key(), e.fields()));
        assertEquals(5, first.size());

        // Same values written again, and in another session time zone: nothing.
        Databases.execute(db, "UPDATE typed SET n = n, d = d, ts = ts, tz = tz, bin = bin, jb = jb, js = js, arr = arr, ch = ch, u = u");
        java.util.TimeZone zone = java.util.TimeZone.getDefault();
        try {
            java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("Pacific/Chatham"));
            assertNothingMoreToSend(conn);
        } finally {
            java.util.TimeZone.setDefault(zone);
        }

        Databases.execute(db,
                // 1: same number, another scale; a microsecond: both change the event
                "UPDATE typed SET n = 1.00, ts = '2024-01-01 00:00:00.000002' WHERE id = 1",
                // 2: NaN stays NaN, char(5) padded the same, jsonb whitespace (normalized): no change
                "UPDATE typed SET d = 'NaN', ch = 'ab', jb = '[ ]' WHERE id = 2",
                // 3: -0.0 becomes 0.0; an array's NULL element becomes the text NULL; json text with a space
                "UPDATE typed SET d = 0.0, arr = '{\"NULL\"}', js = ' null' WHERE id = 3",
                // 4: one byte of the bytea
                "UPDATE typed SET bin = '\\x0b' WHERE id = 4",
                // 5: the same instant written in another zone, jsonb key order, uuid case: no change
                "UPDATE typed SET tz = '2024-01-01 02:00:00+02', jb = '{\"a\":2,\"b\":1}', u = '00000000-0000-0000-0000-00000000000a' WHERE id = 5");
        sync(conn, "DIFF");
        List<Ev> events = received();
        Map<String, JsonNode> now = new TreeMap<>();
        events.forEach(e -> now.put(e.key(), e.fields()));
        // What the mapped events say, from a FULL sync of the same rows to another receiver: the truth.
        Map<String, String> expected = new TreeMap<>();
        Map<String, JsonNode> truth = fullSyncElsewhere(fields);
        truth.forEach((k, f) -> {
            if (!f.equals(first.get(k))) {
                expected.put(k, "update");
            }
        });
        assertEquals(expected, actions(events), "an update exactly where the event changed; first " + first + " truth " + truth);
        now.forEach((k, f) -> assertEquals(truth.get(k), f, "sent as a FULL sync maps it: " + k));
        assertNothingMoreToSend(conn);
    }

    /** Fields per key of a FULL sync of the typed table under another connection name, to another receiver. */
    private Map<String, JsonNode> fullSyncElsewhere(Map<String, String> fields) throws Exception {
        try (HttpReceiver other = HttpReceiver.start()) {
            String text = Files.readString(connection("typed_truth", "typed", "id", fields, "full", ""))
                    .replace(receiver.webhookUrl(), other.webhookUrl());
            Path full = BackflowCli.write(dir, "typed_truth", text);
            BackflowCli.Result r = BackflowCli.sync(full);
            assertEquals(0, r.exitCode(), r.toString());
            Map<String, JsonNode> out = new TreeMap<>();
            other.deliveredEvents().forEach(e -> out.put(e.get("identifiers").toString(), e.get("fields")));
            return out;
        }
    }

    /**
     * A PostgreSQL model diffed next to a ledger in another database: its numbers are copied first. A
     * NUMERIC must still reach the destination as the number it is. Not with a DuckDB ledger: DuckDB
     * has no decimal without a bound, so a NUMERIC without precision is copied as text and arrives
     * as a string (README, "Diff where the ledger is elsewhere").
     */
    @ParameterizedTest
    @ValueSource(strings = {"postgres, ledger in another database"})
    void numbersKeepTheirTypeThroughTheModelCopy(String database) throws Exception {
        useDatabase(database);
        Databases.execute(db, "CREATE TABLE amounts (id BIGINT PRIMARY KEY, n NUMERIC, p NUMERIC(10, 2))",
                "INSERT INTO amounts VALUES (1, 0.5, 0.5), (2, 12345678901234567890.123, 1)");
        Path conn = connection("amounts", "amounts", "id", Map.of("n", "n", "p", "p"), "mirror", "");
        sync(conn, "FULL");
        Map<String, JsonNode> got = new TreeMap<>();
        received().forEach(e -> got.put(e.key(), e.fields()));
        assertEquals(JSON.readTree("{\"n\":0.5,\"p\":0.50}"), got.get(id(1)), got.toString());
        assertTrue(got.get(id(2)).get("n").isNumber(), got.toString());
        String bodies = receiver.requests().stream().map(r -> new String(r.body(), java.nio.charset.StandardCharsets.UTF_8))
                .reduce("", String::concat);
        assertTrue(bodies.contains("\"n\":12345678901234567890.123"), bodies);
    }

    /** DuckDB typed values, in place. */
    @Test
    void duckDbTypedValuesChangeExactlyWhenTheEventDoes() throws Exception {
        useDatabase("duckdb");
        Databases.execute(db, "CREATE TABLE typed (id BIGINT, n DECIMAL(10,2), d DOUBLE, ts TIMESTAMP, tz TIMESTAMPTZ, bin BLOB, arr VARCHAR[])",
                "INSERT INTO typed VALUES (1, 1.5, 0.0, '2024-01-01 00:00:00.000001', '2024-01-01 00:00:00+00', '\\x00\\xff'::BLOB, ['a','b'])",
                "INSERT INTO typed VALUES (2, 1.5, 'NaN', '2024-01-01 00:00:00', '2024-06-01 12:00:00+02', ''::BLOB, [])",
                "INSERT INTO typed VALUES (3, 2, '-0.0'::DOUBLE, NULL, NULL, NULL, [NULL])",
                "INSERT INTO typed VALUES (4, 5.5, 1e-300, '2024-01-01', '2024-01-01 00:00:00.5+00', '\\x0a'::BLOB, ['x'])");
        Map<String, String> fields = new LinkedHashMap<>();
        for (String c : List.of("n", "d", "ts", "tz", "bin", "arr")) {
            fields.put(c, c);
        }
        Path conn = connection("typed", "typed", "id", fields, "mirror", "");
        sync(conn, "FULL");
        assertEquals(4, received().size());
        Databases.execute(db, "UPDATE typed SET n = n, d = d, ts = ts, tz = tz, bin = bin, arr = arr");
        assertNothingMoreToSend(conn);
        Databases.execute(db,
                "UPDATE typed SET ts = '2024-01-01 00:00:00.000002', tz = '2024-01-01 02:00:00+02' WHERE id = 1",
                "UPDATE typed SET d = 'NaN' WHERE id = 2",
                "UPDATE typed SET d = 0.0 WHERE id = 3",
                "UPDATE typed SET bin = '\\x0b'::BLOB WHERE id = 4");
        sync(conn, "DIFF");
        assertEquals(Map.of(id(1), "update", id(3), "update", id(4), "update"), actions(received()));
        assertNothingMoreToSend(conn);
    }

    /**
     * A DuckDB warehouse synced by a process in another time zone (DuckDB takes its TimeZone from
     * the process's TZ): the same instants are the same events, so nothing is a change.
     */
    @Test
    void duckDbTimestamptzIsNoChangeInAnotherTimeZone() throws Exception {
        useDatabase("duckdb");
        Databases.execute(db, "CREATE TABLE zoned (id BIGINT PRIMARY KEY, tz TIMESTAMPTZ)",
                "INSERT INTO zoned SELECT i, TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL 1 HOUR FROM range(1, 51) t(i)");
        Path conn = connection("zoned", "zoned", "id", Map.of("tz", "tz"), "mirror", "");
        // One connection held open keeps the database instance, and its global settings, alive.
        try (Connection holder = db.open(); Statement st = holder.createStatement()) {
            st.execute("SET GLOBAL TimeZone = 'UTC'");
            sync(conn, "FULL");
            assertEquals(50, received().size());
            st.execute("SET GLOBAL TimeZone = 'America/New_York'");
            JsonNode run = sync(conn, "DIFF");
            List<Ev> events = received();
            assertEquals(0, run.get("read").asLong(), "the same instants in another zone: " + events.size() + " events, first "
                    + (events.isEmpty() ? "" : events.get(0)));
        }
    }

    // ------------------------------------------------------------------ keys: deleted, re-inserted, duplicated

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "duckdb", "mariadb, ledger in postgres"})
    void mirrorDeletesReinsertsAndDuplicates(String database) throws Exception {
        useDatabase(database);
        Databases.execute(db, "CREATE TABLE people (id BIGINT, name VARCHAR(40))");
        for (long i = 1; i <= 10; i++) {
            exec("INSERT INTO people VALUES (?, ?)", i, "p" + i);
        }
        Path conn = connection("people", "people", "id", Map.of("name", "name"), "mirror", "");
        sync(conn, "FULL");
        assertEquals(10, actions(received()).size());

        Databases.execute(db,
                "DELETE FROM people WHERE id IN (1, 2, 3)",
                "INSERT INTO people VALUES (1, 'p1')",        // deleted and back as it was: nothing
                "INSERT INTO people VALUES (2, 'p2 again')",  // deleted and back changed: an update
                "INSERT INTO people VALUES (5, 'p5 twin')",   // a duplicate of a delivered key: invalid, nothing sent
                "INSERT INTO people VALUES (6, 'p6 twin')",   // a duplicate whose rows are both deleted next time
                "INSERT INTO people VALUES (11, 'a'), (11, 'b')"); // a new key, duplicated from the start
        JsonNode second = sync(conn, "DIFF");
        assertEquals(Map.of(id(2), "update", id(3), "delete"), actions(received()));
        assertEquals(3, second.get("invalid").asLong(), second.toString());

        Databases.execute(db, "DELETE FROM people WHERE name = 'p5 twin'", "DELETE FROM people WHERE id = 6", "DELETE FROM people WHERE name = 'b'");
        JsonNode third = sync(conn, "DIFF");
        Map<String, String> got = actions(received());
        // Key 5 is unique again with the values the destination has: resending it is allowed, not required.
        got.remove(id(5), "update");
        assertEquals(Map.of(id(6), "delete", id(11), "insert"), got, third.toString());
        assertNothingMoreToSend(conn);
    }

    @Test
    void compositeKeysWithNullPartsAndTextKeysDifferingByCaseAndSpaces() throws Exception {
        useDatabase("postgres");
        Databases.execute(db, "CREATE TABLE comp (k1 TEXT, k2 TEXT, v TEXT)",
                "INSERT INTO comp VALUES ('a', 'x', '1'), ('A', 'x', '2'), ('a ', 'x', '3'), ('a', NULL, '4'), (NULL, 'x', '5'), ('', 'x', '6'),"
                        + " ('a', '', '7'), ('a,x', '', '8'), ('a', ',x', '9')");
        Path conn = connection("comp", "comp", "[k1, k2]", Map.of("v", "v"), "mirror", "");
        JsonNode first = sync(conn, "FULL");
        assertEquals(2, first.get("invalid").asLong(), "two keys with a NULL part");
        Map<String, String> got = actions(received());
        assertEquals(7, got.size(), got.toString());
        Databases.execute(db, "UPDATE comp SET v = 'changed' WHERE k1 = 'A'", "DELETE FROM comp WHERE k1 = 'a ' OR (k1 = 'a' AND k2 = ',x')",
                "UPDATE comp SET k2 = 'y' WHERE k1 = 'a' AND k2 IS NULL");
        sync(conn, "DIFF");
        assertEquals(Map.of("{\"k1\":\"A\",\"k2\":\"x\"}", "update", "{\"k1\":\"a \",\"k2\":\"x\"}", "delete",
                "{\"k1\":\"a\",\"k2\":\",x\"}", "delete", "{\"k1\":\"a\",\"k2\":\"y\"}", "insert"), actions(received()));
        JsonNode third = BackflowCli.history(conn).get(0);
        assertEquals(1, third.get("invalid").asLong(), "the NULL key left");
        JsonNode again = sync(conn, "DIFF");
        assertEquals(List.of(), received());
        assertEquals(1, again.get("read").asLong(), "only the null key, counted invalid again");
    }

    /** UUID keys (text in MariaDB): a rejected row is recorded by its key, sent again, and its delete goes out. */
    @ParameterizedTest
    @ValueSource(strings = {"postgres", "duckdb", "postgres, ledger in duckdb", "mariadb, ledger in postgres"})
    void uuidKeysWithARejectedRowAndADelete(String database) throws Exception {
        useDatabase(database);
        String type = maria() ? "CHAR(36)" : "UUID";
        Databases.execute(db, "CREATE TABLE u (id " + type + ", v VARCHAR(20))");
        String rejected = "0000000a-0000-0000-0000-000000000001";
        for (int i = 1; i <= 30; i++) {
            exec("INSERT INTO u VALUES (" + (maria() ? "?" : "CAST(? AS UUID)") + ", ?)", String.format("%08x-0000-0000-0000-000000000001", i), "v" + i);
        }
        receiver.respond(req -> req.events().stream().anyMatch(e -> e.get("identifiers").get("id").asText().equals(rejected))
                ? HttpReceiver.Response.status(422).body("{\"error\":\"no\"}") : HttpReceiver.Response.ok());
        Path conn = connection("u", "u", "id", Map.of("v", "v"), "mirror", "");
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(4, r.exitCode(), r.toString());
        reconciles(conn);
        JsonNode first = BackflowCli.history(conn).get(0);
        assertEquals(1, first.get("failed").asLong(), first.toString());
        assertEquals(29, actions(received()).size());
        receiver.respond(req -> HttpReceiver.Response.ok());
        sync(conn, "DIFF");
        assertEquals(Map.of("{\"id\":\"" + rejected + "\"}", "insert"), actions(received()));
        exec("DELETE FROM u WHERE v IN ('v10', 'v11')");
        sync(conn, "DIFF");
        assertEquals(Map.of("{\"id\":\"" + rejected + "\"}", "delete", "{\"id\":\"0000000b-0000-0000-0000-000000000001\"}", "delete"),
                actions(received()));
        assertNothingMoreToSend(conn);
    }

    /** MariaDB compares 'a' and 'A' (and 'a ') as one key; the ledger does not. */
    @ParameterizedTest
    @ValueSource(strings = {"mariadb, ledger in postgres", "mariadb, ledger in duckdb"})
    void mariaDbCaseInsensitiveKeys(String database) throws Exception {
        useDatabase(database);
        Databases.execute(db, "CREATE TABLE ci (code VARCHAR(20) PRIMARY KEY, v VARCHAR(20)) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
                "INSERT INTO ci VALUES ('abc', '1'), ('x', '2')");
        Path conn = connection("ci", "ci", "code", Map.of("v", "v"), "mirror", "");
        sync(conn, "FULL");
        assertEquals(Map.of("{\"code\":\"abc\"}", "insert", "{\"code\":\"x\"}", "insert"), actions(received()));
        // The same key in MariaDB's eyes, respelled: the destination must end with one record, 'ABC'.
        Databases.execute(db, "UPDATE ci SET code = 'ABC' WHERE code = 'abc'");
        sync(conn, "DIFF");
        List<Ev> events = received();
        assertEquals(Map.of("{\"code\":\"abc\"}", "delete", "{\"code\":\"ABC\"}", "insert"), actions(events));
        assertNothingMoreToSend(conn);
    }

    /**
     * The destination refused a new row (or its answer was lost, and it holds the row after all),
     * and the row is deleted before the next sync: mirror mode must send the delete. Kept out of
     * the snapshot, the key was forgotten, and the destination kept the row for good, even after
     * {@code --full-resync}.
     */
    @ParameterizedTest
    @ValueSource(strings = {"postgres", "duckdb", "postgres, ledger in duckdb"})
    void aRefusedInsertDeletedBeforeTheNextSyncIsDeleted(String database) throws Exception {
        useDatabase(database);
        Databases.execute(db, "CREATE TABLE ri (id BIGINT PRIMARY KEY, v VARCHAR(20))");
        for (long i = 1; i <= 6; i++) {
            exec("INSERT INTO ri VALUES (?, ?)", i, "v" + i);
        }
        receiver.respond(req -> req.events().stream().anyMatch(e -> e.get("identifiers").get("id").asLong() >= 5)
                ? HttpReceiver.Response.status(422).body("{\"error\":\"no\"}") : HttpReceiver.Response.ok());
        Path conn = connection("ri", "ri", "id", Map.of("v", "v"), "mirror", "");
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(4, r.exitCode(), r.toString());
        reconciles(conn);
        assertEquals(2, BackflowCli.history(conn).get(0).get("failed").asLong());
        assertEquals(4, actions(received()).size());
        receiver.respond(req -> HttpReceiver.Response.ok());
        exec("DELETE FROM ri WHERE id = 5");
        sync(conn, "DIFF");
        // 6 was refused and is still there: an insert again; 5 was refused and went: a delete.
        assertEquals(Map.of(id(5), "delete", id(6), "insert"), actions(received()));
        assertNothingMoreToSend(conn);
    }

    /**
     * A unique index that does not hold (a failed {@code CREATE UNIQUE INDEX CONCURRENTLY} leaves it
     * invalid) or that covers another column ("ID" beside id) says nothing of the key's rows: two
     * rows of one key are counted invalid, not both sent, and not sent again at every sync.
     */
    @Test
    void duplicateKeysBehindAnIndexThatDoesNotCoverThemAreInvalid() throws Exception {
        useDatabase("postgres");
        Databases.execute(db, "CREATE TABLE dup (id INT, \"ID\" INT UNIQUE, v TEXT)",
                "INSERT INTO dup VALUES (1, 10, 'a'), (1, 11, 'b'), (2, 12, 'c')",
                "CREATE TABLE dup2 (id INT, v TEXT)",
                "INSERT INTO dup2 VALUES (1, 'a'), (1, 'b'), (2, 'c')");
        try (Connection c = db.open(); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            st.execute("CREATE UNIQUE INDEX CONCURRENTLY dup2_id ON dup2 (id)");
            throw new AssertionError("the index should have failed on the duplicate");
        } catch (SQLException expected) {
            // It stays behind, invalid.
        }
        // "Dup3" has no key; dup3, another table, has one on the same column name. A key named n
        // (the name the duplicate search once gave its count) too.
        Databases.execute(db, "CREATE TABLE \"Dup3\" (id INT, v TEXT)", "INSERT INTO \"Dup3\" VALUES (1, 'a'), (1, 'b'), (2, 'c')",
                "CREATE TABLE dup3 (id INT PRIMARY KEY, v TEXT)", "INSERT INTO dup3 VALUES (1, 'a')",
                "CREATE TABLE dupn (n INT, v TEXT)", "INSERT INTO dupn VALUES (1, 'a'), (1, 'b'), (2, 'c')");
        for (String table : List.of("dup", "dup2", "Dup3", "dupn")) {
            String key = table.equals("dupn") ? "n" : "id";
            Path conn = connection(table.toLowerCase() + "_c", table, key, Map.of("v", "v"), "mirror", "");
            JsonNode first = sync(conn, "FULL");
            assertEquals(Map.of("{\"" + key + "\":2}", "insert"), actions(received()), table);
            assertEquals(1, first.get("invalid").asLong(), table + ": the duplicated key, once: " + first);
            JsonNode again = sync(conn, "DIFF");
            assertEquals(List.of(), received(), table);
            assertEquals(1, again.get("invalid").asLong(), table + ": " + again);
        }
    }

    /**
     * DuckDB's nested values whose VARCHAR text is the same: ['a, b'] and ['a', 'b'], {'k': NULL}
     * and {'k': 'NULL'}, [NULL] and ['NULL'], maps likewise. Each update is a change. The struct
     * and map columns are named s and m, as the diff's SQL once named its tables: DuckDB read
     * {@code s.id} as a field of the struct and the diff failed.
     */
    @Test
    void duckDbNestedValuesThatPrintAlikeAreChanges() throws Exception {
        useDatabase("duckdb");
        Databases.execute(db, "CREATE TABLE nested (id BIGINT, l VARCHAR[], s STRUCT(k VARCHAR, n INTEGER), m MAP(VARCHAR, VARCHAR))",
                "INSERT INTO nested VALUES (1, ['a', 'b'], {'k': NULL, 'n': 1}, MAP {'x': NULL}), (2, [NULL], {'k': 'v', 'n': 2}, MAP {'y': '1'}),"
                        + " (3, ['q'], {'k': 'w', 'n': 3}, MAP {'z': '2'})");
        Path conn = connection("nested", "nested", "id", Map.of("l", "l", "s", "s", "m", "m"), "mirror", "");
        sync(conn, "FULL");
        Map<Long, JsonNode> sent = new TreeMap<>();
        for (Ev e : received()) {
            sent.put(JSON.readTree(e.key()).get("id").asLong(), e.fields());
        }
        assertEquals("[\"a\",\"b\"]", sent.get(1L).get("l").asText(), "a list goes as its JSON: " + sent);
        assertEquals("{\"k\":null,\"n\":1}", sent.get(1L).get("s").asText(), "a struct goes as its JSON: " + sent);
        assertEquals("{\"x\":null}", sent.get(1L).get("m").asText(), "a map goes as its JSON: " + sent);
        Databases.execute(db, "UPDATE nested SET l = ['a, b'], s = {'k': 'NULL', 'n': 1}, m = MAP {'x': 'NULL'} WHERE id = 1",
                "UPDATE nested SET l = ['NULL'] WHERE id = 2",
                "UPDATE nested SET l = l, s = s, m = m WHERE id = 3");
        sync(conn, "DIFF");
        assertEquals(Map.of(id(1), "update", id(2), "update"), actions(received()));
        assertNothingMoreToSend(conn);
    }

    // ------------------------------------------------------------------ key type change

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "duckdb"})
    void aKeyTypeChangeInMirrorModeStillDeletesTheRowsThatWent(String database) throws Exception {
        useDatabase(database);
        Databases.execute(db, "CREATE TABLE kt (id INTEGER, v VARCHAR)", "INSERT INTO kt SELECT i, 'v' || i FROM generate_series(1, 20) t(i)");
        Path conn = connection("kt", "kt", "id", Map.of("v", "v"), "mirror", "");
        sync(conn, "FULL");
        assertEquals(20, received().size());
        Databases.execute(db, "ALTER TABLE kt ALTER COLUMN id TYPE BIGINT", "DELETE FROM kt WHERE id <= 3");
        sync(conn, "FULL");
        Map<String, String> got = actions(received());
        for (long i = 1; i <= 3; i++) {
            assertEquals("delete", got.get(id(i)), "row " + i + " went; the destination must lose it too: " + got);
        }
        assertNothingMoreToSend(conn);
    }

    // ------------------------------------------------------------------ stops, crashes, abandoned runs

    private void insertPeople(int from, int to) {
        Databases.execute(db, "INSERT INTO people SELECT i, 'p' || i FROM generate_series(" + from + ", " + to + ") i");
    }

    private Map<Long, String> peopleTable() {
        Map<Long, String> out = new TreeMap<>();
        try (Connection c = db.open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id, name FROM people")) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getString(2));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** Applies events to a destination's state (id to name). */
    private static void apply(Map<Long, String> state, List<Ev> events) throws Exception {
        for (Ev e : events) {
            long id = JSON.readTree(e.key()).get("id").asLong();
            if (e.action().equals("delete")) {
                state.remove(id);
            } else {
                state.put(id, e.fields().get("name").asText());
            }
        }
    }

    /** Starts a sync and stops it with a savepoint once {@code delivered} more events arrived; returns the ids delivered so far. */
    private void syncAndStopAfter(Path conn, int delivered) throws Exception {
        int target = receiver.deliveredEvents().size() + delivered;
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
        assertTrue(receiver.awaitDelivered(target, Duration.ofSeconds(90)), "delivered " + receiver.deliveredEvents().size());
        BackflowCli.Result stop = BackflowCli.run("stop", "--connection", conn.toString());
        assertEquals(0, stop.exitCode(), stop.toString());
        BackflowCli.Result r = sync.get(2, TimeUnit.MINUTES);
        assertEquals(3, r.exitCode(), "stopped: " + r);
    }

    @ParameterizedTest
    @ValueSource(strings = {"with savepoint", "without savepoint"})
    void aStoppedDiffRunResumedAfterDeletesAndUpdatesLosesNothing(String how) throws Exception {
        useDatabase("postgres");
        receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(50)));
        Databases.execute(db, "CREATE TABLE people (id BIGINT, name TEXT)");
        insertPeople(1, 1500);
        Path conn = connection("people", "people", "id", Map.of("name", "name"), "mirror", "");
        Map<Long, String> state = new TreeMap<>();
        sync(conn, "FULL");
        apply(state, received());
        Databases.execute(db, "UPDATE people SET name = name || '.1'");
        syncAndStopAfter(conn, 300);
        List<Ev> before = received();
        apply(state, before);
        if (how.equals("without savepoint")) {
            BackflowCli.deleteTree(dir.resolve("savepoints"));
        }
        // While stopped: delete rows already sent and rows not yet sent, update others, re-insert one deleted.
        TreeSet<Long> sent = new TreeSet<>();
        for (Ev e : before) {
            sent.add(JSON.readTree(e.key()).get("id").asLong());
        }
        long sentOne = sent.first();
        long unsentOne = 1500;
        while (sent.contains(unsentOne)) {
            unsentOne--;
        }
        Databases.execute(db, "DELETE FROM people WHERE id IN (" + sentOne + ", " + unsentOne + ", 700, 701)",
                "UPDATE people SET name = name || '.2' WHERE id IN (" + sent.last() + ", 702)",
                "INSERT INTO people VALUES (701, 'p701.1')", "INSERT INTO people VALUES (5000, 'new')");
        BackflowCli.Result resumed = BackflowCli.sync(conn);
        assertEquals(0, resumed.exitCode(), resumed.toString());
        assertTrue(resumed.out().contains("resumes"), resumed.out());
        apply(state, received());
        sync(conn, "DIFF");
        List<Ev> after = received();
        apply(state, after);
        assertEquals(peopleTable(), state, "the destination equals the table after the stop and the next sync");
        assertNothingMoreToSend(conn);
    }

    /** A sync killed (no savepoint, no report) mid-delta: the next sync resumes it; nothing lost, nothing left. */
    @Test
    void aDiffRunKilledMidDeltaIsResumedAndLosesNothing() throws Exception {
        useDatabase("postgres");
        receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(50)));
        Databases.execute(db, "CREATE TABLE people (id BIGINT, name TEXT)");
        insertPeople(1, 1500);
        Path conn = connection("people", "people", "id", Map.of("name", "name"), "mirror", "");
        Map<Long, String> state = new TreeMap<>();
        sync(conn, "FULL");
        apply(state, received());
        Databases.execute(db, "UPDATE people SET name = name || '.1'", "DELETE FROM people WHERE id % 10 = 0");
        int target = receiver.deliveredEvents().size() + 300;
        Process sync = new ProcessBuilder(BackflowCli.processCommand("sync", "--connection", conn.toString())).redirectErrorStream(true)
                .redirectOutput(dir.resolve("killed.log").toFile()).start();
        try {
            assertTrue(receiver.awaitDelivered(target, Duration.ofSeconds(120)), "delivered " + receiver.deliveredEvents().size());
        } finally {
            sync.destroyForcibly();
            sync.waitFor(30, TimeUnit.SECONDS);
        }
        apply(state, received());
        Databases.execute(db, "DELETE FROM people WHERE id IN (1, 2, 1499)", "UPDATE people SET name = 'late' WHERE id = 3");
        BackflowCli.Result resumed = BackflowCli.sync(conn);
        assertEquals(0, resumed.exitCode(), resumed.toString());
        assertTrue(resumed.out().contains("resumes"), resumed.out());
        apply(state, received());
        sync(conn, "DIFF");
        apply(state, received());
        assertEquals(peopleTable(), state, "the destination equals the table");
        assertNothingMoreToSend(conn);
    }

    /**
     * A stopped diff run that is not resumed (a full resync, or a mapping change) had delivered
     * inserts the snapshot never took. Rows deleted since must still be deleted at the destination.
     */
    @ParameterizedTest
    @ValueSource(strings = {"--full-resync", "mapping change"})
    void rowsAStoppedRunInsertedAreDeletedAfterTheRunIsAbandoned(String how) throws Exception {
        useDatabase("postgres");
        receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(50)));
        Databases.execute(db, "CREATE TABLE people (id BIGINT, name TEXT, nick TEXT)");
        Databases.execute(db, "INSERT INTO people SELECT i, 'p' || i, 'n' FROM generate_series(1, 1500) i");
        Path conn = connection("people", "people", "id", Map.of("name", "name"), "mirror", "");
        syncAndStopAfter(conn, 300);
        List<Ev> sentBeforeStop = received();
        Map<Long, String> state = new TreeMap<>();
        apply(state, sentBeforeStop);
        List<Long> sent = new ArrayList<>(state.keySet());
        List<Long> gone = sent.subList(0, 5);
        Databases.execute(db, "DELETE FROM people WHERE id IN (" + String.join(", ", gone.stream().map(String::valueOf).toList()) + ")");
        if (how.equals("--full-resync")) {
            BackflowCli.Result r = BackflowCli.sync(conn, "--full-resync");
            assertEquals(0, r.exitCode(), r.toString());
        } else {
            Path changed = BackflowCli.write(dir, "people", Files.readString(conn).replace("    name: '{{ name }}'",
                    "    name: '{{ name }}'\n    nick: '{{ nick }}'"));
            BackflowCli.Result r = BackflowCli.sync(changed);
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.out().contains("instead of resuming"), r.out());
        }
        List<Ev> events = received();
        apply(state, events);
        Map<String, String> actions = new TreeMap<>();
        events.forEach(e -> actions.put(e.key(), e.action()));
        for (long id : gone) {
            assertEquals("delete", actions.get(id(id)), "row " + id + " was delivered by the stopped run and deleted since");
        }
        assertEquals(peopleTable(), state, "the destination equals the table");
        assertNothingMoreToSend(conn);
    }
}
