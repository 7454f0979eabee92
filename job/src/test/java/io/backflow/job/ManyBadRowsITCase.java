package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
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

/**
 * Tens of thousands of invalid and refused rows in one checkpoint: their errors are staged in the
 * ledger instead of riding in the committable (a sync of 2M invalid rows ran out of its 1 GB heap
 * before), and every outcome still arrives: the counts reconcile, every row error is listed, the
 * refused rows are retried by the next sync, and a diff keeps the invalid rows owed.
 */
class ManyBadRowsITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
        db = Databases.newPostgresDatabase("bad_rows");
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private static final String DESTINATION_AND_ONE_CHECKPOINT = String.join("\n",
            "destination:",
            "  type: webhook",
            "  url: %s",
            "  batch_size: 100",
            "  retry: {max_attempts: 2, initial_backoff: 10ms, max_backoff: 20ms, max_duration: 5s}",
            "sync:",
            // One checkpoint for the whole run: all its errors belong to the end-of-input committables.
            "  checkpoint_interval: 10m",
            "  parallelism: 2",
            "");

    private long ledgerCount(String sql) {
        return Databases.queryLong(db, sql);
    }

    @Test
    void aCursorSyncOfMostlyBadRowsRecordsEveryOutcomeAndRetriesTheRefusedOnes() {
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, CASE WHEN i <= 24000 THEN NULL WHEN i <= 25000 THEN 'refused' ELSE 'u' || i END, i,"
                        + " TIMESTAMP '2024-01-01' + i * INTERVAL '1 second' FROM generate_series(1, 30000) i");
        Path conn = BackflowCli.write(dir, "orders", BackflowCli.ordersSource(db) + "\n"
                + String.format(DESTINATION_AND_ONE_CHECKPOINT, receiver.webhookUrl()));
        receiver.respond(req -> req.events().stream().anyMatch(e -> "refused".equals(e.path("userId").asText()))
                ? HttpReceiver.Response.status(422).body("{\"error\":\"user refused\"}") : HttpReceiver.Response.ok());

        BackflowCli.Result partial = BackflowCli.sync(conn);
        assertEquals(4, partial.exitCode(), partial.toString());
        JsonNode run = BackflowCli.history(conn).get(0);
        String runId = run.get("id").asText();
        assertEquals("PARTIAL", run.get("status").asText(), run.toString());
        assertEquals(30_000, run.get("read").asLong());
        assertEquals(24_000, run.get("invalid").asLong());
        assertEquals(1_000, run.get("failed").asLong());
        assertEquals(5_000, run.get("succeeded").asLong());
        assertEquals(25_000, ledgerCount("SELECT COUNT(*) FROM backflow.row_errors WHERE run_id = '" + runId + "'"));
        assertEquals(1_000, ledgerCount("SELECT COUNT(*) FROM backflow.failed_rows"));
        assertEquals(0, ledgerCount("SELECT COUNT(*) FROM backflow.staged_row_errors"), "the stage is emptied by the commit");

        // The next sync retries exactly the refused rows.
        receiver.reset();
        BackflowCli.Result retried = BackflowCli.sync(conn);
        assertEquals(0, retried.exitCode(), retried.toString());
        assertEquals(1_000, receiver.deliveredEvents().size());
        assertEquals(1_000, receiver.deliveredEvents().stream().filter(e -> "refused".equals(e.path("userId").asText())).count());
        assertEquals(0, ledgerCount("SELECT COUNT(*) FROM backflow.failed_rows"));
    }

    @Test
    void aDiffKeepsTensOfThousandsOfInvalidRowsOwed() {
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2))",
                "INSERT INTO orders SELECT i, CASE WHEN i <= 12000 THEN NULL ELSE 'u' || i END, i FROM generate_series(1, 12100) i");
        // Without a cursor the source is diffed against the last delivered snapshot.
        Path conn = BackflowCli.write(dir, "orders", BackflowCli.ordersSource(db).replace("\n  cursor: updated_at", "") + "\n"
                + String.format(DESTINATION_AND_ONE_CHECKPOINT, receiver.webhookUrl()));

        assertEquals(0, BackflowCli.sync(conn).exitCode());
        JsonNode first = BackflowCli.history(conn).get(0);
        assertEquals(12_100, first.get("read").asLong(), first.toString());
        assertEquals(12_000, first.get("invalid").asLong());
        assertEquals(100, receiver.deliveredEvents().size());

        // Nothing changed, but the invalid rows were never delivered: the next diff reads them again.
        JsonNode second = syncAndLastRun(conn);
        assertEquals(12_000, second.get("read").asLong(), second.toString());
        assertEquals(12_000, second.get("invalid").asLong());

        // Once fixed, exactly they are sent.
        Databases.execute(db, "UPDATE orders SET user_id = 'fixed' || id WHERE user_id IS NULL");
        receiver.reset();
        JsonNode fixed = syncAndLastRun(conn);
        assertEquals(12_000, fixed.get("succeeded").asLong(), fixed.toString());
        assertEquals(12_000, receiver.deliveredEvents().size());
        assertEquals(0, ledgerCount("SELECT COUNT(*) FROM backflow.staged_row_errors"));
    }

    private JsonNode syncAndLastRun(Path conn) {
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(0, r.exitCode(), r.toString());
        return BackflowCli.history(conn).get(0);
    }
}
