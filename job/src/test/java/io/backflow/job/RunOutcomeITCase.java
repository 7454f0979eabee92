package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * A run's status and exit code tell the truth a scheduler acts on: a run the destination took
 * nothing of is FAILED (exit 1), a run where some rows failed is PARTIAL (exit 4), and in both the
 * failed rows stay owed and the next sync delivers them.
 */
class RunOutcomeITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;
    Path conn;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
        db = Databases.newPostgresDatabase("outcome");
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, CASE WHEN i % 25 = 0 THEN 'refused' ELSE 'u' || i END, i, TIMESTAMP '2024-01-01' + i * INTERVAL '1 minute'"
                        + " FROM generate_series(1, 100) i");
        conn = BackflowCli.write(dir, "orders", String.join("\n",
                BackflowCli.ordersSource(db),
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 10",
                "  retry: {max_attempts: 2, initial_backoff: 10ms, max_backoff: 20ms, max_duration: 2s}",
                "sync:",
                "  checkpoint_interval: 200ms",
                ""));
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private JsonNode lastRun() {
        return BackflowCli.history(conn).get(0);
    }

    @Test
    void aRunTheDestinationTookNothingOfIsFailedAndItsRowsAreDeliveredByTheNextSync() {
        receiver.respond(req -> HttpReceiver.Response.status(500));
        BackflowCli.Result down = BackflowCli.sync(conn);
        assertEquals(1, down.exitCode(), down.toString());
        JsonNode run = lastRun();
        assertEquals("FAILED", run.get("status").asText(), run.toString());
        assertEquals(100, run.get("failed").asLong());
        assertEquals(0, run.get("succeeded").asLong());
        assertEquals("first sync of this connection", run.get("reason").asText());
        assertTrue(run.get("outcome").asText().startsWith("the destination took none of the 100 row(s) it was sent; they are retried by the next sync"),
                run.toString());
        assertTrue(run.get("outcome").asText().contains("HTTP 500"), run.toString());
        assertTrue(down.out().contains("FAILED"), down.out());

        receiver.reset();
        BackflowCli.Result back = BackflowCli.sync(conn);
        assertEquals(0, back.exitCode(), back.toString());
        JsonNode retried = lastRun();
        assertEquals("INCREMENTAL", retried.get("type").asText(), "a FAILED run that read everything is not resumed");
        assertEquals("SUCCEEDED", retried.get("status").asText());
        assertEquals(100, retried.get("succeeded").asLong(), retried.toString());
        assertEquals(100, receiver.deliveredEvents().size());
    }

    @Test
    void aRunWhereSomeRowsFailedIsPartialWithItsOwnExitCode() {
        receiver.respond(req -> req.events().stream().anyMatch(e -> "refused".equals(e.get("userId").asText()))
                ? HttpReceiver.Response.status(422).body("{\"error\":\"user refused\"}") : HttpReceiver.Response.ok());
        BackflowCli.Result partial = BackflowCli.sync(conn);
        assertEquals(4, partial.exitCode(), partial.toString());
        JsonNode run = lastRun();
        assertEquals("PARTIAL", run.get("status").asText(), run.toString());
        assertEquals(96, run.get("succeeded").asLong());
        assertEquals(4, run.get("failed").asLong());
        assertTrue(run.get("outcome").asText().startsWith("4 row(s) failed at the destination; they are retried by the next sync"), run.toString());
        assertTrue(run.get("outcome").asText().contains("422"), run.toString());

        // Still refused: the next sync retries exactly those 4, and is FAILED (nothing it sent was taken).
        receiver.reset();
        receiver.respond(req -> HttpReceiver.Response.status(422).body("{\"error\":\"user refused\"}"));
        assertEquals(1, BackflowCli.sync(conn).exitCode());
        assertEquals(4, lastRun().get("failed").asLong(), lastRun().toString());

        receiver.reset();
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        assertEquals(4, lastRun().get("succeeded").asLong(), lastRun().toString());
        assertEquals(4, receiver.deliveredEvents().size());
    }

    @Test
    void aDeadDestinationSpendsTheRetryBudgetOncePerRunNotOncePerBatchAndTheNextSyncContinues() {
        Databases.execute(db, "INSERT INTO orders SELECT i, 'u' || i, i, TIMESTAMP '2024-01-01' + i * INTERVAL '1 minute' FROM generate_series(101, 200) i");
        Path dead = BackflowCli.write(dir, "orders", String.join("\n",
                BackflowCli.ordersSource(db),
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 10",
                "  max_in_flight: 1",
                "  retry: {max_attempts: 1000, initial_backoff: 50ms, max_backoff: 200ms, max_duration: 3s}",
                "sync:",
                "  checkpoint_interval: 200ms",
                ""));
        receiver.respond(req -> HttpReceiver.Response.status(503));
        BackflowCli.Result down = BackflowCli.sync(dead);
        assertEquals(1, down.exitCode(), down.toString());
        JsonNode run = lastRun();
        assertEquals("FAILED", run.get("status").asText(), run.toString());
        assertTrue(run.get("outcome").asText().contains("kept failing for"), run.toString());
        assertTrue(run.get("outcome").asText().contains("retry.max_duration PT3S"), run.toString());
        // Only the first batch was ever tried: the other 19 were not each given 3 s of their own.
        java.util.Set<String> tried = new java.util.HashSet<>();
        receiver.requests().forEach(r -> tried.addAll(r.messageIds()));
        assertTrue(tried.size() <= 20, tried.size() + " distinct events tried");

        receiver.reset();
        BackflowCli.Result back = BackflowCli.sync(dead);
        assertEquals(0, back.exitCode(), back.toString());
        assertTrue(back.out().contains("resumes failed run"), back.out());
        assertEquals(200, receiver.deliveredEvents().size());
    }
}
