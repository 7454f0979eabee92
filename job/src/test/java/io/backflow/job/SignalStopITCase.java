package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C (SIGINT) or a kill (SIGTERM) of a running {@code sync} process stops the sync with a
 * savepoint: the process exits with code 3, the run is CANCELLED with its savepoint, and the next
 * sync resumes it without losing a row. Runs Backflow as its own process, as a user does.
 */
class SignalStopITCase {
    @TempDir Path dir;

    @Test
    void aKilledSyncProcessStopsWithASavepointAndTheNextSyncResumesIt() throws Exception {
        JdbcEndpoint db = Databases.newPostgresDatabase("signal");
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, 'u' || (i % 50), i, TIMESTAMP '2024-01-01' FROM generate_series(1, 3000) i");
        try (HttpReceiver receiver = HttpReceiver.start()) {
            receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(25)));
            Path conn = BackflowCli.write(dir, "orders", String.join("\n",
                    BackflowCli.ordersSource(db),
                    "destination:",
                    "  type: webhook",
                    "  url: " + receiver.webhookUrl(),
                    "  batch_size: 20",
                    "  max_in_flight: 1",
                    "sync:",
                    "  checkpoint_interval: 200ms",
                    "  savepoint_dir: " + dir.resolve("savepoints"),
                    ""));

            List<String> command = BackflowCli.processCommand("sync", "--connection", conn.toString());
            Path log = dir.resolve("sync.log");
            Process sync = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                assertTrue(receiver.awaitDelivered(300, Duration.ofSeconds(120)), "the sync never delivered: " + read(log));
                sync.destroy();
                assertTrue(sync.waitFor(2, TimeUnit.MINUTES), "the sync did not stop: " + read(log));
            } finally {
                sync.destroyForcibly();
            }
            assertEquals(3, sync.exitValue(), read(log));
            assertTrue(read(log).contains("stopping the sync with a savepoint"), read(log));

            JsonNode stopped = BackflowCli.history(conn).get(0);
            assertEquals("CANCELLED", stopped.get("status").asText());
            BackflowCli.Result resumed = BackflowCli.sync(conn);
            assertEquals(0, resumed.exitCode(), resumed.toString());
            assertTrue(resumed.out().contains("from its savepoint"), resumed.out());
            assertNotNull(BackflowCli.history(conn).get(0).get("finished_at").asText(null));
            HashSet<Long> ids = new HashSet<>();
            for (JsonNode e : receiver.deliveredEvents()) {
                ids.add(e.get("context").get("backflow").get("primary_key").get("id").asLong());
            }
            assertEquals(3000, ids.size(), "every row delivered");
            assertEquals(3000, receiver.deliveredEvents().size(), "none twice");
        }
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
