package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole syncs through the command line: a real PostgreSQL (or DuckDB) warehouse, a Flink
 * MiniCluster and a real HTTP receiver. Every run's counts must reconcile.
 */
class SyncITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
        db = Databases.newPostgresDatabase("sync");
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private Path connection(String name, JdbcEndpoint endpoint, String sourceExtra, String mappingExtra, String destinationExtra, int parallelism) {
        return BackflowCli.write(dir, name, String.join("\n",
                "source:",
                "  url: " + endpoint.url(),
                endpoint.user() == null ? "" : "  user: " + endpoint.user(),
                endpoint.password() == null ? "" : "  password: " + endpoint.password(),
                "  primary_key: id",
                sourceExtra,
                "mapping:",
                "  event_type: track",
                "  event: Order Completed",
                "  user_id: user_id",
                "  properties:",
                "    amount: '{{ amount }}'",
                mappingExtra,
                "destination:",
                "  type: http",
                "  url: " + receiver.baseUrl(),
                "  write_key: test-write-key",
                "  batch_size: 100",
                "  retry: {max_attempts: 4, initial_backoff: 50ms, max_backoff: 200ms, max_duration: 20s}",
                destinationExtra,
                "sync:",
                "  parallelism: " + parallelism,
                "  checkpoint_interval: 300ms",
                ""));
    }

    private Path orders(String sourceExtra, int parallelism) {
        return connection("orders", db, "  table: orders\n  cursor: updated_at\n" + sourceExtra, "", "", parallelism);
    }

    private void createOrders(JdbcEndpoint endpoint, int rows) {
        Databases.execute(endpoint,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, 'u' || (i % 97), i * 1.5, TIMESTAMP '2024-01-01' + i * INTERVAL '1 minute' FROM generate_series(1, " + rows + ") i");
    }

    private static JsonNode assertSucceeded(BackflowCli.Result r, Path connection) {
        return assertFinished(r, connection, "SUCCEEDED", 0);
    }

    /** Some rows failed at the destination: the run read everything, ended PARTIAL, exit code 4. */
    private static JsonNode assertPartial(BackflowCli.Result r, Path connection) {
        return assertFinished(r, connection, "PARTIAL", 4);
    }

    private static JsonNode assertFinished(BackflowCli.Result r, Path connection, String status, int exitCode) {
        assertEquals(exitCode, r.exitCode(), r.toString());
        JsonNode run = BackflowCli.history(connection).get(0);
        assertEquals(status, run.get("status").asText(), run.toString());
        assertReconciles(run);
        return run;
    }

    private static void assertReconciles(JsonNode run) {
        assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong(), run.toString());
    }

    private Set<Long> deliveredOrderIds() {
        return receiver.deliveredEvents().stream().map(e -> e.get("context").get("backflow").get("primary_key").get("id").asLong())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void firstSyncDeliversEveryRowOnceThenNothingThenExactlyTheChangedRows() {
        createOrders(db, 3000);
        Path conn = orders("", 2);

        JsonNode first = assertSucceeded(BackflowCli.sync(conn), conn);
        assertEquals("FULL", first.get("type").asText());
        assertEquals(3000, first.get("succeeded").asLong());
        List<String> ids = receiver.deliveredMessageIds();
        assertEquals(3000, ids.size());
        assertEquals(3000, new HashSet<>(ids).size(), "every row delivered once");
        assertEquals("Basic " + java.util.Base64.getEncoder().encodeToString("test-write-key:".getBytes()),
                receiver.requests().get(0).header("Authorization"));

        receiver.reset();
        JsonNode second = assertSucceeded(BackflowCli.sync(conn), conn);
        assertEquals("INCREMENTAL", second.get("type").asText());
        assertEquals(0, second.get("read").asLong());
        assertEquals(0, receiver.deliveredEvents().size());

        Databases.execute(db,
                "INSERT INTO orders SELECT i, 'new', 1, TIMESTAMP '2025-01-01' FROM generate_series(3001, 3010) i",
                "UPDATE orders SET amount = 99, updated_at = TIMESTAMP '2025-01-02' WHERE id IN (5, 500, 2999)");
        JsonNode third = assertSucceeded(BackflowCli.sync(conn), conn);
        assertEquals(13, third.get("succeeded").asLong());
        Set<Long> expected = new TreeSet<>(List.of(5L, 500L, 2999L));
        for (long i = 3001; i <= 3010; i++) {
            expected.add(i);
        }
        assertEquals(expected, deliveredOrderIds());
    }

    @Test
    void rowsSharingOneCursorValueAcrossPageBoundariesAreAllDelivered() {
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, 'u', 1, TIMESTAMP '2024-01-01' FROM generate_series(1, 1000) i");
        Path conn = orders("  page_size: 64\n  fetch_size: 50", 1);
        assertSucceeded(BackflowCli.sync(conn), conn);
        receiver.reset();

        // 2,500 rows with one cursor value, read 64 to a page: pages cut through the run of equal cursors.
        Databases.execute(db, "INSERT INTO orders SELECT i, 'u', 2, TIMESTAMP '2024-06-01' FROM generate_series(1001, 3500) i");
        JsonNode run = assertSucceeded(BackflowCli.sync(conn), conn);
        assertEquals("INCREMENTAL", run.get("type").asText());
        assertEquals(2500, run.get("succeeded").asLong());
        assertEquals(2500, deliveredOrderIds().size());
        assertEquals(2500, receiver.deliveredMessageIds().size());
    }

    @Test
    void aRowCommittedInsideTheDelayWindowIsPickedUpByTheNextSync() throws Exception {
        createOrders(db, 100);
        Path conn = orders("  cursor_delay: 2s", 1);
        assertSucceeded(BackflowCli.sync(conn), conn);
        receiver.reset();

        Databases.execute(db, "INSERT INTO orders VALUES (1000, 'late', 5, LOCALTIMESTAMP)");
        JsonNode early = assertSucceeded(BackflowCli.sync(conn), conn);
        assertEquals(0, early.get("read").asLong(), "a row younger than cursor_delay waits for the next sync");

        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Databases.queryLong(db, "SELECT COUNT(*) FROM orders WHERE id = 1000 AND updated_at <= LOCALTIMESTAMP - INTERVAL '3 seconds'") == 0) {
            assertTrue(System.nanoTime() < deadline, "the database clock did not move");
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
        }
        JsonNode later = assertSucceeded(BackflowCli.sync(conn), conn);
        assertEquals(1, later.get("succeeded").asLong());
        assertEquals(Set.of(1000L), deliveredOrderIds());
    }

    @Test
    void invalidRowsAreCountedAndRecordedAndTheRestDelivered() {
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), meta TEXT, updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE 'u' || i END, i, "
                        + "CASE WHEN i = 7 THEN '{broken' ELSE '{\"ok\": true}' END, TIMESTAMP '2024-01-01' FROM generate_series(1, 200) i");
        Path conn = connection("orders", db, "  table: orders\n  cursor: updated_at", "    meta: '{{ meta | json }}'", "", 1);
        JsonNode run = assertSucceeded(BackflowCli.sync(conn), conn);
        assertEquals(200, run.get("read").asLong());
        assertEquals(21, run.get("invalid").asLong());
        assertEquals(179, run.get("succeeded").asLong());
        assertEquals(179, receiver.deliveredEvents().size());
        assertEquals(21, Databases.queryLong(db, "SELECT COUNT(*) FROM backflow.row_errors WHERE kind = 'INVALID'"));
        assertEquals(1, Databases.queryLong(db, "SELECT COUNT(*) FROM backflow.row_errors WHERE row_key = '{\"id\":7}' AND reason LIKE '%meta%'"));
    }

    @Test
    void serverErrorsAreRetriedUntilDelivered() {
        createOrders(db, 300);
        receiver.enqueueStatuses(500, 503, 502);
        Path conn = orders("", 1);
        JsonNode run = assertSucceeded(BackflowCli.sync(conn), conn);
        assertEquals(300, run.get("succeeded").asLong());
        assertEquals(300, new HashSet<>(receiver.deliveredMessageIds()).size());
    }

    @Test
    void aRejectedEventIsTheOnlyOneRecordedFailed() {
        createOrders(db, 250);
        receiver.respond(req -> req.events().stream().anyMatch(e -> e.get("properties").get("amount").asDouble() == 150.0)
                ? HttpReceiver.Response.status(400).body("{\"error\":\"amount 150 is not allowed\"}") : HttpReceiver.Response.ok());
        Path conn = orders("", 1);
        JsonNode run = assertPartial(BackflowCli.sync(conn), conn);
        assertEquals(1, run.get("failed").asLong());
        assertEquals(249, run.get("succeeded").asLong());
        assertEquals(249, deliveredOrderIds().size());
        assertFalse(deliveredOrderIds().contains(100L));
        assertEquals(1, Databases.queryLong(db,
                "SELECT COUNT(*) FROM backflow.row_errors WHERE kind = 'FAILED' AND row_key = '{\"id\":100}' AND reason LIKE '%400%not allowed%'"));
    }

    @Test
    void aRejectedRowIsRetriedOnLaterSyncsInItsCurrentFormUntilItIsDelivered() throws Exception {
        createOrders(db, 300);
        receiver.respond(req -> req.events().stream().anyMatch(e -> e.get("properties").get("amount").asDouble() == 150.0)
                ? HttpReceiver.Response.status(422).body("{\"error\":\"rejected\"}") : HttpReceiver.Response.ok());
        Path conn = orders("", 1);
        JsonNode first = assertPartial(BackflowCli.sync(conn), conn);
        assertEquals(1, first.get("failed").asLong());
        assertEquals(1, Databases.queryLong(db, "SELECT COUNT(*) FROM backflow.failed_rows"));
        BackflowCli.Result rows = BackflowCli.run("history", "--connection", conn.toString(), "--run", first.get("id").asText(), "--failed", "--json");
        JsonNode failed = new com.fasterxml.jackson.databind.ObjectMapper().readTree(rows.out());
        assertEquals(1, failed.size(), rows.out());
        assertEquals("{\"id\":100}", failed.get(0).get("key").asText());

        // The row changes without its cursor moving: the retry sends it as it is now.
        Databases.execute(db, "UPDATE orders SET amount = 151 WHERE id = 100");
        receiver.respond(req -> HttpReceiver.Response.ok());
        receiver.reset();
        BackflowCli.Result retried = BackflowCli.sync(conn);
        assertTrue(retried.out().contains("(rows changed since the last sync, and 1 refused row(s) again)"), retried.out());
        JsonNode retry = assertSucceeded(retried, conn);
        assertEquals("INCREMENTAL", retry.get("type").asText());
        assertEquals(1, retry.get("succeeded").asLong());
        assertEquals(Set.of(100L), deliveredOrderIds());
        assertEquals(151.0, receiver.deliveredEvents().get(0).get("properties").get("amount").asDouble());
        assertEquals(0, Databases.queryLong(db, "SELECT COUNT(*) FROM backflow.failed_rows"));

        receiver.reset();
        assertEquals(0, assertSucceeded(BackflowCli.sync(conn), conn).get("read").asLong(), "not sent a third time");
        assertEquals(0, receiver.deliveredEvents().size());
    }

    @Test
    void aRefusedWriteKeyFailsTheSyncAtOnceWithAClearMessage() {
        createOrders(db, 50);
        receiver.respond(req -> HttpReceiver.Response.status(401).body("bad key"));
        Path conn = orders("", 1);
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.out().contains("FAILED"), r.toString());
        assertTrue(r.out().contains("401"), r.toString());
        assertTrue(receiver.requestCount() <= 2, "no restart loop: " + receiver.requestCount() + " requests");
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals("FAILED", run.get("status").asText());
        assertReconciles(run);
        assertFalse(r.out().contains("test-write-key"), "the write key is never printed");
    }

    @Test
    void aBadConfigFailsBeforeAnyDataMovesAndNamesTheField() {
        createOrders(db, 10);
        Path conn = connection("orders", db, "  table: orders\n  cursor: updated_at", "    missing: '{{ no_such_column }}'", "", 1);
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("mapping: column 'no_such_column' is not in orders (it has: id, user_id, amount, updated_at)"), r.toString());
        assertEquals(0, receiver.requestCount());
        assertEquals(0, Databases.queryLong(db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'backflow'"),
                "nothing was written to the ledger either");
    }

    @Test
    void aDuckDbWarehouseSyncsInParallelAndIncrementally() {
        JdbcEndpoint duck = Databases.duckDb(dir, "wh");
        Databases.execute(duck,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR, amount DECIMAL(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, 'u' || (i % 97), i * 1.5, TIMESTAMP '2024-01-01' + to_minutes(i) FROM range(1, 2001) t(i)");
        Path conn = connection("duck-orders", duck, "  table: orders\n  cursor: updated_at", "", "", 2);
        assertEquals(2000, assertSucceeded(BackflowCli.sync(conn), conn).get("succeeded").asLong());
        Databases.execute(duck, "INSERT INTO orders VALUES (5000, 'x', 1, TIMESTAMP '2025-01-01')");
        receiver.reset();
        assertEquals(1, assertSucceeded(BackflowCli.sync(conn), conn).get("succeeded").asLong());
        assertEquals(Set.of(5000L), deliveredOrderIds());
    }

    @Test
    void fullResyncSendsEveryRowAgainWithTheSameMessageIds() {
        createOrders(db, 200);
        Path conn = orders("", 1);
        assertSucceeded(BackflowCli.sync(conn), conn);
        Set<String> first = new HashSet<>(receiver.deliveredMessageIds());
        receiver.reset();
        JsonNode run = assertSucceeded(BackflowCli.sync(conn, "--full-resync"), conn);
        assertEquals("FULL", run.get("type").asText());
        assertEquals(first, new HashSet<>(receiver.deliveredMessageIds()), "unchanged rows keep their messageId");
    }

    @Test
    void aMappingModelOrColumnTypeChangeMakesTheNextSyncFullAndHistorySaysWhy() {
        createOrders(db, 100);
        Path conn = orders("", 1);
        assertSucceeded(BackflowCli.sync(conn), conn);
        assertEquals("INCREMENTAL", assertSucceeded(BackflowCli.sync(conn), conn).get("type").asText());

        Path changedMapping = connection("orders", db, "  table: orders\n  cursor: updated_at", "    currency: EUR", "", 1);
        receiver.reset();
        JsonNode full = assertSucceeded(BackflowCli.sync(changedMapping), changedMapping);
        assertEquals("FULL", full.get("type").asText());
        assertEquals(100, receiver.deliveredEvents().size(), "every row again, in its new shape");
        BackflowCli.Result history = BackflowCli.run("history", "--connection", changedMapping.toString());
        assertTrue(history.out().contains("the mapping changed since run "), history.out());
        assertEquals("INCREMENTAL", assertSucceeded(BackflowCli.sync(changedMapping), changedMapping).get("type").asText());

        Databases.execute(db, "ALTER TABLE orders ALTER COLUMN amount TYPE DOUBLE PRECISION");
        assertEquals("FULL", assertSucceeded(BackflowCli.sync(changedMapping), changedMapping).get("type").asText());
        history = BackflowCli.run("history", "--connection", changedMapping.toString());
        assertTrue(history.out().contains("column amount changed type from numeric to float8"), history.out());
    }

    @Test
    void historyJsonHasExactlyTheDocumentedKeys() {
        createOrders(db, 5);
        Path conn = orders("", 1);
        assertSucceeded(BackflowCli.sync(conn), conn);
        JsonNode run = BackflowCli.history(conn).get(0);
        Set<String> keys = new TreeSet<>();
        run.fieldNames().forEachRemaining(keys::add);
        assertEquals(new TreeSet<>(List.of("id", "type", "status", "read", "succeeded", "failed", "invalid", "reason", "outcome", "started_at",
                "finished_at")), keys);
    }

    @Test
    void previewPrintsEventsAndSendsNothing() {
        createOrders(db, 20);
        Path conn = orders("", 1);
        BackflowCli.Result r = BackflowCli.run("preview", "--connection", conn.toString(), "--limit", "3");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("\"event\" : \"Order Completed\""), r.out());
        assertTrue(r.out().contains("# 3 row(s) previewed: 3 event(s), 0 invalid; nothing was sent"), r.out());
        assertEquals(0, receiver.requestCount());
    }
}
