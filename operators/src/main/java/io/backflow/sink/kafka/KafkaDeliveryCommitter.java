package io.backflow.sink.kafka;

import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DeliveryCommitter;
import java.io.IOException;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a checkpoint's Kafka transaction, then records its rows in the ledger: the ledger never
 * holds a row as delivered that a consumer reading {@code read_committed} cannot see.
 *
 * <p>When Kafka cannot commit a transaction any more (fenced, aborted or expired), it cannot say
 * whether it had been committed before. After a restore that is normal: the checkpoint's commit
 * ran before the stop, and the ledger shows it. If the ledger does not have it, the events may be
 * lost (the transaction timed out, for example), so the job fails instead of moving the ledger
 * past them; the next sync reads those rows again. Between the Kafka commit and the ledger write
 * a crash re-sends the checkpoint's rows on the next sync (duplicates, never a loss): consumers
 * that must see each event once drop repeated {@code messageId} headers.
 */
final class KafkaDeliveryCommitter implements Committer<KafkaDelivery> {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaDeliveryCommitter.class);

    private final Committer<KafkaCommittable> kafka;
    private final DeliveryCommitter ledger;
    /** Transactions committed by this committer whose ledger part still has to be written (ledger retries). */
    private final Set<String> committed = new HashSet<>();

    KafkaDeliveryCommitter(Committer<KafkaCommittable> kafka, DeliveryCommitter ledger) {
        this.kafka = kafka;
        this.ledger = ledger;
    }

    @Override
    public void commit(Collection<CommitRequest<KafkaDelivery>> requests) throws IOException, InterruptedException {
        for (CommitRequest<KafkaDelivery> request : requests) {
            KafkaDelivery d = request.getCommittable();
            Outcome kafkaOutcome = Outcome.DONE;
            for (KafkaCommittable t : d.transactions()) {
                String id = t.getTransactionalId() + "/" + t.getProducerId() + "/" + t.getEpoch();
                if (committed.contains(id)) {
                    continue;
                }
                Capture<KafkaCommittable> c = new Capture<>(t, request.getNumberOfRetries());
                kafka.commit(List.of(c));
                if (c.outcome == Outcome.FAILED_KNOWN && alreadyInLedger(d, t)) {
                    c.outcome = Outcome.DONE;
                }
                if (c.outcome != Outcome.DONE) {
                    kafkaOutcome = c.outcome;
                    if (c.outcome != Outcome.RETRY) {
                        request.signalFailedWithUnknownReason(lost(d, t, c.error));
                    }
                    break;
                }
                committed.add(id);
            }
            if (kafkaOutcome == Outcome.RETRY) {
                request.retryLater();
                continue;
            }
            if (kafkaOutcome != Outcome.DONE) {
                continue;
            }
            Capture<DeliveryCommittable> c = new Capture<>(d.delivery(), request.getNumberOfRetries());
            ledger.commit(List.of(c));
            switch (c.outcome) {
                case RETRY: request.retryLater(); break;
                case FAILED_KNOWN: request.signalFailedWithKnownReason(c.error); break;
                case FAILED_UNKNOWN: request.signalFailedWithUnknownReason(c.error); break;
                default:
                    for (KafkaCommittable t : d.transactions()) {
                        committed.remove(t.getTransactionalId() + "/" + t.getProducerId() + "/" + t.getEpoch());
                    }
            }
        }
    }

    /** Kafka refused to commit {@code t}; fine when the ledger has its checkpoint (a restore committing it again). */
    private boolean alreadyInLedger(KafkaDelivery d, KafkaCommittable t) throws IOException {
        if (!ledger.isCommitted(d.delivery())) {
            return false;
        }
        LOG.info("Kafka transaction {} of checkpoint {} was committed before this restore (its rows are in the ledger)",
                t.getTransactionalId(), d.delivery().checkpointId());
        return true;
    }

    private static IOException lost(KafkaDelivery d, KafkaCommittable t, Throwable error) {
        return new IOException("Kafka did not commit transaction " + t.getTransactionalId() + " ("
                + (error == null ? "no reason given" : error.getClass().getSimpleName() + ": " + error.getMessage()) + "): its "
                + d.delivery().succeeded() + " events may be lost, so they are not recorded as delivered and the next sync sends"
                + " their rows again. Kafka aborts a transaction left open longer than destination.transaction_timeout", error);
    }

    @Override
    public void close() throws Exception {
        try {
            kafka.close();
        } finally {
            ledger.close();
        }
    }

    private enum Outcome { DONE, RETRY, FAILED_KNOWN, FAILED_UNKNOWN }

    /** A commit request handed to an inner committer, remembering what it said. */
    private static final class Capture<T> implements CommitRequest<T> {
        private final T committable;
        private final int retries;
        Outcome outcome = Outcome.DONE;
        Throwable error;

        Capture(T committable, int retries) {
            this.committable = committable;
            this.retries = retries;
        }

        @Override public T getCommittable() { return committable; }
        @Override public int getNumberOfRetries() { return retries; }
        @Override public void signalFailedWithKnownReason(Throwable t) { outcome = Outcome.FAILED_KNOWN; error = t; }
        @Override public void signalFailedWithUnknownReason(Throwable t) { outcome = Outcome.FAILED_UNKNOWN; error = t; }
        @Override public void retryLater() { outcome = Outcome.RETRY; }
        @Override public void updateAndRetryLater(T committable) { outcome = Outcome.RETRY; }
        @Override public void signalAlreadyCommitted() { outcome = Outcome.DONE; }
    }
}
