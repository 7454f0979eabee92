package io.backflow.sink.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.backflow.model.RowError;
import io.backflow.model.SyncRecord;
import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DestinationLimits;
import io.backflow.sink.sfmc.SfmcDestination;
import io.backflow.testing.FakeSfmc;
import io.backflow.testing.HttpReceiver;
import io.backflow.testing.HttpReceiver.ReceivedRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.flink.api.common.RuntimeExecutionMode;
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

/**
 * The SFMC destination through the real sink in a Flink job, against a local server speaking the
 * documented token and asynchronous data extension shapes ({@link FakeSfmc}): accepted rows are
 * polled until their result is known, only the rows SFMC refuses fail, an expired token is
 * renewed, a result that never comes fails its rows after the bounded wait, and a refused secret
 * stops the job with one line naming the settings.
 */
class SfmcSinkITCase {
    private static final String SPLIT = "split-0";
    private static final String CLIENT_ID = "client-abc";
    private static final String SECRET = "sfmc-secret-0123456789";
    /** With a space, so the path must be encoded. */
    private static final String DATA_EXTENSION = "Orders DE";

    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private HttpReceiver server;
    private String runId;

    @BeforeEach
    void start() throws Exception {
        server = HttpReceiver.start();
        runId = "run-" + UUID.randomUUID();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private FakeSfmc fake(Set<Integer> refused) {
        FakeSfmc fake = new FakeSfmc(CLIENT_ID, SECRET, DATA_EXTENSION, "SubscriberKey", item -> refused.contains(item.path("i").asInt(-1)));
        server.respond(fake);
        return fake;
    }

    private HttpDestinationSink.Builder sink(String secret, int batch, Duration maxRetryDuration) {
        SfmcDestination sfmc = new SfmcDestination(server.baseUrl(), server.baseUrl(), CLIENT_ID, secret, "12345", DATA_EXTENSION, null,
                Duration.ofMillis(20), new DestinationLimits(batch, 4_000_000, 100_000, 0, 0));
        return HttpDestinationSink.builder().destination(sfmc)
                .initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofMillis(50)).maxRetryDuration(maxRetryDuration)
                .maxTimeInBuffer(Duration.ofHours(1))
                .runId(runId).committerFactory(CollectingCommitter.factory(runId));
    }

    private static void run(HttpDestinationSink sink, List<SyncRecord> records) throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.STREAMING);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.enableCheckpointing(200);
        env.fromData(records, TypeInformation.of(SyncRecord.class)).uid("records").sinkTo(sink).uid("sfmc-sink");
        env.execute("sfmc sink test");
    }

    /** The run's totals, each committable balancing on its own. */
    private TestRecords.Totals totals() {
        List<DeliveryCommittable> committed = CollectingCommitter.committed(runId);
        for (DeliveryCommittable c : committed) {
            assertThat(c.read()).as("read == succeeded + failed + invalid in %s", c).isEqualTo(c.succeeded() + c.failed() + c.invalid());
        }
        return TestRecords.Totals.of(committed);
    }

    private List<RowError> errors() {
        return CollectingCommitter.committed(runId).stream().flatMap(c -> c.errors().stream()).collect(Collectors.toList());
    }

    private static int items(ReceivedRequest put) {
        try {
            return new ObjectMapper().readTree(put.body()).path("items").size();
        } catch (java.io.IOException e) {
            throw new AssertionError("unreadable PUT body", e);
        }
    }

    private static Set<String> userIds(int from, int to) {
        return IntStream.range(from, to).mapToObj(i -> "u-" + i).collect(Collectors.toSet());
    }

    @Test
    void everyRowIsUpsertedOnceAndDeliveredOnlyOnceItsStatusIsComplete() throws Exception {
        FakeSfmc fake = fake(Set.of()).pendingPolls(2);
        run(sink(SECRET, 50, Duration.ofSeconds(30)).maxInFlightRequests(2).build(), TestRecords.events(SPLIT, 120));

        TestRecords.Totals t = totals();
        assertThat(t.read).isEqualTo(120);
        assertThat(t.succeeded).isEqualTo(120);
        assertThat(t.failed).isZero();
        assertThat(fake.rows().keySet()).isEqualTo(userIds(0, 120));
        assertThat(fake.upserts().values()).allMatch(n -> n == 1);
        assertThat(fake.rows().get("u-7").get("i").asInt()).isEqualTo(7);
        // Requests of at most 50 rows (three, or more when a checkpoint flushes a partial batch), each polled
        // twice Pending and once Complete.
        List<ReceivedRequest> puts = server.requests().stream().filter(r -> r.method().equals("PUT")).collect(Collectors.toList());
        assertThat(puts).hasSizeGreaterThanOrEqualTo(3).allSatisfy(r -> {
            assertThat(r.path()).isEqualTo("/data/v1/async/dataextensions/key:" + DATA_EXTENSION + "/rows");
            assertThat(r.header("Authorization")).startsWith("Bearer tok-");
            assertThat(r.answeredStatus()).isEqualTo(202);
        });
        List<Integer> sizes = puts.stream().map(SfmcSinkITCase::items).collect(Collectors.toList());
        assertThat(sizes).allSatisfy(n -> assertThat(n).isBetween(1, 50));
        assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(120);
        assertThat(fake.statusPolls()).isEqualTo(3 * puts.size());
        assertThat(fake.tokenRequests()).as("one token, cached").isEqualTo(1);
        ReceivedRequest token = server.requests().get(0);
        assertThat(token.path()).isEqualTo("/v2/token");
        assertThat(token.events().get(0).get("account_id").asLong()).isEqualTo(12345);
        assertThat(token.events().get(0).get("grant_type").asText()).isEqualTo("client_credentials");
    }

    @Test
    void onlyTheRowsSfmcRefusesFailWithItsMessageAndTheOthersAreDelivered() throws Exception {
        Set<Integer> refused = Set.of(7, 33, 34, 90);
        FakeSfmc fake = fake(refused);
        run(sink(SECRET, 50, Duration.ofSeconds(30)).build(), TestRecords.events(SPLIT, 100));

        TestRecords.Totals t = totals();
        assertThat(t.read).isEqualTo(100);
        assertThat(t.succeeded).isEqualTo(96);
        assertThat(t.failed).isEqualTo(4);
        assertThat(errors()).extracting(RowError::key)
                .containsExactlyInAnyOrderElementsOf(refused.stream().map(TestRecords::key).collect(Collectors.toList()));
        assertThat(errors()).allSatisfy(e -> {
            assertThat(e.kind()).isEqualTo(RowError.Kind.FAILED);
            assertThat(e.reason()).isEqualTo("sfmc refused the row: UnexpectedError: " + FakeSfmc.REFUSAL);
        });
        Set<String> delivered = userIds(0, 100);
        refused.forEach(i -> delivered.remove("u-" + i));
        assertThat(fake.rows().keySet()).isEqualTo(delivered);
    }

    @Test
    void aRevokedTokenIsRenewedAndNothingIsLostAndNoTokenOrSecretIsStored() throws Exception {
        FakeSfmc fake = fake(Set.of(11)).revokeTokensEvery(3).echoCredentials(true);
        run(sink(SECRET, 20, Duration.ofSeconds(30)).maxInFlightRequests(1).build(), TestRecords.events(SPLIT, 100));

        TestRecords.Totals t = totals();
        assertThat(t.succeeded).isEqualTo(99);
        assertThat(t.failed).isEqualTo(1);
        Set<String> delivered = userIds(0, 100);
        delivered.remove("u-11");
        assertThat(fake.rows().keySet()).isEqualTo(delivered);
        assertThat(fake.unauthorized()).as("old tokens refused").isGreaterThan(0);
        assertThat(fake.tokenRequests()).isEqualTo(fake.unauthorized() + 1);
        RowError error = errors().get(0);
        assertThat(error.reason()).startsWith("sfmc refused the row: UnexpectedError: " + FakeSfmc.REFUSAL).contains("***")
                .doesNotContain(SECRET);
        for (String token : fake.issued) {
            assertThat(error.reason()).doesNotContain(token);
        }
    }

    @Test
    void rowsWhoseResultNeverComesFailAfterTheBoundedWaitAndTheCountsReconcile() throws Exception {
        FakeSfmc fake = fake(Set.of()).pendingPolls(Integer.MAX_VALUE);
        List<SyncRecord> records = new ArrayList<>(TestRecords.events(SPLIT, 30));
        records.add(0, SyncRecord.invalid(SPLIT, "p-x", "{\"id\":-1}", "no user id"));
        run(sink(SECRET, 10, Duration.ofMillis(600)).build(), records);

        TestRecords.Totals t = totals();
        assertThat(t.read).isEqualTo(31);
        assertThat(t.succeeded).isZero();
        assertThat(t.failed).isEqualTo(30);
        assertThat(t.invalid).isEqualTo(1);
        List<RowError> failed = errors().stream().filter(e -> e.kind() == RowError.Kind.FAILED).collect(Collectors.toList());
        assertThat(failed).hasSize(30).allSatisfy(e -> assertThat(e.reason())
                .matches("sfmc accepted the rows \\(request id [0-9a-f-]{36}\\) but did not report their result within PT0\\.6S"
                        + " \\(retry.max_duration\\); owed to the next sync"));
        // Polled until the deadline, not forever: three requests, each polled a few times.
        assertThat(fake.statusPolls()).isBetween(3, 60);
        assertThat(fake.rows()).hasSize(30);
    }

    @Test
    void aRefusedClientSecretStopsTheJobWithOneLineNamingTheSettings() {
        FakeSfmc fake = fake(Set.of());
        String wrong = "wrong-secret-9876543210";
        assertThatThrownBy(() -> run(sink(wrong, 50, Duration.ofSeconds(30)).build(), TestRecords.events(SPLIT, 10)))
                .satisfies(e -> {
                    assertThat(ExceptionUtils.findThrowable(e, SuppressRestartsException.class)).isPresent();
                    String message = ExceptionUtils.findThrowable(e, DestinationConfigurationException.class).orElseThrow().getMessage();
                    assertThat(message).startsWith("token endpoint " + server.baseUrl() + "/v2/token refused the client credentials (HTTP 401: ")
                            .endsWith("; check destination.client_id and destination.client_secret (and destination.account_id, if set)")
                            .contains("invalid_client").contains("***").doesNotContain(wrong).doesNotContain("\n");
                });
        // Not retried: at most one fetch per batch that was under way when the job failed.
        assertThat(fake.tokenRequests()).isBetween(1, 2);
        assertThat(fake.rows()).isEmpty();
        assertThat(CollectingCommitter.committed(runId)).isEmpty();
    }
}
