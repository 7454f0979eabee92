package io.backflow.sink.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.backflow.ledger.LedgerCommittable;
import io.backflow.model.RowError;
import io.backflow.testing.HttpReceiver;
import io.backflow.testing.HttpReceiver.ReceivedRequest;
import io.backflow.testing.HttpReceiver.Response;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.connector.base.sink.writer.ResultHandler;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One batch's retries, bisection and classification against a real HTTP receiver, without Flink. */
class BatchDeliveryTest {
    private HttpReceiver receiver;
    private final List<DestinationClient> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        clients.forEach(DestinationClient::close);
        receiver.close();
    }

    /** A result handler that remembers how it was completed, and how often. */
    private static final class Outcome implements ResultHandler<DeliveryEntry> {
        final CompletableFuture<Exception> done = new CompletableFuture<>();
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public void complete() {
            calls.incrementAndGet();
            done.complete(null);
        }

        @Override
        public void completeExceptionally(Exception e) {
            calls.incrementAndGet();
            done.complete(e);
        }

        @Override
        public void retryForEntries(List<DeliveryEntry> entries) {
            calls.incrementAndGet();
            done.completeExceptionally(new AssertionError("BatchDelivery must not hand entries back to the base writer"));
        }

        Exception await() throws Exception {
            return done.get(30, TimeUnit.SECONDS);
        }
    }

    private final class Run {
        final DeliveryProgress progress = new DeliveryProgress();
        final SinkMetrics metrics = new SinkMetrics(new UnregisteredMetricsGroup());
        final Outcome outcome = new Outcome();
        final DestinationClient client;
        final RetryPolicy retry;

        Run(String url, Duration requestTimeout, RetryPolicy retry) {
            this.retry = retry;
            DestinationSettings settings = new DestinationSettings(RequestFormat.SEGMENT_BATCH, url, "wk", Map.of(), requestTimeout, retry);
            client = new DestinationClient(settings, metrics, "test");
            clients.add(client);
        }

        Exception deliver(int events) throws Exception {
            List<DeliveryEntry> batch = new ArrayList<>();
            for (int i = 0; i < events; i++) {
                batch.add(new DeliveryEntry(TestRecords.key(i), TestRecords.messageId(i), TestRecords.payload(i, 0)));
            }
            new BatchDelivery(batch, outcome, client, retry, progress, metrics, new DeliveryLog(client.endpoint())).start();
            Exception e = outcome.await();
            assertThat(outcome.calls).hasValue(1);
            return e;
        }

        LedgerCommittable result() {
            return progress.drain("run", 0, 1);
        }
    }

    private Run run(RetryPolicy retry) {
        return new Run(receiver.baseUrl(), Duration.ofSeconds(5), retry);
    }

    private static RetryPolicy quickRetries(int attempts) {
        return new RetryPolicy(attempts, Duration.ofMillis(5), Duration.ofMillis(20), Duration.ofMinutes(1));
    }

    @Test
    void bisectsUntilOnlyTheRefusedEventsFail() throws Exception {
        receiver.rejectMessageIds(422, TestRecords.messageId(3), TestRecords.messageId(12));
        Run run = run(quickRetries(3));

        assertThat(run.deliver(16)).isNull();

        LedgerCommittable c = run.result();
        assertThat(c.succeeded()).isEqualTo(14);
        assertThat(c.failed()).isEqualTo(2);
        assertThat(c.errors()).extracting(RowError::messageId).containsExactly(TestRecords.messageId(3), TestRecords.messageId(12));
        assertThat(c.errors()).allSatisfy(e -> assertThat(e.reason()).isEqualTo("HTTP 422: {\"error\":\"invalid event in batch\"}"));
        List<String> delivered = receiver.deliveredMessageIds();
        assertThat(delivered).hasSize(14).doesNotHaveDuplicates()
                .doesNotContain(TestRecords.messageId(3), TestRecords.messageId(12));
        // 16 -> 8+8 -> 4+4 per half -> 2+2 -> 1+1: far fewer requests than one per event.
        assertThat(receiver.requestCount()).isLessThanOrEqualTo(1 + 2 + 4 + 4 + 4);
        assertThat(run.metrics.eventsDelivered.getCount()).isEqualTo(14);
        assertThat(run.metrics.eventsFailed.getCount()).isEqualTo(2);
        assertThat(run.metrics.requestsSent.getCount()).isEqualTo(receiver.requestCount());
        assertThat(run.metrics.requestsInFlight).hasValue(0);
    }

    @Test
    void aSingleEventTooLargeForTheDestinationFails() throws Exception {
        receiver.respond(r -> Response.status(413).body("payload too large"));
        Run run = run(quickRetries(3));

        assertThat(run.deliver(1)).isNull();

        assertThat(receiver.requestCount()).isEqualTo(1);
        assertThat(run.result().errors()).singleElement()
                .satisfies(e -> assertThat(e.reason()).isEqualTo("HTTP 413: payload too large"));
    }

    @Test
    void retriesAfterServerErrorsWithTheSameEvents() throws Exception {
        receiver.enqueueStatuses(502, 503, 500);
        Run run = run(quickRetries(8));

        assertThat(run.deliver(4)).isNull();

        assertThat(receiver.requests()).extracting(ReceivedRequest::messageIds)
                .containsOnly(TestRecords.messageIds(0, 4));
        assertThat(run.result().succeeded()).isEqualTo(4);
        assertThat(run.metrics.retries.getCount()).isEqualTo(3);
    }

    @Test
    void refusedCredentialsFailTheJobWithoutRestarts() throws Exception {
        receiver.respond(r -> Response.status(403));
        Run run = run(quickRetries(8));

        Exception e = run.deliver(3);

        assertThat(e).isInstanceOf(SuppressRestartsException.class);
        assertThat(e.getCause()).isInstanceOf(DestinationConfigurationException.class)
                .hasMessage("destination refused the write key (HTTP 403) at " + receiver.baseUrl() + "/v1/batch; check destination.write_key");
        assertThat(receiver.requestCount()).isEqualTo(1);
        assertThat(run.result().isEmpty()).isTrue();
    }

    @Test
    void anUnknownEndpointNamesTheUrlSetting() throws Exception {
        receiver.respond(r -> Response.status(404));
        Exception e = run(quickRetries(8)).deliver(1);
        assertThat(e.getCause()).hasMessageContaining("(HTTP 404); check destination.url");
    }

    @Test
    void timeoutsAreRetriedThenFail() throws Exception {
        receiver.respond(r -> Response.ok().delayed(Duration.ofSeconds(2)));
        Run run = new Run(receiver.baseUrl(), Duration.ofMillis(200), quickRetries(2));

        assertThat(run.deliver(2)).isNull();

        assertThat(run.result().errors()).hasSize(2)
                .allSatisfy(err -> assertThat(err.reason()).startsWith("timeout after 2 attempts: HttpTimeoutException"));
    }

    @Test
    void connectionErrorsAreRetriedThenFail() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Run run = new Run("http://127.0.0.1:" + closedPort, Duration.ofSeconds(2), quickRetries(3));

        assertThat(run.deliver(2)).isNull();

        assertThat(run.result().errors()).hasSize(2)
                .allSatisfy(err -> assertThat(err.reason()).startsWith("I/O error after 3 attempts: ConnectException"));
        assertThat(run.metrics.requestsSent.getCount()).isEqualTo(3);
    }

    @Test
    void theRetryTimeBudgetEndsRetriesBeforeMaxAttempts() throws Exception {
        receiver.respond(r -> Response.status(503).body("busy"));
        RetryPolicy budget = new RetryPolicy(1000, Duration.ofMillis(20), Duration.ofMillis(50), Duration.ofMillis(300));
        Run run = run(budget);

        assertThat(run.deliver(2)).isNull();

        assertThat(receiver.requestCount()).isGreaterThan(1).isLessThan(1000);
        assertThat(run.result().errors()).hasSize(2).allSatisfy(err -> assertThat(err.reason())
                .startsWith("HTTP 503 after " + receiver.requestCount() + " attempts (retry time budget PT0.3S spent): busy"));
    }

    @Test
    void retryAfterBeyondTheBudgetFailsAtOnce() throws Exception {
        receiver.respond(r -> Response.status(429).header("Retry-After", "60"));
        RetryPolicy budget = new RetryPolicy(8, Duration.ofMillis(20), Duration.ofMinutes(2), Duration.ofSeconds(10));
        Run run = run(budget);

        assertThat(run.deliver(1)).isNull();

        assertThat(receiver.requestCount()).isEqualTo(1);
        assertThat(run.result().errors()).singleElement()
                .satisfies(err -> assertThat(err.reason()).startsWith("HTTP 429 after 1 attempts (retry time budget"));
    }
}
