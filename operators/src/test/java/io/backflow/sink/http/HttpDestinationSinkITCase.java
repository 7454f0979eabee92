package io.backflow.sink.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backflow.sink.DeliveryCommittable;
import io.backflow.model.RowError;
import io.backflow.model.SyncRecord;
import io.backflow.testing.HttpReceiver;
import io.backflow.testing.HttpReceiver.ReceivedRequest;
import io.backflow.testing.HttpReceiver.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The sink in a real Flink job against a real HTTP receiver. */
class HttpDestinationSinkITCase {
    private static final String WRITE_KEY = "wk_test_123";
    private static final String SPLIT = "split-0";

    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private HttpReceiver receiver;
    private String runId;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
        runId = "run-" + UUID.randomUUID();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private TestSink segmentSink() {
        return TestSink.segment(receiver.baseUrl(), WRITE_KEY)
                .initialBackoff(Duration.ofMillis(10))
                .maxBackoff(Duration.ofMillis(100))
                // Batches are cut by size, checkpoints and end of input, not by a timer.
                .maxTimeInBuffer(Duration.ofHours(1))
                .runId(runId)
                .committerFactory(CollectingCommitter.factory(runId));
    }

    private void run(HttpDestinationSink sink, List<SyncRecord> records) throws Exception {
        run(sink, records, noRestarts());
    }

    private static Configuration noRestarts() {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        return conf;
    }

    private void run(HttpDestinationSink sink, List<SyncRecord> records, Configuration conf) throws Exception {
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.STREAMING);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.enableCheckpointing(200);
        env.fromData(records, TypeInformation.of(SyncRecord.class)).uid("records")
                .sinkTo(sink).uid("http-sink");
        env.execute("http sink test");
    }

    /** Every committable balances on its own, not only in sum. */
    private List<DeliveryCommittable> committed() {
        List<DeliveryCommittable> committed = CollectingCommitter.committed(runId);
        assertThat(committed).isNotEmpty();
        for (DeliveryCommittable c : committed) {
            assertThat(c.read()).as("read == succeeded + failed + invalid in %s", c)
                    .isEqualTo(c.succeeded() + c.failed() + c.invalid());
            assertThat(c.errors()).hasSize((int) (c.failed() + c.invalid()));
        }
        return committed;
    }

    private static List<RowError> errors(List<DeliveryCommittable> committed) {
        return committed.stream().flatMap(c -> c.errors().stream()).collect(Collectors.toList());
    }

    @Test
    void deliversEveryEventOnceInOrderWithTheWriteKey() throws Exception {
        run(segmentSink().maxBatchSize(50).maxInFlightRequests(1).build(), TestRecords.events(SPLIT, 300));

        assertThat(receiver.deliveredMessageIds()).containsExactlyElementsOf(TestRecords.messageIds(0, 300));
        assertThat(receiver.requests()).allSatisfy(r -> {
            assertThat(r.method()).isEqualTo("POST");
            assertThat(r.path()).isEqualTo("/v1/batch");
            assertThat(r.header("Content-Type")).isEqualTo("application/json");
            assertThat(r.basicAuthUser()).isEqualTo(WRITE_KEY);
            assertThat(r.basicAuthPassword()).isEmpty();
            assertThat(r.events()).hasSizeBetween(1, 50);
        });
        assertThat(receiver.requestCount()).isGreaterThanOrEqualTo(6);

        List<DeliveryCommittable> committed = committed();
        TestRecords.Totals t = TestRecords.Totals.of(committed);
        assertThat(t.read).isEqualTo(300);
        assertThat(t.succeeded).isEqualTo(300);
        assertThat(t.failed + t.invalid).isZero();
        DeliveryCommittable last = committed.get(committed.size() - 1);
        assertThat(last.positions()).containsEntry(SPLIT, "p299");
        assertThat(committed.stream().flatMap(c -> c.finishedSplits().stream())).containsExactly(SPLIT);
        assertThat(committed.stream().map(DeliveryCommittable::checkpointId).distinct()).hasSize(committed.size());
    }

    @Test
    void sendsTheWholeBufferBeforeEveryCheckpoint() throws Exception {
        // A full batch or the buffer timer would never trigger a send here: only checkpoints do.
        HttpDestinationSink sink = segmentSink().maxBatchSize(500).maxTimeInBuffer(Duration.ofHours(1)).build();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(noRestarts());
        env.setParallelism(1);
        env.enableCheckpointing(100);
        env.fromSource(new DataGeneratorSource<>(i -> TestRecords.event(SPLIT, i.intValue()), 30,
                                RateLimiterStrategy.perCheckpoint(5), TypeInformation.of(SyncRecord.class)),
                        WatermarkStrategy.noWatermarks(), "five per checkpoint").uid("records")
                .sinkTo(sink).uid("http-sink");
        env.execute("checkpoint drain test");

        assertThat(receiver.deliveredMessageIds()).containsExactlyInAnyOrderElementsOf(TestRecords.messageIds(0, 30));
        // committed() checks that each committable balances, which it cannot if events were
        // still buffered when it was made; several of them must have delivered something.
        List<DeliveryCommittable> committed = committed();
        assertThat(committed.stream().filter(c -> c.succeeded() > 0).count()).isGreaterThanOrEqualTo(3);
        assertThat(receiver.requestCount()).isGreaterThanOrEqualTo(3);
        assertThat(TestRecords.Totals.of(committed).succeeded).isEqualTo(30);
    }

    @Test
    void retriesServerErrorsAndCountsTheEventsOnce() throws Exception {
        receiver.enqueueStatuses(500, 500);

        run(segmentSink().maxBatchSize(100).maxInFlightRequests(1).build(), TestRecords.events(SPLIT, 10));

        // A checkpoint may split the events over more than one batch; the first is retried twice.
        List<ReceivedRequest> requests = receiver.requests();
        List<Integer> statuses = requests.stream().map(ReceivedRequest::answeredStatus).collect(Collectors.toList());
        assertThat(statuses).startsWith(500, 500, 200);
        assertThat(statuses.subList(3, statuses.size())).allMatch(s -> s == 200);
        assertThat(requests.get(1).messageIds()).isEqualTo(requests.get(0).messageIds());
        assertThat(requests.get(2).messageIds()).isEqualTo(requests.get(0).messageIds());
        assertThat(receiver.deliveredMessageIds()).containsExactlyElementsOf(TestRecords.messageIds(0, 10));
        TestRecords.Totals t = TestRecords.Totals.of(committed());
        assertThat(t.read).isEqualTo(10);
        assertThat(t.succeeded).isEqualTo(10);
        assertThat(t.failed).isZero();
    }

    @Test
    void waitsAsLongAsRetryAfterSays() throws Exception {
        receiver.enqueue(Response.status(429).header("Retry-After", "1"));

        run(segmentSink().maxBatchSize(100).maxInFlightRequests(1).maxBackoff(Duration.ofSeconds(5)).build(),
                TestRecords.events(SPLIT, 5));

        List<ReceivedRequest> requests = receiver.requests();
        assertThat(requests).extracting(ReceivedRequest::answeredStatus).startsWith(429, 200);
        assertThat(requests.get(1).messageIds()).isEqualTo(requests.get(0).messageIds());
        long gapMillis = (requests.get(1).arrivedNanos() - requests.get(0).arrivedNanos()) / 1_000_000;
        assertThat(gapMillis).as("retry came %d ms after the 429", gapMillis).isGreaterThanOrEqualTo(1000);
        assertThat(TestRecords.Totals.of(committed()).succeeded).isEqualTo(5);
    }

    @Test
    void isolatesTheOneEventTheDestinationRejects() throws Exception {
        receiver.rejectMessageIds(400, TestRecords.messageId(7));

        run(segmentSink().maxBatchSize(100).build(), TestRecords.events(SPLIT, 20));

        List<String> expected = new ArrayList<>(TestRecords.messageIds(0, 20));
        expected.remove(TestRecords.messageId(7));
        assertThat(receiver.deliveredMessageIds()).containsExactlyInAnyOrderElementsOf(expected);
        List<DeliveryCommittable> committed = committed();
        TestRecords.Totals t = TestRecords.Totals.of(committed);
        assertThat(t.read).isEqualTo(20);
        assertThat(t.succeeded).isEqualTo(19);
        assertThat(t.failed).isEqualTo(1);
        assertThat(errors(committed)).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(RowError.Kind.FAILED);
            assertThat(e.key()).isEqualTo(TestRecords.key(7));
            assertThat(e.messageId()).isEqualTo(TestRecords.messageId(7));
            assertThat(e.reason()).startsWith("HTTP 400: ").contains("invalid event in batch");
        });
    }

    @Test
    void failsFastOnARefusedWriteKeyWithoutRestarting() throws Exception {
        receiver.respond(r -> Response.status(401).body("{\"error\":\"bad key\"}"));
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));

        assertThatThrownBy(() -> run(segmentSink().maxInFlightRequests(1).build(), TestRecords.events(SPLIT, 5), conf))
                .satisfies(e -> {
                    assertThat(ExceptionUtils.findThrowable(e, SuppressRestartsException.class)).isPresent();
                    DestinationConfigurationException cause =
                            ExceptionUtils.findThrowable(e, DestinationConfigurationException.class).orElseThrow();
                    assertThat(cause.getMessage())
                            .isEqualTo("destination refused the write key (HTTP 401) at " + receiver.baseUrl()
                                    + "/v1/batch; check destination.write_key")
                            .doesNotContain(WRITE_KEY);
                });
        // A restart would have sent the batch again.
        assertThat(receiver.requestCount()).isEqualTo(1);
        assertThat(CollectingCommitter.committed(runId)).isEmpty();
    }

    @Test
    void recordsEveryEventAsFailedWhenRetriesRunOut() throws Exception {
        receiver.respond(r -> Response.status(503).body("upstream unavailable"));

        run(segmentSink().maxAttempts(3).maxBatchSize(100).build(), TestRecords.events(SPLIT, 5));

        // Three attempts per batch (a checkpoint may have split the five events into batches).
        assertThat(receiver.requestCount()).isGreaterThanOrEqualTo(3);
        assertThat(receiver.requestCount() % 3).isZero();
        assertThat(receiver.requests()).extracting(ReceivedRequest::answeredStatus).containsOnly(503);
        List<DeliveryCommittable> committed = committed();
        TestRecords.Totals t = TestRecords.Totals.of(committed);
        assertThat(t.read).isEqualTo(5);
        assertThat(t.failed).isEqualTo(5);
        assertThat(t.succeeded).isZero();
        assertThat(errors(committed)).extracting(RowError::reason)
                .containsOnly("HTTP 503 after 3 attempts: upstream unavailable");
        assertThat(errors(committed)).extracting(RowError::key)
                .containsExactlyInAnyOrder(TestRecords.key(0), TestRecords.key(1), TestRecords.key(2),
                        TestRecords.key(3), TestRecords.key(4));
    }

    @Test
    void countsInvalidAndOversizeRowsWithoutSendingThem() throws Exception {
        List<SyncRecord> records = new ArrayList<>();
        records.add(TestRecords.event(SPLIT, 0));
        records.add(SyncRecord.invalid(SPLIT, "p1", TestRecords.key(1), "no userId or anonymousId"));
        records.add(TestRecords.event(SPLIT, 2));
        records.add(SyncRecord.event(SPLIT, "p3", TestRecords.key(3), TestRecords.messageId(3), TestRecords.payload(3, 2000)));
        records.add(SyncRecord.splitEnd(SPLIT, "p3"));

        run(segmentSink().maxEventBytes(1000).build(), records);

        assertThat(receiver.deliveredMessageIds()).containsExactly(TestRecords.messageId(0), TestRecords.messageId(2));
        List<DeliveryCommittable> committed = committed();
        TestRecords.Totals t = TestRecords.Totals.of(committed);
        assertThat(t.read).isEqualTo(4);
        assertThat(t.succeeded).isEqualTo(2);
        assertThat(t.invalid).isEqualTo(2);
        assertThat(errors(committed)).extracting(RowError::kind).containsOnly(RowError.Kind.INVALID);
        assertThat(errors(committed)).extracting(RowError::key, RowError::reason).contains(
                org.assertj.core.groups.Tuple.tuple(TestRecords.key(1), "no userId or anonymousId"));
        assertThat(errors(committed)).filteredOn(e -> e.key().equals(TestRecords.key(3)))
                .singleElement().satisfies(e -> assertThat(e.reason()).contains("over the destination's limit of 1000 bytes"));
        assertThat(committed.get(committed.size() - 1).positions()).containsEntry(SPLIT, "p3");
    }

    @Test
    void webhookGetsAJsonArrayAndTheCustomHeaders() throws Exception {
        HttpDestinationSink sink = TestSink.webhook(receiver.webhookUrl(), Map.of("X-Api-Key", "secret-1", "X-Team", "growth"))
                .maxTimeInBuffer(Duration.ofMillis(50))
                .runId(runId)
                .committerFactory(CollectingCommitter.factory(runId))
                .build();

        run(sink, TestRecords.events(SPLIT, 12));

        assertThat(receiver.deliveredMessageIds()).containsExactlyInAnyOrderElementsOf(TestRecords.messageIds(0, 12));
        assertThat(receiver.requests()).allSatisfy(r -> {
            assertThat(r.path()).isEqualTo("/hook");
            assertThat(new String(r.body(), java.nio.charset.StandardCharsets.UTF_8)).startsWith("[{").endsWith("}]");
            assertThat(r.header("X-Api-Key")).isEqualTo("secret-1");
            assertThat(r.header("X-Team")).isEqualTo("growth");
            assertThat(r.header("Authorization")).isNull();
            // Sent with its length, not chunked: some APIs refuse chunked bodies.
            assertThat(r.header("Content-Length")).isEqualTo(String.valueOf(r.body().length));
            assertThat(r.header("Transfer-Encoding")).isNull();
        });
        assertThat(TestRecords.Totals.of(committed()).succeeded).isEqualTo(12);
    }

    @Test
    void splitsRequestsToStayUnderTheByteLimit() throws Exception {
        List<SyncRecord> records = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            records.add(SyncRecord.event(SPLIT, "p" + i, TestRecords.key(i), TestRecords.messageId(i), TestRecords.payload(i, 100)));
        }
        int eventBytes = TestRecords.payload(0, 100).length;

        run(segmentSink().maxBatchSize(500).maxEventBytes(eventBytes + 10).maxBatchBytes(1000).maxInFlightRequests(1).build(), records);

        assertThat(receiver.deliveredMessageIds()).containsExactlyElementsOf(TestRecords.messageIds(0, 40));
        assertThat(receiver.requests()).allSatisfy(r -> assertThat(r.bodyLength()).isLessThanOrEqualTo(1000));
        int perRequest = (1000 - 12) / (eventBytes + 1);
        assertThat(receiver.requestCount()).isGreaterThanOrEqualTo((40 + perRequest - 1) / perRequest);
        assertThat(TestRecords.Totals.of(committed()).succeeded).isEqualTo(40);
    }
}
