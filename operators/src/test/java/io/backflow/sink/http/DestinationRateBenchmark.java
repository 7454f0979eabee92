package io.backflow.sink.http;

import io.backflow.model.SyncRecord;
import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.Destination;
import io.backflow.sink.DestinationAnswer;
import io.backflow.sink.DestinationLimits;
import io.backflow.sink.DestinationRequest;
import io.backflow.sink.braze.BrazeDestination;
import io.backflow.sink.iterable.IterableDestination;
import io.backflow.sink.mixpanel.MixpanelDestination;
import io.backflow.sink.segment.SegmentDestination;
import io.backflow.sink.webhook.WebhookDestination;
import io.backflow.testing.FakeApis;
import io.backflow.testing.HttpReceiver;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Events and requests a second that the real sink sends each destination's local server, at the
 * API's documented rate and unthrottled, measured at the server (first to last request). A
 * benchmark, not a test: it asserts nothing and prints one table. Run with
 * {@code mvn -pl operators verify -Dtest=DestinationRateBenchmark -Dbackflow.bench=true -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "backflow.bench", matches = "true")
class DestinationRateBenchmark {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final List<String> TABLE = new ArrayList<>();

    private static byte[] track(int i) {
        return ("{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u-" + i + "\",\"messageId\":\"" + new UUID(0, i)
                + "\",\"timestamp\":\"2024-03-01T12:00:00Z\",\"properties\":{\"amount\":" + i + ",\"sku\":\"sku-" + (i % 97) + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] identify(int i) {
        return ("{\"type\":\"identify\",\"userId\":\"u-" + i + "\",\"messageId\":\"" + new UUID(0, i)
                + "\",\"timestamp\":\"2024-03-01T12:00:00Z\",\"traits\":{\"plan\":\"pro\",\"seats\":" + (i % 9) + "}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** Runs {@code events} events through the sink to {@code destination}; returns what the server saw. */
    private static void measure(String name, java.util.function.BiFunction<String, DestinationLimits, Destination> make, int batch, double rate,
            Function<HttpReceiver.ReceivedRequest, HttpReceiver.Response> api, boolean identify, int events, int inFlight) throws Exception {
        ConcurrentLinkedQueue<Long> arrivals = new ConcurrentLinkedQueue<>();
        try (HttpReceiver server = HttpReceiver.start()) {
            server.respond(r -> {
                arrivals.add(System.nanoTime());
                return api.apply(r);
            });
            // A rate of 0 is "none", not "the API's": the destination's own rate is taken away.
            Destination made = make.apply(server.baseUrl(), new DestinationLimits(batch, 100_000_000, 1_000_000, rate, 0));
            Destination d = rate == 0 ? withoutRate(made) : made;
            String runId = "bench-" + UUID.randomUUID();
            HttpDestinationSink sink = HttpDestinationSink.builder()
                    .destination(d)
                    .maxInFlightRequests(inFlight)
                    .maxTimeInBuffer(java.time.Duration.ofHours(1))
                    .runId(runId)
                    .committerFactory(CollectingCommitter.factory(runId))
                    .build();
            Configuration conf = new Configuration();
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(1);
            env.enableCheckpointing(1_000);
            // Generated as they are read: a collection source would ship every record inside the job.
            DataGeneratorSource<SyncRecord> source = new DataGeneratorSource<>(i -> i < events
                    ? SyncRecord.event("s", "p" + i, "{\"id\":" + i + "}", new UUID(0, i).toString(), identify ? identify((int) (long) i) : track((int) (long) i))
                    : SyncRecord.splitEnd("s", "p" + (events - 1)), events + 1L, TypeInformation.of(SyncRecord.class));
            env.fromSource(source, WatermarkStrategy.noWatermarks(), "records").uid("records").sinkTo(sink).uid("sink");
            env.execute(name);
            List<Long> t = new ArrayList<>(arrivals);
            t.sort(Long::compare);
            double seconds = (t.get(t.size() - 1) - t.get(0)) / 1e9;
            long delivered = TestRecords.Totals.of(CollectingCommitter.committed(runId)).succeeded;
            double rps = (t.size() - 1) / seconds;
            double eps = delivered * (t.size() - 1.0) / t.size() / seconds;
            double limit = d.limits().requestsPerSecond();
            String line = String.format("| %s | %,d | %,d | %.1f | %,.0f | %,.1f | %s |", name, delivered, t.size(), seconds, eps, rps,
                    limit == 0 ? "none" : String.format("%,.0f (%.1f%%)", limit, 100 * rps / limit));
            System.out.println("RATE " + line);
            TABLE.add(line);
        }
    }

    /** {@code d} without any rate. */
    private static Destination withoutRate(Destination d) {
        return new Destination() {
            @Override public String name() { return d.name(); }
            @Override public DestinationLimits limits() {
                DestinationLimits l = d.limits();
                return new DestinationLimits(l.eventsPerRequest(), l.bytesPerRequest(), l.bytesPerEvent(), 0, 0);
            }
            @Override public boolean canDelete() { return d.canDelete(); }
            @Override public int requestOverheadBytes() { return d.requestOverheadBytes(); }
            @Override public String displayEndpoint() { return d.displayEndpoint(); }
            @Override public List<String> secrets() { return d.secrets(); }
            @Override public Requests requests(List<DeliveryEntry> events) { return d.requests(events); }
            @Override public DestinationAnswer classify(DestinationRequest r, int s, HttpHeaders h, byte[] b) { return d.classify(r, s, h, b); }
        };
    }

    @Test
    void ratesPerDestination() throws Exception {
        FakeApis.Taken taken = new FakeApis.Taken();
        double braze = BrazeDestination.API_LIMITS.requestsPerSecond();
        double iterableTrack = IterableDestination.apiLimits(IterableDestination.Api.TRACK_BULK).requestsPerSecond();
        double iterableUsers = IterableDestination.apiLimits(IterableDestination.Api.BULK_UPDATE).requestsPerSecond();
        var brazeApi = FakeApis.braze("k", e -> false, taken);
        var iterableApi = FakeApis.iterable("k", e -> false, taken);
        var mixpanelApi = FakeApis.mixpanel("user", "secret", "123", e -> false, taken);
        Function<HttpReceiver.ReceivedRequest, HttpReceiver.Response> ok = r -> HttpReceiver.Response.ok().body("{}");

        java.util.function.BiFunction<String, DestinationLimits, Destination> brazeD = (u, l) -> new BrazeDestination(u, "k", null, l);
        java.util.function.BiFunction<String, DestinationLimits, Destination> iterableT =
                (u, l) -> new IterableDestination(u, "k", IterableDestination.Api.TRACK_BULK, false, l);
        java.util.function.BiFunction<String, DestinationLimits, Destination> iterableU =
                (u, l) -> new IterableDestination(u, "k", IterableDestination.Api.BULK_UPDATE, false, l);
        java.util.function.BiFunction<String, DestinationLimits, Destination> mixpanel = (u, l) -> new MixpanelDestination(u, "123", "user", "secret", l);
        java.util.function.BiFunction<String, DestinationLimits, Destination> segment = (u, l) -> new SegmentDestination(u, "wk", Map.of(), l);
        java.util.function.BiFunction<String, DestinationLimits, Destination> webhook = (u, l) -> new WebhookDestination(u + "/hook", Map.of(), l);

        // Warm-up (not reported): the first job in a JVM runs mostly in the interpreter.
        measure("warm-up", segment, 500, 0, ok, false, 100_000, 4);
        measure("warm-up", brazeD, 75, 0, brazeApi, false, 50_000, 8);
        taken.clear();
        TABLE.clear();
        // At the documented rate (Braze: 3,000 requests per 3 s; Iterable trackBulk 10/s, bulkUpdate 5/s), or a configured one.
        measure("braze, 75 per request, at its 1,000 req/s", brazeD, 75, braze, brazeApi, false, 100_000, 8);
        taken.clear();
        measure("iterable trackBulk, 1,000 per request, at its 10 req/s", iterableT, 1_000, iterableTrack, iterableApi, false, 100_000, 4);
        taken.clear();
        measure("iterable bulkUpdate, 1,000 per request, at its 5 req/s", iterableU, 1_000, iterableUsers, iterableApi, true, 50_000, 4);
        taken.clear();
        measure("braze, 75 per request, rate_limit 100 req/s", brazeD, 75, 100, brazeApi, false, 75_000, 8);
        taken.clear();
        measure("http (Segment), 100 per request, rate_limit 50 req/s", segment, 100, 50, ok, false, 50_000, 4);
        // Unthrottled: the same sink and servers, no rate.
        measure("braze, 75 per request, no rate", brazeD, 75, 0, brazeApi, false, 100_000, 8);
        taken.clear();
        measure("iterable trackBulk, 1,000 per request, no rate", iterableT, 1_000, 0, iterableApi, false, 100_000, 4);
        taken.clear();
        measure("mixpanel, 2,000 per request, no rate", mixpanel, 2_000, 0, mixpanelApi, false, 100_000, 4);
        taken.clear();
        measure("http (Segment), 500 per request, no rate", segment, 500, 0, ok, false, 100_000, 4);
        measure("webhook, 500 per request, no rate", webhook, 500, 0, ok, false, 100_000, 4);

        System.out.println("| destination | events | requests | seconds | events/s | requests/s | limit (measured/limit) |");
        System.out.println("|---|---|---|---|---|---|---|");
        TABLE.forEach(System.out::println);
    }
}
