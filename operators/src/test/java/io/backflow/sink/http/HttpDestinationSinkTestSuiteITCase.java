package io.backflow.sink.http;

import io.backflow.sink.DeliveryCommittable;
import io.backflow.testing.HttpReceiver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.testframe.environment.MiniClusterTestEnvironment;
import org.apache.flink.connector.testframe.external.ExternalContextFactory;
import org.apache.flink.connector.testframe.external.ExternalSystemDataReader;
import org.apache.flink.connector.testframe.external.sink.DataStreamSinkV2ExternalContext;
import org.apache.flink.connector.testframe.external.sink.TestingSinkSettings;
import org.apache.flink.connector.testframe.junit.annotations.TestContext;
import org.apache.flink.connector.testframe.junit.annotations.TestEnv;
import org.apache.flink.connector.testframe.junit.annotations.TestSemantics;
import org.apache.flink.connector.testframe.testsuites.SinkTestSuiteBase;
import org.apache.flink.core.execution.CheckpointingMode;

/**
 * Flink's own sink test suite (basic sink, savepoint restart, scale up and down, metrics) run
 * against the HTTP sink and a real receiver. The sink is at least once: a retried request whose
 * first answer was lost, or rows re-read after a restore, arrive twice, so EXACTLY_ONCE is not
 * claimed.
 */
class HttpDestinationSinkTestSuiteITCase extends SinkTestSuiteBase<SuiteEvent> {

    @TestEnv
    MiniClusterTestEnvironment flink = new MiniClusterTestEnvironment();

    @TestContext
    ExternalContextFactory<ReceiverContext> receiver = testName -> new ReceiverContext();

    @TestSemantics
    CheckpointingMode[] semantics = new CheckpointingMode[] {CheckpointingMode.AT_LEAST_ONCE};

    /** One receiver per test case; the sink points at it and the reader reads what it got. */
    static final class ReceiverContext implements DataStreamSinkV2ExternalContext<SuiteEvent> {
        private final HttpReceiver receiver;

        ReceiverContext() {
            try {
                receiver = HttpReceiver.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Sink<SuiteEvent> createSink(TestingSinkSettings settings) {
            String runId = "suite-" + UUID.randomUUID();
            return new SuiteEventSink(TestSink.segment(receiver.baseUrl(), "suite-key")
                    .maxBatchSize(50)
                    .maxTimeInBuffer(Duration.ofMillis(100))
                    .runId(runId)
                    .committerFactory(BalanceCheckingCommitter::new)
                    .build());
        }

        @Override
        public ExternalSystemDataReader<SuiteEvent> createSinkDataReader(TestingSinkSettings settings) {
            return new ReceiverReader(receiver);
        }

        @Override
        public List<SuiteEvent> generateTestData(TestingSinkSettings settings, long seed) {
            Random random = new Random(seed);
            String split = "split-" + Long.toHexString(random.nextLong());
            int n = 100 + random.nextInt(200);
            List<SuiteEvent> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(new SuiteEvent(split, i));
            }
            return out;
        }

        @Override
        public TypeInformation<SuiteEvent> getProducedType() {
            return TypeInformation.of(SuiteEvent.class);
        }

        @Override
        public List<URL> getConnectorJarPaths() {
            return List.of();
        }

        @Override
        public void close() {
            receiver.close();
        }
    }

    /** Everything the receiver accepted, from the first request on; each poll returns what is new. */
    static final class ReceiverReader implements ExternalSystemDataReader<SuiteEvent> {
        private final HttpReceiver receiver;
        private int seen;

        ReceiverReader(HttpReceiver receiver) {
            this.receiver = receiver;
        }

        @Override
        public List<SuiteEvent> poll(Duration timeout) {
            try {
                receiver.awaitDelivered(seen + 1, timeout);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            var delivered = receiver.deliveredEvents();
            List<SuiteEvent> fresh = delivered.subList(seen, delivered.size()).stream()
                    .map(SuiteEvent::fromDelivered).collect(Collectors.toList());
            seen = delivered.size();
            return fresh;
        }

        @Override
        public void close() {}
    }

    /** Fails the job if a committable does not balance, so every suite case also checks the counts. */
    static final class BalanceCheckingCommitter implements io.backflow.sink.DeliveryCommitter {
        @Override
        public void commit(Collection<CommitRequest<DeliveryCommittable>> requests) {
            for (CommitRequest<DeliveryCommittable> r : requests) {
                DeliveryCommittable c = r.getCommittable();
                if (c.read() != c.succeeded() + c.failed() + c.invalid()) {
                    throw new IllegalStateException("unbalanced committable " + c);
                }
            }
        }

        @Override
        public boolean isCommitted(DeliveryCommittable c) {
            return false;
        }

        @Override
        public void close() {}
    }

}
