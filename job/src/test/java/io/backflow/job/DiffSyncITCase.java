package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
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
 * Diff syncs (change detection by snapshot diff) through the command line, with a real
 * PostgreSQL or DuckDB warehouse, a Flink MiniCluster and a real HTTP receiver that keeps the
 * state the record events describe. After each sync the receiver's state is compared with the
 * table row by row.
 */
class DiffSyncITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;
    /** The ledger's database when it is not the warehouse (then the diff runs on a copy next to it), else null. */
    JdbcEndpoint ledger;
    /** What the destination holds after applying every record event received: id to fields. */
    final Map<Long, JsonNode> state = new TreeMap<>();
    int applied;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private void useDatabase(String kind) {
        switch (kind) {
            case "postgres":
                db = Databases.newPostgresDatabase("diff");
                break;
            case "postgres, ledger in another database":
                db = Databases.newPostgresDatabase("diff");
                ledger = Databases.newPostgresDatabase("diff_ledger");
                break;
            case "mariadb, ledger in postgres":
                db = Databases.newMariaDbDatabase("diff");
                ledger = Databases.newPostgresDatabase("diff_ledger");
                break;
            case "mariadb, ledger in duckdb":
                db = Databases.newMariaDbDatabase("diff");
                ledger = Databases.duckDb(dir, "ledger");
                break;
            default:
                db = Databases.duckDb(dir, "warehouse");
        }
        Databases.execute(db, "CREATE TABLE customers (id BIGINT, email VARCHAR(80), plan VARCHAR(20), note VARCHAR(20))");
    }

    private void insert(int from, int to) {
        StringBuilder values = new StringBuilder();
        for (int i = from; i <= to; i++) {
            values.append(i == from ? "" : ", ").append("(").append(i).append(", 'c").append(i).append("@example.com', '")
                    .append(i % 3 == 0 ? "pro" : "free").append("', 'n')");
        }
        Databases.execute(db, "INSERT INTO customers VALUES " + values);
    }

    private Path connection(String mode, String eventType, String extra) {
        String mapping = eventType.equals("record")
                ? "mapping:\n  event_type: record\n  fields:\n    email: '{{ email }}'\n    plan: '{{ plan }}'"
                : "mapping:\n  event_type: identify\n  user_id: id\n  traits:\n    email: '{{ email }}'\n    plan: '{{ plan }}'";
        return BackflowCli.write(dir, "customers", String.join("\n",
                "source:",
                "  url: " + db.url(),
                db.user() == null ? "" : "  user: " + db.user(),
                db.password() == null ? "" : "  password: " + db.password(),
                "  table: customers",
                "  primary_key: id",
                "  page_size: 300",
                mapping,
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

    /** Applies the record events received since the last call, in arrival order; returns action counts. */
    private Map<String, Integer> applyReceived() {
        List<JsonNode> events = receiver.deliveredEvents();
        Map<String, Integer> actions = new TreeMap<>();
        for (JsonNode e : events.subList(applied, events.size())) {
            String action = e.has("action") ? e.get("action").asText() : e.get("type").asText();
            actions.merge(action, 1, Integer::sum);
            long id = e.has("identifiers") ? e.get("identifiers").get("id").asLong() : Long.parseLong(e.get("userId").asText());
            if (action.equals("delete")) {
                state.remove(id);
            } else {
                state.put(id, e.has("fields") ? e.get("fields") : e.get("traits"));
            }
        }
        applied = events.size();
        return actions;
    }

    /** The table as the mapping shows it: id to {email, plan}. */
    private Map<Long, JsonNode> table() {
        Map<Long, JsonNode> out = new TreeMap<>();
        try (Connection c = db.open(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT id, email, plan FROM customers WHERE id IS NOT NULL")) {
            while (rs.next()) {
                out.put(rs.getLong(1), JSON.createObjectNode().put("email", rs.getString(2)).put("plan", rs.getString(3)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private JsonNode sync(Path conn, String expectedType) {
        return sync(conn, expectedType, "SUCCEEDED");
    }

    /** A sync ending {@code expectedStatus}: SUCCEEDED (exit 0) or PARTIAL (exit 4, some rows failed). */
    private JsonNode sync(Path conn, String expectedType, String expectedStatus) {
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(expectedStatus.equals("PARTIAL") ? 4 : 0, r.exitCode(), r.toString());
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals(expectedStatus, run.get("status").asText(), run.toString());
        assertEquals(expectedType, run.get("type").asText(), r.out());
        assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong(), run.toString());
        return run;
    }

    private JsonNode rowLog(Path conn, String runId, String... flags) throws IOException {
        String[] args = Stream.concat(Stream.of("history", "--connection", conn.toString(), "--run", runId, "--json"), Stream.of(flags))
                .toArray(String[]::new);
        BackflowCli.Result r = BackflowCli.run(args);
        assertEquals(0, r.exitCode(), r.toString());
        return JSON.readTree(r.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "duckdb", "postgres, ledger in another database", "mariadb, ledger in postgres", "mariadb, ledger in duckdb"})
    void mirrorKeepsTheDestinationEqualToTheTableThroughInsertsUpdatesAndDeletes(String database) throws Exception {
        useDatabase(database);
        insert(1, 500);
        Path conn = connection("mirror", "record", "");
        JsonNode first = sync(conn, "FULL");
        assertEquals(500, first.get("succeeded").asLong());
        assertEquals(Map.of("insert", 500), applyReceived());
        assertEquals(table(), state);

        Databases.execute(db, "UPDATE customers SET plan = 'enterprise' WHERE id % 50 = 0",
                "UPDATE customers SET note = 'ignored' WHERE id % 7 = 0",
                "DELETE FROM customers WHERE id % 100 = 1");
        insert(501, 520);
        JsonNode second = sync(conn, "DIFF");
        assertEquals(Map.of("delete", 5, "insert", 20, "update", 10), applyReceived(), "only what changed in the mapped columns");
        assertEquals(35, second.get("read").asLong());
        assertEquals(table(), state);

        JsonNode third = sync(conn, "DIFF");
        assertEquals(0, third.get("read").asLong(), "nothing changed, nothing read");
        assertEquals(Map.of(), applyReceived());

        // A deleted row that comes back is an insert again.
        insert(1, 1);
        sync(conn, "DIFF");
        assertEquals(Map.of("insert", 1), applyReceived());
        assertEquals(table(), state);
        JsonNode log = rowLog(conn, second.get("id").asText());
        assertEquals(35, log.size());
        for (JsonNode row : log) {
            assertEquals("succeeded", row.get("status").asText(), row.toString());
        }
    }

    @Test
    void upsertSendsInsertsAndUpdatesButNeverDeletesAndFullSendsEveryRowEverySync() throws Exception {
        useDatabase("postgres");
        insert(1, 200);
        Path conn = connection("upsert", "identify", "");
        sync(conn, "FULL");
        assertEquals(Map.of("identify", 200), applyReceived());
        Databases.execute(db, "DELETE FROM customers WHERE id <= 10", "UPDATE customers SET email = 'new@example.com' WHERE id = 20");
        JsonNode run = sync(conn, "DIFF");
        assertEquals(1, run.get("read").asLong());
        assertEquals(Map.of("identify", 1), applyReceived());
        assertEquals("new@example.com", state.get(20L).get("email").asText());

        Path full = connection("full", "record", "");
        sync(full, "FULL");
        sync(full, "FULL");
        Map<String, Integer> actions = applyReceived();
        assertEquals(380, actions.values().stream().mapToInt(Integer::intValue).sum(), "190 rows, twice: " + actions);
        assertTrue(!actions.containsKey("delete"), actions.toString());
    }

    @Test
    void rejectedRowsAreLoggedRetriedNextSyncInTheirNewFormAndNotSentAThirdTime() throws Exception {
        useDatabase("postgres");
        insert(1, 300);
        receiver.respond(req -> req.events().stream().anyMatch(e -> {
            long id = e.get("identifiers").get("id").asLong();
            return id == 5 || id == 6;
        }) ? HttpReceiver.Response.status(422).body("{\"error\":\"rejected\"}") : HttpReceiver.Response.ok());
        Path conn = connection("mirror", "record", "");
        JsonNode first = sync(conn, "FULL", "PARTIAL");
        assertEquals(2, first.get("failed").asLong());
        assertEquals(2, Databases.queryLong(db, "SELECT COUNT(*) FROM backflow.failed_rows"));
        JsonNode failed = rowLog(conn, first.get("id").asText(), "--failed");
        assertEquals(2, failed.size(), failed.toString());
        assertEquals("{\"id\":5}", failed.get(0).get("key").asText());
        assertEquals("failed", failed.get(0).get("status").asText());
        assertTrue(failed.get(0).get("reason").asText().contains("422"), failed.toString());
        assertEquals(300, rowLog(conn, first.get("id").asText()).size(), "the log has the delivered rows too");

        applyReceived();
        Databases.execute(db, "UPDATE customers SET email = 'changed@example.com' WHERE id = 6");
        receiver.respond(req -> HttpReceiver.Response.ok());
        JsonNode retry = sync(conn, "DIFF");
        assertEquals(2, retry.get("succeeded").asLong());
        assertEquals(Map.of("insert", 2), applyReceived());
        assertEquals("changed@example.com", state.get(6L).get("email").asText(), "sent in its new form");
        JsonNode retried = rowLog(conn, retry.get("id").asText());
        assertEquals(2, retried.get(0).get("attempts").asInt(), retried.toString());
        assertEquals(0, Databases.queryLong(db, "SELECT COUNT(*) FROM backflow.failed_rows"));
        assertEquals(table(), state);

        assertEquals(0, sync(conn, "DIFF").get("read").asLong(), "not sent a third time");
        assertEquals(Map.of(), applyReceived());
    }

    @Test
    void duplicateAndNullKeysAreInvalidAndTheRestGoOn() throws Exception {
        useDatabase("postgres");
        insert(1, 100);
        Databases.execute(db, "INSERT INTO customers VALUES (7, 'other@example.com', 'free', 'n'), (NULL, 'nokey@example.com', 'free', 'n')");
        Path conn = connection("mirror", "record", "");
        JsonNode run = sync(conn, "FULL");
        assertEquals(99, run.get("succeeded").asLong());
        assertEquals(2, run.get("invalid").asLong(), "key 7 (two rows) and the null key");
        Map<String, Integer> actions = applyReceived();
        assertEquals(Map.of("insert", 99), actions);
        assertTrue(!state.containsKey(7L));
        JsonNode log = rowLog(conn, run.get("id").asText());
        boolean sawDuplicate = false;
        for (JsonNode row : log) {
            if (row.get("key").asText().equals("{\"id\":7}")) {
                sawDuplicate = true;
                assertEquals("invalid", row.get("status").asText());
                assertTrue(row.get("reason").asText().contains("2 rows"), row.toString());
            }
        }
        assertTrue(sawDuplicate, log.toString());

        // Once the key is unique again, the row goes out.
        Databases.execute(db, "DELETE FROM customers WHERE email = 'other@example.com'");
        JsonNode next = sync(conn, "DIFF");
        assertEquals(1, next.get("succeeded").asLong());
        assertEquals(1, next.get("invalid").asLong(), "the null key, counted again");
        assertEquals(Map.of("insert", 1), applyReceived());
        assertEquals(table(), state);
    }

    @Test
    void aMappingChangeMakesTheNextDiffSyncFullAndHistorySaysWhy() throws Exception {
        useDatabase("duckdb");
        insert(1, 50);
        sync(connection("upsert", "record", ""), "FULL");
        applyReceived();
        Path changed = BackflowCli.write(dir, "customers", Files.readString(dir.resolve("customers.yaml"))
                .replace("    plan: '{{ plan }}'", "    plan: '{{ plan }}'\n    note: '{{ note }}'"));
        BackflowCli.Result r = BackflowCli.sync(changed);
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("the mapping changed"), r.out());
        assertEquals("FULL", BackflowCli.history(changed).get(0).get("type").asText());
        assertEquals(Map.of("update", 50), applyReceived(), "every row again, as updates of what the destination has");
    }

    @Test
    void mirrorIsRefusedForTrackEventsBeforeAnythingRuns() {
        useDatabase("duckdb");
        Path conn = BackflowCli.write(dir, "bad", String.join("\n",
                "source: {url: '" + db.url() + "', table: customers, primary_key: id}",
                "mapping: {event_type: track, event: Seen, user_id: id}",
                "destination: {type: webhook, url: 'http://127.0.0.1:1/x'}",
                "sync: {mode: mirror}", ""));
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("sync.mode") && r.err().contains("track events cannot delete"), r.err());
    }

    @Test
    void aDiffRunStoppedLongerThanTheRetentionAgoIsResumedOverTheSameDelta() throws Exception {
        useDatabase("postgres");
        receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(20)));
        insert(1, 1500);
        Path conn = connection("mirror", "record", "state:\n  retention: 1s");
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
        assertTrue(receiver.awaitDelivered(300, Duration.ofSeconds(60)));
        assertEquals(0, BackflowCli.run("stop", "--connection", conn.toString()).exitCode());
        assertEquals(3, sync.get(2, TimeUnit.MINUTES).exitCode());
        // Rows the stopped run had already sent change before it is resumed.
        Databases.execute(db, "UPDATE customers SET plan = 'changed' WHERE id IN (1, 751)");
        Thread.sleep(1_500);
        BackflowCli.Result resumed = BackflowCli.sync(conn);
        assertEquals(0, resumed.exitCode(), resumed.toString());
        assertTrue(resumed.out().contains("resumes cancelled run"), resumed.out());
        assertEquals(2, sync(conn, "DIFF").get("read").asLong(), "the two changes, which the resumed delta predates");
        applyReceived();
        assertEquals(table(), state, "every row delivered although the stopped run's detail was past retention");
        assertEquals(0, sync(conn, "DIFF").get("read").asLong());
    }

    // ------------------------------------------------------------------ stops during diff syncs

    private static long seed() {
        long seed = Long.getLong("backflow.test.seed", System.nanoTime());
        System.out.println("DiffSyncITCase seed: " + seed + " (replay with -Dbackflow.test.seed=" + seed + ")");
        return seed;
    }

    /** Syncs until one succeeds, stopping each at a random point (every other one loses its savepoint). */
    private int syncWithRandomStops(Path conn, Random random, int stops, int changedRows) throws Exception {
        int stopped = 0;
        for (int attempt = 0; attempt <= stops; attempt++) {
            CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
            if (attempt < stops) {
                int target = receiver.deliveredEvents().size() + random.nextInt(Math.max(1, changedRows / (stops + 1)));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (receiver.deliveredEvents().size() < target && !sync.isDone() && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(2_000_000);
                }
                BackflowCli.Result stop = BackflowCli.run(random.nextBoolean() ? new String[] {"stop", "--connection", conn.toString()}
                        : new String[] {"stop", "--drain", "--connection", conn.toString()});
                assertEquals(0, stop.exitCode(), stop.toString());
                BackflowCli.Result result = sync.get(2, TimeUnit.MINUTES);
                if (result.exitCode() == 3) {
                    stopped++;
                    if (attempt % 2 == 1) {
                        BackflowCli.deleteTree(dir.resolve("savepoints"));
                    }
                    continue;
                }
                assertEquals(0, result.exitCode(), result.toString());
                return stopped;
            }
            BackflowCli.Result result = sync.get(2, TimeUnit.MINUTES);
            assertEquals(0, result.exitCode(), result.toString());
            return stopped;
        }
        throw new AssertionError("unreachable");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mirror", "upsert"})
    void randomStopsDuringDiffSyncsLoseNothing(String mode) throws Exception {
        useDatabase("postgres");
        Random random = new Random(seed());
        receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(20)));
        insert(1, 1500);
        Path conn = connection(mode, "record", "");
        int stops = syncWithRandomStops(conn, random, 3, 1500);
        for (int round = 0; round < 2; round++) {
            Databases.execute(db, "UPDATE customers SET plan = 'r" + round + "' WHERE id % 3 = " + round,
                    "DELETE FROM customers WHERE id % 11 = " + round);
            insert(2000 + round * 400, 2000 + round * 400 + 399);
            stops += syncWithRandomStops(conn, random, 3, 900);
        }
        // Whatever the stops left unacknowledged, the next sync sends; then nothing is left.
        BackflowCli.Result last = BackflowCli.sync(conn);
        assertEquals(0, last.exitCode(), last.toString());
        applyReceived();
        Map<Long, JsonNode> table = table();
        if (mode.equals("mirror")) {
            assertEquals(table, state, "the destination equals the table after " + stops + " stops");
        } else {
            Map<Long, JsonNode> missing = new HashMap<>();
            table.forEach((id, fields) -> {
                if (!fields.equals(state.get(id))) {
                    missing.put(id, fields);
                }
            });
            assertTrue(missing.isEmpty(), missing.size() + " rows not delivered in their last form after " + stops + " stops");
        }
        assertEquals(0, sync(conn, "DIFF").get("read").asLong(), "everything was acknowledged");
        for (JsonNode run : BackflowCli.history(conn)) {
            assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong(),
                    run.toString());
        }
        System.out.println("DiffSyncITCase " + mode + ": " + stops + " stops, " + receiver.deliveredEvents().size() + " events delivered");
    }
}
