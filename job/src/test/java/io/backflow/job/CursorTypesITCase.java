package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Path;
import java.util.Map;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cursor columns of types nobody designed the code for: single-precision floats, wide decimals,
 * integers near Long.MAX_VALUE, microsecond timestamps in a JVM whose zone has DST, timestamptz at
 * a DST fold, DuckDB's second- and nanosecond-resolution timestamps, 39-digit HUGEINTs, text. Each case has rows at
 * the mark spanning several keyset pages, rows added at the mark later with keys below and above,
 * a change made without moving the cursor, and a new mark with ties spanning pages. Every row
 * version must arrive exactly once, and every run must reconcile.
 */
class CursorTypesITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;
    JdbcEndpoint ledger;
    TimeZone zoneBefore;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
        zoneBefore = TimeZone.getDefault();
    }

    @AfterEach
    void stop() {
        receiver.close();
        TimeZone.setDefault(zoneBefore);
    }

    static Stream<Arguments> cursors() {
        return Stream.of(
                // float4: 0.7f < 0.7 and 0.9f < 0.9 as doubles; 0.1f > 0.1
                Arguments.of("postgresql", "REAL", "UTC", "0.25", "0.7", "0.9"),
                Arguments.of("postgresql", "REAL", "UTC", "0.05", "0.1", "0.3"),
                Arguments.of("mariadb", "FLOAT", "UTC", "0.25", "0.7", "0.9"),
                Arguments.of("duckdb", "FLOAT", "UTC", "0.25", "0.7", "0.9"),
                Arguments.of("postgresql", "DOUBLE PRECISION", "UTC", "0.1", "0.30000000000000004", "0.7"),
                Arguments.of("postgresql", "NUMERIC(20,6)", "UTC", "1.5", "12345678901234.123456", "12345678901234.123457"),
                Arguments.of("mariadb", "DECIMAL(20,6)", "UTC", "1.5", "12345678901234.123456", "12345678901234.123457"),
                Arguments.of("postgresql", "BIGINT", "UTC", "9223372036854775805", "9223372036854775806", "9223372036854775807"),
                Arguments.of("postgresql", "TIMESTAMP(6)", "America/New_York", "2024-03-10 02:29:59.999999", "2024-03-10 02:30:00.000001",
                        "2024-03-10 02:30:00.000002"),
                Arguments.of("postgresql", "TIMESTAMP WITH TIME ZONE", "America/New_York", "2024-11-03 01:30:00.000001-04",
                        "2024-11-03 01:30:00.000001-05", "2024-11-03 01:30:00.000002-05"),
                Arguments.of("postgresql", "TIMESTAMP(6)", "Asia/Kolkata", "2024-01-01 00:00:00", "2024-01-01 00:00:00.000001",
                        "2024-01-01 05:30:00.000001"),
                Arguments.of("mariadb", "DATETIME(6)", "America/New_York", "2024-03-10 02:29:59.999999", "2024-03-10 02:30:00.000001",
                        "2024-03-10 02:30:00.000002"),
                Arguments.of("duckdb", "TIMESTAMP", "America/New_York", "2024-03-10 02:29:59.999999", "2024-03-10 02:30:00.000001",
                        "2024-03-10 02:30:00.000002"),
                Arguments.of("duckdb", "TIMESTAMPTZ", "America/New_York", "2024-11-03 01:30:00.000001-04", "2024-11-03 01:30:00.000001-05",
                        "2024-11-03 01:30:00.000002-05"),
                Arguments.of("duckdb", "TIMESTAMP_S", "UTC", "2024-01-01 00:00:01", "2024-01-01 00:00:02", "2024-01-01 00:00:03"),
                Arguments.of("duckdb", "TIMESTAMP_NS", "UTC", "2024-01-01 00:00:00.000000001", "2024-01-01 00:00:00.000000002",
                        "2024-01-01 00:00:00.000000003"),
                Arguments.of("duckdb", "UBIGINT", "UTC", "18446744073709551613", "18446744073709551614", "18446744073709551615"),
                // 39 digits: the driver bound a DECIMAL of more than 38 digits as NULL, and the sync read nothing.
                Arguments.of("duckdb", "HUGEINT", "UTC", "100000000000000000000000000000000000000", "170141183460469231731687303715884105000",
                        "170141183460469231731687303715884105727"),
                Arguments.of("postgresql", "DATE", "Asia/Kolkata", "2024-01-01", "2024-01-02", "2024-01-03"),
                Arguments.of("postgresql", "TEXT", "UTC", "v-1", "v-2", "v-3"));
    }

    private void open(String database) {
        switch (database) {
            case "postgresql":
                db = Databases.newPostgresDatabase("cursor_types");
                break;
            case "mariadb":
                db = Databases.newMariaDbDatabase("cursor_types");
                ledger = Databases.newPostgresDatabase("cursor_types_ledger");
                break;
            default:
                db = Databases.duckDb(dir, "cursor_types");
        }
    }

    private Path connection() {
        return BackflowCli.write(dir, "cursor_types", String.join("\n",
                "source:",
                "  url: " + db.url(),
                db.user() == null ? "" : "  user: " + db.user(),
                "  table: t",
                "  primary_key: id",
                "  cursor: c",
                "  page_size: 4",
                "  fetch_size: 3",
                "mapping:",
                "  event_type: track",
                "  event: Row Changed",
                "  user_id: user_id",
                "  properties: {n: '{{ n }}'}",
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 5",
                ledger == null ? "" : "state:\n  url: " + ledger.url() + "\n  user: " + ledger.user(),
                "sync:",
                "  checkpoint_interval: 200ms",
                ""));
    }

    private void insert(long from, long to, String cursor) {
        StringBuilder values = new StringBuilder();
        for (long id = from; id <= to; id++) {
            values.append(values.length() == 0 ? "" : ", ").append("(").append(id).append(", 'u").append(id).append("', 1, '").append(cursor).append("')");
        }
        Databases.execute(db, "INSERT INTO t VALUES " + values);
    }

    private Map<Long, Integer> sync(Path conn, String type) {
        receiver.reset();
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(0, r.exitCode(), r.toString());
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals("SUCCEEDED", run.get("status").asText(), run.toString());
        assertEquals(type, run.get("type").asText(), run.toString());
        assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong(), run.toString());
        Map<Long, Integer> counts = new TreeMap<>();
        for (JsonNode e : receiver.deliveredEvents()) {
            counts.merge(e.get("context").get("backflow").get("primary_key").get("id").asLong(), 1, Integer::sum);
        }
        return counts;
    }

    private static Map<Long, Integer> once(long from, long to, long... more) {
        Map<Long, Integer> out = new TreeMap<>();
        for (long id = from; id <= to; id++) {
            out.put(id, 1);
        }
        for (long id : more) {
            out.put(id, 1);
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} in {2}")
    @MethodSource("cursors")
    void everyRowAtEveryMarkArrivesOnce(String database, String type, String zone, String before, String mark, String next) {
        TimeZone.setDefault(TimeZone.getTimeZone(zone));
        open(database);
        Databases.execute(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, user_id VARCHAR(20), n INTEGER, c " + type + ")");
        insert(1, 10, before);
        // 15 rows at what becomes the mark: four pages of 4.
        insert(11, 25, mark);
        Path conn = connection();
        assertEquals(once(1, 25), sync(conn, "FULL"), "FULL");

        // New rows at the mark, keys below and above; a change that keeps the cursor.
        insert(-5, -5, mark);
        insert(100, 100, mark);
        Databases.execute(db, "UPDATE t SET n = 2 WHERE id = 18");
        assertEquals(once(1, 0, -5, 18, 100), sync(conn, "INCREMENTAL"), "rows added or changed at the mark " + mark);

        // A new mark with 11 ties spanning pages.
        insert(200, 210, next);
        assertEquals(once(200, 210), sync(conn, "INCREMENTAL"), "ties at the new mark " + next);
        assertEquals(Map.of(), sync(conn, "INCREMENTAL"), "nothing new");
    }

    /**
     * A row that goes from A to B and back to A: the change back must not carry A's messageId, or a
     * destination that drops repeated ids (Segment, Mixpanel's $insert_id) keeps B.
     */
    @org.junit.jupiter.api.Test
    void aRowChangedBackToWhatItWasGetsANewMessageId() {
        open("duckdb");
        Databases.execute(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, user_id VARCHAR(20), n INTEGER, c TIMESTAMP)",
                "INSERT INTO t VALUES (1, 'u1', 1, '2024-01-01 10:00:00')");
        Path conn = connection();
        java.util.List<String> ids = new java.util.ArrayList<>();
        assertEquals(once(1, 1), sync(conn, "FULL"));
        ids.add(receiver.deliveredEvents().get(0).get("messageId").asText());
        Databases.execute(db, "UPDATE t SET n = 2, c = '2024-01-01 11:00:00'");
        assertEquals(once(1, 1), sync(conn, "INCREMENTAL"));
        ids.add(receiver.deliveredEvents().get(0).get("messageId").asText());
        Databases.execute(db, "UPDATE t SET n = 1, c = '2024-01-01 12:00:00'");
        assertEquals(once(1, 1), sync(conn, "INCREMENTAL"));
        ids.add(receiver.deliveredEvents().get(0).get("messageId").asText());
        assertEquals(3, new java.util.HashSet<>(ids).size(), "A, B and A again are three versions: " + ids);
    }
}
