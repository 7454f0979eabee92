package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Rows that arrive with exactly the cursor value the last sync ended at (the committed high-water
 * mark), through the command line, on PostgreSQL and DuckDB. A cursor that is not strictly
 * increasing with commit time (a business date, a second-resolution timestamp, a batch stamped
 * with one time) produces them all the time; reading {@code cursor > mark} loses them for good.
 * Each case checks that every such row arrives exactly once, and nothing else does.
 */
class MarkTiesITCase {
    private static final String T = "TIMESTAMP '2024-03-01 12:00:00'";

    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

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

    private void open(String database) {
        db = database.equals("postgresql") ? Databases.newPostgresDatabase("ties") : Databases.duckDb(dir, "ties");
    }

    private Path connection(String table, String cursor, int pageSize, String... extra) {
        return BackflowCli.write(dir, "ties", String.join("\n",
                "source:",
                "  url: " + db.url(),
                db.user() == null ? "" : "  user: " + db.user(),
                "  table: " + table,
                "  primary_key: id",
                "  cursor: " + cursor,
                "  page_size: " + pageSize,
                "mapping:",
                "  event_type: track",
                "  event: Order Completed",
                "  user_id: user_id",
                "  properties: {amount: '{{ amount }}'}",
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 50",
                String.join("\n", extra),
                "sync:",
                "  checkpoint_interval: 200ms",
                "  savepoint_dir: " + dir.resolve("savepoints"),
                ""));
    }

    private void createOrders(String cursorType) {
        Databases.execute(db, "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at " + cursorType + ")");
    }

    /** Syncs once, expecting success, and returns how often each order id arrived during it. */
    private Map<Long, Integer> syncOnce(Path conn, String expectedType) {
        receiver.reset();
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(0, r.exitCode(), r.toString());
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals("SUCCEEDED", run.get("status").asText(), run.toString());
        assertEquals(expectedType, run.get("type").asText(), run.toString());
        assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong());
        return deliveredCounts();
    }

    private Map<Long, Integer> deliveredCounts() {
        Map<Long, Integer> counts = new TreeMap<>();
        for (JsonNode e : receiver.deliveredEvents()) {
            counts.merge(e.get("context").get("backflow").get("primary_key").get("id").asLong(), 1, Integer::sum);
        }
        return counts;
    }

    private static Map<Long, Integer> once(long... ids) {
        Map<Long, Integer> out = new TreeMap<>();
        for (long id : ids) {
            out.put(id, 1);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb"})
    void rowsAddedAtTheMarkWithLowerAndHigherKeysArriveOnce(String database) {
        open(database);
        createOrders("TIMESTAMP");
        Databases.execute(db,
                "INSERT INTO orders SELECT i, 'u' || i, i, TIMESTAMP '2024-02-01' + i * INTERVAL '1 minute' FROM generate_series(1, 9) g(i)",
                // The last sync's newest rows share one cursor value, keys 10, 20 ... 110.
                "INSERT INTO orders SELECT i * 10, 'u' || i, i, " + T + " FROM generate_series(1, 11) g(i)");
        Path conn = connection("orders", "updated_at", 4);
        assertEquals(20, syncOnce(conn, "FULL").size());

        // Later, more rows commit with that very value: keys below, between and above the last one sent.
        Databases.execute(db, "INSERT INTO orders VALUES (15, 'late', 1, " + T + "), (105, 'late', 1, " + T + "), (500, 'late', 1, " + T + ")");
        assertEquals(once(15, 105, 500), syncOnce(conn, "INCREMENTAL"));
        assertEquals(once(), syncOnce(conn, "INCREMENTAL"), "nothing new, nothing sent");

        // The mark moves on; rows at the new mark are the only ones read again.
        Databases.execute(db, "INSERT INTO orders VALUES (600, 'next', 1, " + T + " + INTERVAL '1 second')");
        assertEquals(once(600), syncOnce(conn, "INCREMENTAL"));
        Databases.execute(db, "INSERT INTO orders VALUES (601, 'next', 1, " + T + " + INTERVAL '1 second')");
        assertEquals(once(601), syncOnce(conn, "INCREMENTAL"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb"})
    void aDateCursorDeliversRowsAddedLaterOnTheMarkDayAndChangesMadeThatDay(String database) {
        open(database);
        Databases.execute(db,
                "CREATE TABLE invoices (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), invoice_date DATE)",
                "INSERT INTO invoices SELECT i, 'u' || i, i, DATE '2024-01-01' + CAST(FLOOR(i / 10) AS INTEGER) FROM generate_series(1, 49) g(i)");
        Path conn = connection("invoices", "invoice_date", 1000);
        assertEquals(49, syncOnce(conn, "FULL").size());

        // The mark is 2024-01-05 (ids 40..49). Invoices for that day keep coming, and one is corrected.
        Databases.execute(db,
                "INSERT INTO invoices VALUES (0, 'late', 1, DATE '2024-01-05'), (100, 'late', 2, DATE '2024-01-05')",
                "UPDATE invoices SET amount = 999 WHERE id = 44");
        assertEquals(once(0, 44, 100), syncOnce(conn, "INCREMENTAL"));
        assertEquals(once(), syncOnce(conn, "INCREMENTAL"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb"})
    void tenThousandRowsShareTheMarkAndOnlyTheNewOnesAreSent(String database) {
        open(database);
        createOrders("TIMESTAMP");
        Databases.execute(db,
                "INSERT INTO orders SELECT i, 'u' || i, i, TIMESTAMP '2024-01-01' FROM generate_series(1, 100) g(i)",
                "INSERT INTO orders SELECT i * 2 + 1000, 'u' || i, i, " + T + " FROM generate_series(1, 10000) g(i)");
        Path conn = connection("orders", "updated_at", 3000);
        assertEquals(10_100, syncOnce(conn, "FULL").size());

        Databases.execute(db, "INSERT INTO orders VALUES (1003, 'n', 1, " + T + "), (11001, 'n', 1, " + T + "), (30000, 'n', 1, " + T + ")");
        assertEquals(once(1003, 11001, 30000), syncOnce(conn, "INCREMENTAL"));
        Databases.execute(db, "UPDATE orders SET amount = 0 WHERE id IN (1002, 21000)");
        assertEquals(once(1002, 21000), syncOnce(conn, "INCREMENTAL"));
        assertEquals(once(), syncOnce(conn, "INCREMENTAL"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb"})
    void updatesThatMoveOldRowsOntoTheMarkAreSentOnce(String database) {
        open(database);
        createOrders("TIMESTAMP");
        Databases.execute(db,
                "INSERT INTO orders SELECT i, 'u' || i, i, TIMESTAMP '2024-01-01' + i * INTERVAL '1 hour' FROM generate_series(1, 50) g(i)",
                "INSERT INTO orders SELECT i, 'u' || i, i, " + T + " FROM generate_series(51, 60) g(i)");
        Path conn = connection("orders", "updated_at", 7);
        assertEquals(60, syncOnce(conn, "FULL").size());

        // An update stamped with the mark's value (one as it was, one with new content).
        Databases.execute(db, "UPDATE orders SET updated_at = " + T + " WHERE id = 4", "UPDATE orders SET amount = 7, updated_at = " + T + " WHERE id = 30");
        assertEquals(once(4, 30), syncOnce(conn, "INCREMENTAL"));
        assertEquals(once(), syncOnce(conn, "INCREMENTAL"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb"})
    void aStopWhileReadingTheRowsAtTheMarkResumesWithEveryRowOnce(String database) throws Exception {
        open(database);
        Map<Long, Integer> all = stopAtTheMarkAndResume(false);
        for (long id = 11; id <= 2010; id++) {
            assertEquals(1, all.getOrDefault(id, 0), "order " + id + " across the stopped and the resumed run");
        }
        afterTheResume();
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb"})
    void aStopAtTheMarkWhoseSavepointIsGoneResumesFromTheLedgerWithEveryRowAndTheSameMessageIds(String database) throws Exception {
        open(database);
        Map<String, Long> idOfMessage = new HashMap<>();
        Map<Long, Integer> all = stopAtTheMarkAndResume(true);
        int duplicates = 0;
        for (long id = 11; id <= 2010; id++) {
            int n = all.getOrDefault(id, 0);
            assertTrue(n >= 1, "order " + id + " never arrived");
            duplicates += n - 1;
        }
        // Only what was in flight at the stop may arrive twice: one batch of 50, one request in flight.
        assertTrue(duplicates <= 100, duplicates + " duplicates");
        for (JsonNode e : received) {
            long id = e.get("context").get("backflow").get("primary_key").get("id").asLong();
            Long before = idOfMessage.put(e.get("messageId").asText(), id);
            assertTrue(before == null || before == id, "one messageId per row");
        }
        assertEquals(2010 - 11 + 1 + 1, idOfMessage.size(), "a re-sent row keeps its messageId (5000 included)");
        afterTheResume();
    }

    /** Every event received by the stopped and the resumed run. */
    private final java.util.List<JsonNode> received = new java.util.ArrayList<>();

    /**
     * 2,000 rows at the next mark; the stop lands while they are being read; two more rows arrive
     * at the mark, one before where the run stopped and one after; the run is resumed (from its
     * savepoint, or with it deleted from the ledger's positions). Returns how often each order
     * arrived across both runs.
     */
    private Map<Long, Integer> stopAtTheMarkAndResume(boolean loseTheSavepoint) throws Exception {
        createOrders("TIMESTAMP");
        Databases.execute(db, "INSERT INTO orders SELECT i, 'u' || i, i, TIMESTAMP '2024-01-01' FROM generate_series(1, 10) g(i)");
        Path conn = connection("orders", "updated_at", 200, "  max_in_flight: 1");
        assertEquals(10, syncOnce(conn, "FULL").size());

        Databases.execute(db, "INSERT INTO orders SELECT i, 'u' || i, i, " + T + " FROM generate_series(11, 2010) g(i)");
        receiver.reset();
        // 40 requests of 50 at 60 ms each: after the first 500 events the stop has about 1.8 s to
        // arrive (at 20 ms, 0.6 s was once too little on CI and the run finished first).
        receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(60)));
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (receiver.deliveredEvents().size() < 500 && !sync.isDone() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(2_000_000);
        }
        BackflowCli.Result stop = BackflowCli.run("stop", "--connection", conn.toString());
        assertEquals(0, stop.exitCode(), stop.toString());
        BackflowCli.Result stopped = sync.get(2, TimeUnit.MINUTES);
        assertEquals(3, stopped.exitCode(), stopped.toString());
        Map<Long, Integer> all = deliveredCounts();
        received.addAll(receiver.deliveredEvents());
        assertTrue(all.size() < 2000, "the stop came before the end: " + all.size());
        if (loseTheSavepoint) {
            BackflowCli.deleteTree(dir.resolve("savepoints"));
        }

        receiver.reset();
        Databases.execute(db, "INSERT INTO orders VALUES (0, 'n', 1, " + T + "), (5000, 'n', 1, " + T + ")");
        BackflowCli.Result resumed = BackflowCli.sync(conn);
        assertEquals(0, resumed.exitCode(), resumed.toString());
        assertTrue(resumed.out().contains(loseTheSavepoint ? "from its last committed position" : "from its savepoint"), resumed.out());
        deliveredCounts().forEach((id, n) -> all.merge(id, n, Integer::sum));
        received.addAll(receiver.deliveredEvents());
        // Key 5000 sorts after where the stopped run was, so the resumed run read it; key 0 sorts
        // before, so it is the next run's, which reads the mark again.
        assertEquals(Integer.valueOf(1), all.get(5000L));
        assertEquals(null, all.get(0L));
        this.conn = conn;
        return all;
    }

    private Path conn;

    private void afterTheResume() {
        assertEquals(once(0), syncOnce(conn, "INCREMENTAL"));
        assertEquals(once(), syncOnce(conn, "INCREMENTAL"));
        assertEquals(5, BackflowCli.history(conn).size(), "FULL, stopped, resumed, and two incremental runs");
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb"})
    void rowsWithANullKeyAtTheMarkAreCountedInvalidOnce(String database) {
        open(database);
        Databases.execute(db, "CREATE TABLE orders (id BIGINT, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders VALUES (1, 'a', 1, " + T + "), (NULL, 'b', 2, " + T + ")");
        Path conn = connection("orders", "updated_at", 100);
        assertEquals(once(1), syncOnce(conn, "FULL"));
        assertEquals(1, BackflowCli.history(conn).get(0).get("invalid").asLong());
        Databases.execute(db, "INSERT INTO orders VALUES (NULL, 'c', 3, " + T + "), (2, 'd', 4, " + T + ")");
        assertEquals(once(2), syncOnce(conn, "INCREMENTAL"));
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals(1, run.get("invalid").asLong(), "only the new row without a key: " + run);
        assertEquals(once(), syncOnce(conn, "INCREMENTAL"));
        assertEquals(0, BackflowCli.history(conn).get(0).get("read").asLong());
    }
}
