package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.ledger.Ledger;
import io.backflow.ledger.LedgerStore;
import io.backflow.ledger.SyncRun;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A savepoint written by Backflow 0.1 (state format version 1 of every serializer), kept in
 * {@code src/test/resources/savepoints/v1}, must still restore: a change to a state serializer,
 * an operator uid or the pipeline's shape that breaks old savepoints fails this test.
 *
 * <p>The fixture was written by {@link #writeFixture()}, which runs only with
 * {@code -Dbackflow.fixtures.write=true}; write a new fixture only alongside a new state version,
 * and keep the old one restoring.
 */
class SavepointCompatibilityITCase {
    private static final Path FIXTURE = Path.of("src", "test", "resources", "savepoints", "v1");
    private static final int ROWS = 1000;

    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;

    private static JdbcEndpoint warehouse() {
        JdbcEndpoint db = Databases.newPostgresDatabase("compat");
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, 'u' || (i % 13), i, TIMESTAMP '2024-01-01' + i * INTERVAL '1 second' FROM generate_series(1, " + ROWS + ") i");
        return db;
    }

    private Path connection(JdbcEndpoint db, HttpReceiver receiver, Path savepoints) {
        return BackflowCli.write(dir, "orders", String.join("\n",
                BackflowCli.ordersSource(db),
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 10",
                "  max_in_flight: 1",
                "sync:",
                "  parallelism: 1",
                "  checkpoint_interval: 200ms",
                "  savepoint_dir: " + savepoints,
                ""));
    }

    @Test
    void aSavepointWrittenByVersionOneRestoresAndFinishesTheRun() throws Exception {
        Properties fixture = new Properties();
        try (InputStream in = Files.newInputStream(FIXTURE.resolve("fixture.properties"))) {
            fixture.load(in);
        }
        Path savepoint = dir.resolve("savepoint-v1");
        copy(FIXTURE.resolve("savepoint"), savepoint);
        long stoppedAfter = (Long) PositionCodec.decode(fixture.getProperty("position"))[0];

        JdbcEndpoint db = warehouse();
        try (HttpReceiver receiver = HttpReceiver.start()) {
            Path conn = connection(db, receiver, dir.resolve("savepoints"));
            // The ledger as version 1 left it: a FULL run stopped at the fixture's position.
            String stopped;
            try (Ledger ledger = new LedgerStore(db, "backflow").open()) {
                stopped = ledger.startRun("orders", "FULL", null, "first sync of this connection");
                ledger.planned(stopped, fixture.getProperty("highWaterMark"), List.of(new Ledger.SplitProgress(
                        fixture.getProperty("splitId"), fixture.getProperty("descriptor"), fixture.getProperty("position"), false)));
                ledger.markStopped(stopped, savepoint.toUri().toString(), "stopped by the fixture");
            }

            BackflowCli.Result r = BackflowCli.sync(conn);
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.out().contains("from its savepoint"), r.out());
            JsonNode run = BackflowCli.history(conn).get(0);
            assertEquals("SUCCEEDED", run.get("status").asText());
            assertEquals("FULL", run.get("type").asText());
            Set<Long> ids = receiver.deliveredEvents().stream()
                    .map(e -> e.get("context").get("backflow").get("primary_key").get("id").asLong()).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(ROWS - stoppedAfter, ids.size(), "exactly the rows after the savepoint's position");
            assertEquals(stoppedAfter + 1, ids.iterator().next());
            assertEquals(ROWS - stoppedAfter, receiver.deliveredEvents().size(), "none twice");
        }
    }

    @Test
    @EnabledIfSystemProperty(named = "backflow.fixtures.write", matches = "true")
    void writeFixture() throws Exception {
        JdbcEndpoint db = warehouse();
        try (HttpReceiver receiver = HttpReceiver.start()) {
            receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(20)));
            Path savepoints = dir.resolve("savepoints");
            Path conn = connection(db, receiver, savepoints);
            CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
            assertTrue(receiver.awaitDelivered(300, Duration.ofSeconds(60)));
            assertEquals(0, BackflowCli.run("stop", "--connection", conn.toString()).exitCode());
            assertEquals(3, sync.get(2, TimeUnit.MINUTES).exitCode());
            try (Ledger ledger = new LedgerStore(db, "backflow").open()) {
                SyncRun run = ledger.runs("orders", 1).get(0);
                assertNotNull(run.savepoint());
                Ledger.SplitProgress split = ledger.splitProgress(run.id()).get(0);
                Path target = FIXTURE.resolve("savepoint");
                if (Files.exists(FIXTURE)) {
                    try (Stream<Path> walk = Files.walk(FIXTURE)) {
                        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                            Files.delete(p);
                        }
                    }
                }
                copy(Path.of(java.net.URI.create(run.savepoint())), target);
                Properties fixture = new Properties();
                fixture.setProperty("splitId", split.splitId());
                fixture.setProperty("descriptor", split.descriptor());
                fixture.setProperty("position", split.position());
                fixture.setProperty("highWaterMark", run.highWaterMark());
                fixture.setProperty("rowsBeforeStop", String.valueOf(run.succeeded()));
                try (OutputStream out = Files.newOutputStream(FIXTURE.resolve("fixture.properties"))) {
                    fixture.store(out, "Backflow 0.1 savepoint fixture: a FULL sync of 1000 orders stopped mid-table");
                }
            }
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.createDirectories(t.getParent());
                    Files.copy(p, t);
                }
            }
        }
    }
}
