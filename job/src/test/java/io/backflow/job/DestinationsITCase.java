package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.FakeApis;
import io.backflow.testing.FakeSfmc;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
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
 * Braze, Iterable, Mixpanel and Salesforce Marketing Cloud end to end, through the command line, against local servers that
 * speak their documented shapes ({@link FakeApis}): the rows a destination refuses in part are
 * PARTIAL and retried by the next sync, a stop while delivering resumes with every row once, and
 * what a destination cannot take is refused before anything runs.
 */
class DestinationsITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;
    HttpReceiver server;
    JdbcEndpoint db;
    final FakeApis.Taken taken = new FakeApis.Taken();
    /** Rows the fake refuses while set. */
    final AtomicBoolean refusing = new AtomicBoolean(true);

    @BeforeEach
    void start() throws Exception {
        server = HttpReceiver.start();
        db = Databases.newPostgresDatabase("destinations");
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, 'u-' || i, i, TIMESTAMP '2024-01-01' + i * INTERVAL '1 second' FROM generate_series(1, 600) i");
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** The destination section of each type, and its fake refusing orders 7, 70 and 500 while {@link #refusing}. */
    private String destination(String type) {
        Predicate<JsonNode> refuse = o -> refusing.get() && Map.of(7L, 1, 70L, 1, 500L, 1).containsKey(orderId(o));
        switch (type) {
            case "braze":
                server.respond(FakeApis.braze("bk", refuse, taken));
                return "destination: {type: braze, url: '" + server.baseUrl() + "', api_key: bk, batch_size: 50}";
            case "iterable":
                server.respond(FakeApis.iterable("ik", refuse, taken));
                return "destination: {type: iterable, url: '" + server.baseUrl() + "', api_key: ik, batch_size: 50}";
            default:
                server.respond(FakeApis.mixpanel("svc", "ms", "42", refuse, taken));
                return "destination: {type: mixpanel, url: '" + server.baseUrl() + "', service_account: svc, secret: ms, project_id: '42', batch_size: 50}";
        }
    }

    /** Which order an object the fake took is about, whatever the destination's shape. */
    private static long orderId(JsonNode o) {
        for (String container : new String[] {"properties", "dataFields"}) {
            if (o.has(container) && o.get(container).has("order_id")) {
                return o.get(container).get("order_id").asLong();
            }
        }
        return -1;
    }

    private Path connection(String type, String extra) {
        return BackflowCli.write(dir, type, String.join("\n",
                BackflowCli.ordersSource(db).replace("{amount: '{{ amount }}'}", "{amount: '{{ amount }}', order_id: '{{ id }}'}"),
                destination(type),
                extra,
                ""));
    }

    private Map<Long, Integer> takenPerOrder() {
        Map<Long, Integer> counts = new TreeMap<>();
        taken.objects.forEach(o -> counts.merge(orderId(o), 1, Integer::sum));
        return counts;
    }

    /** How many distinct rows the destination holds now. */
    java.util.function.IntSupplier takenSoFar = () -> takenPerOrder().size();
    int takenAfterFirstSync;

    /**
     * Syncs {@code conn} while the fake refuses orders 7, 70 and 500 (PARTIAL: 597 delivered, 3
     * failed), then again without refusals (the 3 delivered); returns the first sync's result.
     */
    private BackflowCli.Result syncIsPartialThenTheNextDeliversTheRest(Path conn) {
        BackflowCli.Result first = BackflowCli.sync(conn);
        assertEquals(4, first.exitCode(), first.toString());
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals("PARTIAL", run.get("status").asText(), run.toString());
        assertEquals(597, run.get("succeeded").asLong());
        assertEquals(3, run.get("failed").asLong());
        takenAfterFirstSync = takenSoFar.getAsInt();

        refusing.set(false);
        BackflowCli.Result retried = BackflowCli.sync(conn);
        assertEquals(0, retried.exitCode(), retried.toString());
        assertEquals(3, BackflowCli.history(conn).get(0).get("succeeded").asLong());
        return first;
    }

    @ParameterizedTest
    @ValueSource(strings = {"braze", "iterable", "mixpanel"})
    void refusedRowsArePartialAndTheNextSyncDeliversThem(String type) {
        Path conn = connection(type, "sync: {checkpoint_interval: 200ms}");
        BackflowCli.Result first = syncIsPartialThenTheNextDeliversTheRest(conn);
        // No timestamp mapped: Mixpanel would count a re-sent row twice, and the sync says so.
        assertEquals(type.equals("mixpanel"), first.out().contains("map timestamp: to a column"), first.out());
        assertEquals(597, takenAfterFirstSync);
        Map<Long, Integer> counts = takenPerOrder();
        assertEquals(600, counts.size());
        assertTrue(counts.values().stream().allMatch(n -> n == 1), "every order once: " + counts);
    }

    @ParameterizedTest
    @ValueSource(strings = {"braze", "iterable", "mixpanel"})
    void aStopWhileDeliveringResumesFromTheSavepointWithEveryRowOnce(String type) throws Exception {
        // 30 requests of 20, one at a time, each answered in 100 ms: the stop lands in the middle.
        refusing.set(false);
        Path conn = BackflowCli.write(dir, type, Files.readString(connection(type, String.join("\n",
                "sync:",
                "  checkpoint_interval: 200ms",
                "  savepoint_dir: " + dir.resolve("savepoints")))).replace("batch_size: 50", "batch_size: 20, max_in_flight: 1"));
        // A slow destination, so the stop lands in the middle.
        java.util.function.Function<HttpReceiver.ReceivedRequest, HttpReceiver.Response> fake = type.equals("braze")
                ? FakeApis.braze("bk", o -> false, taken) : type.equals("iterable") ? FakeApis.iterable("ik", o -> false, taken)
                : FakeApis.mixpanel("svc", "ms", "42", o -> false, taken);
        server.respond(r -> fake.apply(r).delayed(Duration.ofMillis(100)));
        CompletableFuture<BackflowCli.Result> sync = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (taken.objects.size() < 150 && !sync.isDone() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(2_000_000);
        }
        assertEquals(0, BackflowCli.run("stop", "--connection", conn.toString()).exitCode());
        assertEquals(3, sync.get(2, TimeUnit.MINUTES).exitCode());
        assertTrue(takenPerOrder().size() < 600);

        server.respond(fake);
        BackflowCli.Result resumed = BackflowCli.sync(conn);
        assertEquals(0, resumed.exitCode(), resumed.toString());
        assertTrue(resumed.out().contains("from its savepoint"), resumed.out());
        Map<Long, Integer> counts = takenPerOrder();
        assertEquals(600, counts.size());
        assertTrue(counts.values().stream().allMatch(n -> n == 1), "every order once: " + counts);
    }

    @Test
    void whatADestinationCannotTakeIsRefusedBeforeAnythingRuns() {
        Path mirror = BackflowCli.write(dir, "mirror", String.join("\n",
                "source: {url: '" + db.url() + "', user: postgres, table: orders, primary_key: id}",
                "mapping: {event_type: record, fields: {amount: '{{ amount }}'}}",
                "destination: {type: braze, url: 'https://rest.iad-01.braze.com', api_key: k}",
                "sync: {mode: mirror}", ""));
        BackflowCli.Result r = BackflowCli.sync(mirror);
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("destination.type: braze takes [track, identify] events, not record events"), r.err());
        assertTrue(r.err().contains("sync.mode: mirror sends deletes, and braze cannot take deletes; use mode: upsert"), r.err());

        Path identify = BackflowCli.write(dir, "identify", String.join("\n",
                BackflowCli.ordersSource(db).replace("event_type: track", "event_type: identify").replace("  event: Order Completed\n", "")
                        .replace("properties:", "traits:"),
                "destination: {type: mixpanel, project_token: t, batch_size: 5000}", ""));
        BackflowCli.Result m = BackflowCli.sync(identify);
        assertEquals(2, m.exitCode(), m.toString());
        assertTrue(m.err().contains("destination.type: mixpanel takes [track] events, not identify events"), m.err());
        assertTrue(m.err().contains("destination.batch_size: must be between 1 and 2000"), m.err());

        Path keyless = BackflowCli.write(dir, "keyless", String.join("\n", BackflowCli.ordersSource(db), "destination: {type: iterable}", ""));
        BackflowCli.Result k = BackflowCli.sync(keyless);
        assertEquals(2, k.exitCode(), k.toString());
        assertTrue(k.err().contains("destination.api_key: required for iterable"), k.err());
        assertEquals(0, server.requestCount());
    }

    @Test
    void sfmcRowsArePolledUntilCompleteAndTheRowsItRefusesArePartialAndDeliveredByTheNextSync() {
        FakeSfmc fake = new FakeSfmc("cid", "sfmc-secret-value", "Orders", "SubscriberKey",
                o -> refusing.get() && Map.of(7L, 1, 70L, 1, 500L, 1).containsKey(o.path("order_id").asLong()));
        server.respond(fake);
        Path conn = BackflowCli.write(dir, "sfmc", String.join("\n",
                BackflowCli.ordersSource(db).replace("{amount: '{{ amount }}'}", "{amount: '{{ amount }}', order_id: '{{ id }}'}"),
                "destination: {type: sfmc, url: '" + server.baseUrl() + "', auth_url: '" + server.baseUrl() + "', client_id: cid,"
                        + " client_secret: '${BACKFLOW_TEST_SFMC_SECRET:-sfmc-secret-value}', data_extension: Orders, batch_size: 50,"
                        + " poll_interval: 50ms}",
                "sync: {checkpoint_interval: 200ms}", ""));
        takenSoFar = () -> fake.rows().size();
        BackflowCli.Result first = syncIsPartialThenTheNextDeliversTheRest(conn);
        assertEquals(597, takenAfterFirstSync);
        assertTrue(fake.statusPolls() >= 12, "every request polled: " + fake.statusPolls());
        assertTrue(!first.out().contains("sfmc-secret-value") && !first.err().contains("sfmc-secret-value"), first.toString());
        assertEquals(2, fake.tokenRequests(), "one token per sync");
        assertEquals(600, fake.rows().size());
        assertEquals("u-500", fake.rows().get("u-500").get("SubscriberKey").asText());
        assertEquals("500", fake.rows().get("u-500").get("order_id").asText());
    }

    /**
     * Random stops (odd ones lose their savepoint, so the next sync resumes from the ledger alone),
     * then a drain, against each destination's fake: every row arrives, duplicates stay within the
     * one batch a stop can leave unacknowledged, and every run's counts reconcile.
     */
    @ParameterizedTest
    @ValueSource(strings = {"braze", "iterable", "mixpanel", "sfmc"})
    void randomStopsAndADrainLoseNothing(String type) throws Exception {
        long seed = Long.getLong("backflow.test.seed", System.nanoTime());
        System.out.println("DestinationsITCase " + type + " seed: " + seed + " (replay with -Dbackflow.test.seed=" + seed + ")");
        java.util.Random random = new java.util.Random(seed);
        refusing.set(false);
        Databases.execute(db, "INSERT INTO orders SELECT i, 'u-' || i, i, TIMESTAMP '2024-01-01' + i * INTERVAL '1 second' FROM generate_series(601, 1200) i");
        Path savepoints = dir.resolve("savepoints");
        String sync = String.join("\n", "sync:", "  checkpoint_interval: 200ms", "  savepoint_dir: " + savepoints);
        java.util.function.Function<HttpReceiver.ReceivedRequest, HttpReceiver.Response> fake;
        java.util.function.Supplier<Map<Long, Integer>> counts;
        Path conn;
        if (type.equals("sfmc")) {
            FakeSfmc sfmc = new FakeSfmc("cid", "sfmc-secret-value", "Orders", "SubscriberKey", o -> false);
            fake = sfmc;
            counts = () -> {
                Map<Long, Integer> c = new TreeMap<>();
                sfmc.upserts().forEach((k, n) -> c.put(Long.parseLong(k.substring(2)), n));
                return c;
            };
            conn = BackflowCli.write(dir, type, String.join("\n",
                    BackflowCli.ordersSource(db).replace("{amount: '{{ amount }}'}", "{amount: '{{ amount }}', order_id: '{{ id }}'}"),
                    "destination: {type: sfmc, url: '" + server.baseUrl() + "', auth_url: '" + server.baseUrl() + "', client_id: cid,"
                            + " client_secret: sfmc-secret-value, data_extension: Orders, batch_size: 20, max_in_flight: 1, poll_interval: 50ms}",
                    sync, ""));
        } else {
            fake = type.equals("braze") ? FakeApis.braze("bk", o -> false, taken) : type.equals("iterable") ? FakeApis.iterable("ik", o -> false, taken)
                    : FakeApis.mixpanel("svc", "ms", "42", o -> false, taken);
            counts = this::takenPerOrder;
            conn = BackflowCli.write(dir, type, Files.readString(connection(type, sync)).replace("batch_size: 50", "batch_size: 20, max_in_flight: 1"));
        }
        // Slow, so that stops land while rows are being delivered: 60 requests of 20, 40 ms each.
        server.respond(r -> fake.apply(r).delayed(Duration.ofMillis(40)));
        int stops = 0;
        for (int attempt = 0; attempt < 4; attempt++) {
            CompletableFuture<BackflowCli.Result> running = CompletableFuture.supplyAsync(() -> BackflowCli.sync(conn));
            int target = counts.get().size() + 1 + random.nextInt(200);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (counts.get().size() < target && !running.isDone() && System.nanoTime() < deadline) {
                LockSupport.parkNanos(5_000_000);
            }
            boolean drain = attempt == 3;
            BackflowCli.Result stop = drain ? BackflowCli.run("stop", "--connection", conn.toString(), "--drain")
                    : BackflowCli.run("stop", "--connection", conn.toString());
            assertEquals(0, stop.exitCode(), stop.toString());
            BackflowCli.Result r = running.get(2, TimeUnit.MINUTES);
            if (r.exitCode() == 3) {
                stops++;
                JsonNode run = BackflowCli.history(conn).get(0);
                assertEquals("CANCELLED", run.get("status").asText(), run.toString());
                if (drain) {
                    assertEquals(run.get("read").asLong(), run.get("succeeded").asLong(), "a drain delivers everything it read: " + run);
                }
                if (attempt % 2 == 1) {
                    BackflowCli.deleteTree(savepoints);
                }
            } else {
                assertEquals(0, r.exitCode(), r.toString());
            }
        }
        server.respond(fake);
        BackflowCli.Result last = BackflowCli.sync(conn);
        assertEquals(0, last.exitCode(), last.toString());
        assertTrue(stops >= 2, "only " + stops + " of 4 stops landed inside a sync");
        Map<Long, Integer> c = counts.get();
        assertEquals(1200, c.size(), "every row arrived");
        int duplicates = c.values().stream().mapToInt(n -> n - 1).sum();
        System.out.println("DestinationsITCase " + type + ": " + stops + " stops, " + duplicates + " duplicate deliveries");
        assertTrue(duplicates <= stops * 20, duplicates + " duplicates, more than one batch per stop (" + stops + " stops)");
        long succeeded = 0;
        for (JsonNode run : BackflowCli.history(conn)) {
            assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("failed").asLong() + run.get("invalid").asLong(),
                    run.toString());
            succeeded += run.get("succeeded").asLong();
        }
        assertEquals(1200, succeeded, "the ledger counts each row delivered once");
    }
}
