package io.backflow.sink.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DeliveryCommitter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.Test;

/**
 * The order of the two commits: the ledger never records a checkpoint whose Kafka transaction did
 * not commit. Kafka's committer is replaced by one that answers as told (the broker's answers are
 * covered by KafkaDestinationSinkITCase); the ledger side records what it was asked.
 */
class KafkaDeliveryCommitterTest {
    private static final DeliveryCommittable ROWS = new DeliveryCommittable("run", 0, 7, 10, 10, 0, 0, Map.of("s", "p9"), Set.of(),
            List.of(), io.backflow.model.MarkRows.EMPTY);
    private static final KafkaCommittable TX = new KafkaCommittable(42L, (short) 3, "backflow-orders-0-7", null);

    /** Kafka's side: answers every request with {@code answer}. */
    private static Committer<KafkaCommittable> kafka(List<String> calls, Consumer<Committer.CommitRequest<KafkaCommittable>> answer) {
        return new Committer<>() {
            @Override
            public void commit(Collection<CommitRequest<KafkaCommittable>> requests) {
                for (CommitRequest<KafkaCommittable> r : requests) {
                    calls.add("kafka " + r.getCommittable().getTransactionalId());
                    answer.accept(r);
                }
            }

            @Override
            public void close() {}
        };
    }

    private static final class Ledger implements DeliveryCommitter {
        final List<String> calls;
        boolean has;
        boolean retry;

        Ledger(List<String> calls) {
            this.calls = calls;
        }

        @Override
        public void commit(Collection<CommitRequest<DeliveryCommittable>> requests) {
            for (CommitRequest<DeliveryCommittable> r : requests) {
                calls.add("ledger " + r.getCommittable().checkpointId());
                if (retry) {
                    r.retryLater();
                } else {
                    has = true;
                }
            }
        }

        @Override
        public boolean isCommitted(DeliveryCommittable c) {
            return has;
        }

        @Override
        public void close() {}
    }

    /** The request Flink hands the committer, recording what it was told. */
    private static final class Request implements Committer.CommitRequest<KafkaDelivery> {
        final KafkaDelivery d = new KafkaDelivery(List.of(TX), ROWS);
        String outcome = "committed";
        Throwable error;

        @Override public KafkaDelivery getCommittable() { return d; }
        @Override public int getNumberOfRetries() { return 0; }
        @Override public void signalFailedWithKnownReason(Throwable t) { outcome = "failed (known)"; error = t; }
        @Override public void signalFailedWithUnknownReason(Throwable t) { outcome = "failed"; error = t; }
        @Override public void retryLater() { outcome = "retry"; }
        @Override public void updateAndRetryLater(KafkaDelivery c) { outcome = "retry"; }
        @Override public void signalAlreadyCommitted() { outcome = "already"; }
    }

    @Test
    void kafkaCommitsFirstThenTheLedger() throws Exception {
        List<String> calls = new ArrayList<>();
        Request r = new Request();
        new KafkaDeliveryCommitter(kafka(calls, x -> {}), new Ledger(calls)).commit(List.of(r));
        assertThat(calls).containsExactly("kafka backflow-orders-0-7", "ledger 7");
        assertThat(r.outcome).isEqualTo("committed");
    }

    @Test
    void aTransactionKafkaCannotCommitIsNeverRecordedDelivered() throws Exception {
        List<String> calls = new ArrayList<>();
        Request r = new Request();
        new KafkaDeliveryCommitter(kafka(calls, x -> x.signalFailedWithKnownReason(new ProducerFencedException("fenced"))), new Ledger(calls))
                .commit(List.of(r));
        assertThat(calls).containsExactly("kafka backflow-orders-0-7");
        assertThat(r.outcome).isEqualTo("failed");
        assertThat(r.error.getMessage()).contains("backflow-orders-0-7", "10 events may be lost", "next sync sends their rows again",
                "destination.transaction_timeout");
    }

    @Test
    void aTransactionCommittedBeforeARestoreIsFineWhenTheLedgerHasItsCheckpoint() throws Exception {
        List<String> calls = new ArrayList<>();
        Ledger ledger = new Ledger(calls);
        ledger.has = true;
        Request r = new Request();
        new KafkaDeliveryCommitter(kafka(calls, x -> x.signalFailedWithKnownReason(new ProducerFencedException("fenced"))), ledger)
                .commit(List.of(r));
        assertThat(r.outcome).isEqualTo("committed");
    }

    @Test
    void retriesKeepTheOrderAndCommitKafkaOnce() throws Exception {
        List<String> calls = new ArrayList<>();
        boolean[] kafkaRetry = {true};
        Ledger ledger = new Ledger(calls);
        KafkaDeliveryCommitter committer = new KafkaDeliveryCommitter(kafka(calls, x -> {
            if (kafkaRetry[0]) {
                x.retryLater();
            }
        }), ledger);
        Request r = new Request();
        committer.commit(List.of(r));
        assertThat(r.outcome).isEqualTo("retry");
        assertThat(calls).containsExactly("kafka backflow-orders-0-7");

        kafkaRetry[0] = false;
        ledger.retry = true;
        r = new Request();
        committer.commit(List.of(r));
        assertThat(r.outcome).isEqualTo("retry");

        ledger.retry = false;
        r = new Request();
        committer.commit(List.of(r));
        assertThat(r.outcome).isEqualTo("committed");
        assertThat(calls).containsExactly("kafka backflow-orders-0-7", "kafka backflow-orders-0-7", "ledger 7", "ledger 7");
    }

    @Test
    void theCommittableSurvivesItsSerializer() throws Exception {
        KafkaDeliverySerializer s = new KafkaDeliverySerializer(
                org.apache.flink.connector.kafka.sink.KafkaSink.<String>builder().setBootstrapServers("x:1")
                        .setRecordSerializer((e, c, t) -> null).build().getCommittableSerializer());
        KafkaDelivery back = s.deserialize(s.getVersion(), s.serialize(new KafkaDelivery(List.of(TX), ROWS)));
        assertThat(back.transactions()).singleElement().satisfies(t -> {
            assertThat(t.getTransactionalId()).isEqualTo("backflow-orders-0-7");
            assertThat(t.getProducerId()).isEqualTo(42L);
            assertThat(t.getEpoch()).isEqualTo((short) 3);
        });
        assertThat(back.delivery().checkpointId()).isEqualTo(7);
        assertThat(back.delivery().positions()).containsEntry("s", "p9");
    }

    @Test
    void theUserKeyIsTheUserIdElseTheAnonymousId() {
        assertThat(EventRecordSerializer.userId("{\"type\":\"identify\",\"traits\":{\"userId\":\"no\"},\"userId\":\"u-1\"}".getBytes()))
                .isEqualTo("u-1");
        assertThat(EventRecordSerializer.userId("{\"anonymousId\":\"a-1\",\"properties\":{}}".getBytes())).isEqualTo("a-1");
        assertThat(EventRecordSerializer.userId("{\"userId\":null,\"anonymousId\":\"a-2\"}".getBytes())).isEqualTo("a-2");
    }
}
