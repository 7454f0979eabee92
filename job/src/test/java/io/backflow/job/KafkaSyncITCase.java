package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.KafkaBroker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Syncs to a real Kafka broker through the command line: every row reaches the topic exactly once
 * for a {@code read_committed} consumer, across incremental syncs and random stops with and
 * without their savepoints, and the ledger's counts reconcile.
 */
class KafkaSyncITCase {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    @Order(1)
    static final KafkaBroker KAFKA = new KafkaBroker();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    @TempDir Path dir;
    JdbcEndpoint db;
    Path savepoints;

    @BeforeEach
    void start() {
        db = Databases.newPostgresDatabase("kafka");
        savepoints = dir.resolve("savepoints");
        Databases.execute(db, "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)");
    }

    private void insertOrders(int from, int to, String cursor) {
        Databases.execute(db, "INSERT INTO orders SELECT i, 'u' || (i % 50), i, " + cursor + " FROM generate_series(" + from + ", " + to + ") i");
    }

    private Path connection(String topic, String delivery, int parallelism, int pageSize) throws Exception {
        KAFKA.createTopic(topic, 3);
        return BackflowCli.write(dir, "orders", String.join("\n",
                BackflowCli.ordersSource(db, "  page_size: " + pageSize),
                "destination:",
                "  type: kafka",
                "  bootstrap_servers: " + KAFKA.bootstrapServers(),
                "  topic: " + topic,
                "  delivery: " + delivery,
                "  transaction_timeout: 5m",
                "  properties: {linger.ms: 5, compression.type: lz4}",
                "sync:",
                "  parallelism: " + parallelism,
                "  checkpoint_interval: 200ms",
                "  savepoint_dir: " + savepoints,
                ""));
    }

    /** Order id to how many times a read_committed consumer sees it. */
    private static Map<Long, Integer> counts(String topic) throws IOException {
        Map<Long, Integer> counts = new HashMap<>();
        for (ConsumerRecord<String, String> r : KAFKA.readCommitted(topic)) {
            long id = JSON.readTree(r.key()).get("id").asLong();
            JsonNode event = JSON.readTree(r.value());
            assertEquals(id, event.get("context").get("backflow").get("primary_key").get("id").asLong(), "key is the row's key");
            counts.merge(id, 1, Integer::sum);
        }
        return counts;
    }

    private static void assertEachOnce(Map<Long, Integer> counts, int rows) {
        List<Long> wrong = new ArrayList<>();
        for (long id = 1; id <= rows; id++) {
            if (counts.getOrDefault(id, 0) != 1) {
                wrong.add(id);
            }
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " rows not seen exactly once, e.g. " + wrong.subList(0, Math.min(10, wrong.size()))
                + " (counts " + wrong.stream().limit(10).map(id -> counts.getOrDefault(id, 0)).toList() + ")");
        assertEquals(rows, counts.size(), "no row outside the table");
    }

    private static void assertCountsReconcile(Path conn) {
        for (JsonNode run : BackflowCli.history(conn)) {
            assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong(),
                    run.toString());
        }
    }

    @Test
    void fullThenIncrementalSyncsPutEveryRowInTheTopicOnce() throws Exception {
        insertOrders(1, 2000, "TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL '1 second'");
        Path conn = connection("orders-eos", "exactly_once", 2, 500);
        BackflowCli.Result first = BackflowCli.sync(conn);
        assertEquals(0, first.exitCode(), first.toString());
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals("SUCCEEDED", run.get("status").asText());
        assertEquals(2000, run.get("succeeded").asLong());

        // Later rows, some at the committed high-water mark.
        insertOrders(2001, 2500, "TIMESTAMP '2024-01-01 00:00:00' + 2000 * INTERVAL '1 second'");
        BackflowCli.Result second = BackflowCli.sync(conn);
        assertEquals(0, second.exitCode(), second.toString());
        run = BackflowCli.history(conn).get(0);
        assertEquals("INCREMENTAL", run.get("type").asText());
        assertEquals(500, run.get("succeeded").asLong());
        assertEachOnce(counts("orders-eos"), 2500);
        assertCountsReconcile(conn);
    }

    @Test
    void randomStopsWithAndWithoutSavepointsLoseAndRepeatNothing() throws Exception {
        long seed = Long.getLong("backflow.test.seed", System.nanoTime());
        System.out.println("KafkaSyncITCase seed: " + seed + " (replay with -Dbackflow.test.seed=" + seed + ")");
        Random random = new Random(seed);
        // Enough rows that a sync streams for seconds: Kafka on loopback takes them as fast as they are read.
        int rows = 200_000;
        insertOrders(1, rows, "TIMESTAMP '2024-01-01 00:00:00' + (i / 7) * INTERVAL '1 second'");
        Path conn = connection("orders-stops", "exactly_once", 2, 5_000);
        int stops = 4;
        int stopped = 0;
        for (int attempt = 0; attempt <= stops; attempt++) {
            CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
            BackflowCli.Result result;
            if (attempt < stops) {
                long target = KAFKA.committedCount("orders-stops") + 1 + random.nextInt(rows / (stops + 2));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (KAFKA.committedCount("orders-stops") < target && !sync.isDone() && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(20_000_000);
                }
                BackflowCli.Result stop = BackflowCli.run("stop", "--connection", conn.toString());
                assertEquals(0, stop.exitCode(), stop.toString());
                result = sync.get(2, TimeUnit.MINUTES);
                if (result.exitCode() == 3) {
                    stopped++;
                    if (attempt % 2 == 1) {
                        BackflowCli.deleteTree(savepoints); // the next sync resumes from the ledger alone
                    }
                    continue;
                }
            } else {
                result = sync.get(2, TimeUnit.MINUTES);
            }
            assertEquals(0, result.exitCode(), result.toString());
            break;
        }
        System.out.println("KafkaSyncITCase: " + stopped + " of " + stops + " stops landed inside a sync");
        assertTrue(stopped >= 2, "only " + stopped + " of " + stops + " stops landed inside a sync");
        assertEquals("SUCCEEDED", BackflowCli.history(conn).get(0).get("status").asText());
        assertEachOnce(counts("orders-stops"), rows);
        assertCountsReconcile(conn);
        long succeeded = 0;
        for (JsonNode run : BackflowCli.history(conn)) {
            succeeded += run.get("succeeded").asLong();
        }
        assertEquals(rows, succeeded, "the ledger counts each row delivered once");
    }

    @Test
    void atLeastOnceDeliversEveryRowKeyedByUser() throws Exception {
        insertOrders(1, 1000, "TIMESTAMP '2024-01-01 00:00:00'");
        Path conn = BackflowCli.write(dir, "orders", Files.readString(connection("orders-alo", "at_least_once", 1, 1000))
                .replace("  delivery: at_least_once", "  delivery: at_least_once\n  key: user_id"));
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(0, r.exitCode(), r.toString());
        List<ConsumerRecord<String, String>> seen = KAFKA.readCommitted("orders-alo");
        assertEquals(1000, seen.size());
        for (ConsumerRecord<String, String> rec : seen) {
            assertEquals(JSON.readTree(rec.value()).get("userId").asText(), rec.key());
        }
        assertEquals(1000, BackflowCli.history(conn).get(0).get("succeeded").asLong());
    }

    @Test
    void aMirrorSyncPutsInsertsUpdatesAndDeletesOnTheTopic() throws Exception {
        Databases.execute(db, "CREATE TABLE customers (id BIGINT PRIMARY KEY, email TEXT, plan TEXT)",
                "INSERT INTO customers VALUES (1, 'a@example.com', 'free'), (2, 'b@example.com', 'pro'), (3, 'ç@example.com', NULL)");
        KAFKA.createTopic("customers", 1);
        Path conn = BackflowCli.write(dir, "customers", String.join("\n",
                "source:",
                "  url: " + db.url(),
                "  user: " + db.user(),
                "  password: " + db.password(),
                "  table: customers",
                "  primary_key: id",
                "mapping:",
                "  event_type: record",
                "  fields: {email: '{{ email }}', plan: '{{ plan }}'}",
                "destination:",
                "  type: kafka",
                "  bootstrap_servers: " + KAFKA.bootstrapServers(),
                "  topic: customers",
                "sync:",
                "  mode: mirror",
                "  checkpoint_interval: 200ms",
                ""));
        BackflowCli.Result first = BackflowCli.sync(conn);
        assertEquals(0, first.exitCode(), first.toString());
        Databases.execute(db, "DELETE FROM customers WHERE id = 2", "UPDATE customers SET plan = 'pro' WHERE id = 3",
                "INSERT INTO customers VALUES (4, 'd@example.com', 'free')");
        BackflowCli.Result second = BackflowCli.sync(conn);
        assertEquals(0, second.exitCode(), second.toString());

        List<String> seen = new ArrayList<>();
        for (ConsumerRecord<String, String> r : KAFKA.readCommitted("customers")) {
            JsonNode e = JSON.readTree(r.value());
            assertEquals(JSON.readTree(r.key()), e.get("identifiers"), "the record key is the row's key");
            String action = e.get("action").asText();
            seen.add(action + " " + e.get("identifiers").get("id").asLong()
                    + (action.equals("delete") ? "" : " " + e.get("fields").get("plan").asText() + " " + e.get("fields").get("email").asText()));
        }
        assertEquals(6, seen.size(), seen.toString());
        assertEquals(List.of("insert 1 free a@example.com", "insert 2 pro b@example.com", "insert 3 null ç@example.com"),
                seen.subList(0, 3).stream().sorted().toList(), "the first sync: " + seen);
        assertEquals(List.of("delete 2", "insert 4 free d@example.com", "update 3 pro ç@example.com"),
                seen.subList(3, 6).stream().sorted().toList(), "the second sync: " + seen);
    }
}
