package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Path;
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
 * A model can never write to the warehouse: not by smuggling a second statement into
 * {@code source.sql} (which would end the read-only transaction), and not by calling a
 * data-modifying function, on the cursor path or the diff path, whose delta is built in a
 * read-write transaction.
 */
class ReadOnlyModelITCase {
    private static final String ESCAPE = "SELECT * FROM orders) m; commit; delete from orders where id > 0; select * from (select 1";

    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private void orders(String database) {
        db = database.equals("postgresql") ? Databases.newPostgresDatabase("readonly") : Databases.duckDb(dir, "readonly");
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders VALUES (1, 'a', 1, TIMESTAMP '2024-01-01'), (2, 'b', 2, TIMESTAMP '2024-01-02')");
    }

    private Path connection(String sql, boolean diff) {
        return BackflowCli.write(dir, "orders", String.join("\n",
                "source:",
                "  url: " + db.url(),
                db.user() == null ? "" : "  user: " + db.user(),
                "  sql: \"" + sql + "\"",
                "  primary_key: id",
                diff ? "  change_detection: diff" : "  cursor: updated_at",
                "mapping:",
                "  event_type: track",
                "  event: Order Completed",
                "  user_id: user_id",
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "sync:",
                "  checkpoint_interval: 200ms",
                ""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb"})
    void aSecondStatementInTheModelIsRefusedBeforeAnythingRuns(String database) {
        orders(database);
        for (boolean diff : new boolean[] {false, true}) {
            Path conn = connection(ESCAPE, diff);
            for (String command : new String[] {"preview", "sync"}) {
                BackflowCli.Result r = BackflowCli.run(command, "--connection", conn.toString());
                assertEquals(2, r.exitCode(), r.toString());
                assertTrue(r.err().contains("source.sql: must be one statement: a ';' at line 1 column 24"), r.err());
                assertEquals(2, Databases.queryLong(db, "SELECT COUNT(*) FROM orders"), command + " deleted rows");
            }
        }
        assertEquals(0, receiver.requestCount());
    }

    /** A PostgreSQL function a model can call: it deletes the audit table's rows and returns the orders. */
    private void createDeletingFunction() {
        Databases.execute(db,
                "CREATE TABLE audit (id INT)",
                "INSERT INTO audit VALUES (1), (2), (3)",
                "CREATE FUNCTION orders_and_cleanup() RETURNS SETOF orders AS $$ DELETE FROM audit; SELECT * FROM orders $$ LANGUAGE sql");
    }

    @Test
    void aDiffSyncEvaluatesTheModelReadOnlySoAFunctionThatDeletesRowsFails() {
        orders("postgresql");
        createDeletingFunction();
        Path conn = connection("SELECT * FROM orders_and_cleanup()", true);
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.err().contains("read-only transaction"), r.err());
        assertEquals(3, Databases.queryLong(db, "SELECT COUNT(*) FROM audit"), "the function's DELETE must not have run");
        assertEquals("FAILED", BackflowCli.history(conn).get(0).get("status").asText());
        assertEquals(0, receiver.requestCount());
    }

    @Test
    void aCursorSyncAndPreviewRefuseAFunctionThatDeletesRows() {
        orders("postgresql");
        createDeletingFunction();
        Path conn = connection("SELECT * FROM orders_and_cleanup()", false);
        BackflowCli.Result preview = BackflowCli.run("preview", "--connection", conn.toString());
        assertTrue(preview.exitCode() != 0, preview.toString());
        assertTrue(preview.err().contains("read-only transaction"), preview.err());
        BackflowCli.Result sync = BackflowCli.sync(conn);
        assertTrue(sync.exitCode() != 0, sync.toString());
        assertEquals(3, Databases.queryLong(db, "SELECT COUNT(*) FROM audit"));
        assertEquals(0, receiver.requestCount());
    }

    @Test
    void aDiffSyncOfAnOrdinaryQueryStillWorksThroughTheReadOnlyCopy() {
        orders("postgresql");
        Path conn = connection("SELECT o.*, o.amount * 2 AS doubled FROM orders o WHERE o.id > 0", true);
        BackflowCli.Result first = BackflowCli.sync(conn);
        assertEquals(0, first.exitCode(), first.toString());
        assertEquals(2, receiver.deliveredEvents().size());
        Databases.execute(db, "UPDATE orders SET user_id = 'z' WHERE id = 2");
        receiver.reset();
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        assertEquals(1, receiver.deliveredEvents().size(), "only the changed row");
    }
}
