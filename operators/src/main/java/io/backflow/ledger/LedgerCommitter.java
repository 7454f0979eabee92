package io.backflow.ledger;

import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DeliveryCommitter;
import java.io.IOException;
import java.util.Collection;
import org.apache.flink.api.connector.sink2.Committer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies what the sink resolved to the ledger when Flink completes a checkpoint, so the ledger
 * only ever moves as far as a completed checkpoint (and so a savepoint) does.
 */
public final class LedgerCommitter implements DeliveryCommitter {
    private static final Logger LOG = LoggerFactory.getLogger(LedgerCommitter.class);

    private final LedgerStore store;
    private transient Ledger ledger;

    public LedgerCommitter(LedgerStore store) {
        this.store = store;
    }

    /** The sink's committers for {@code store}, whose writers stage row errors in the same ledger. */
    public static io.backflow.sink.CommitterFactory factory(LedgerStore store) {
        return new Factory(store);
    }

    private static final class Factory implements io.backflow.sink.CommitterFactory {
        private static final long serialVersionUID = 1L;
        private final LedgerStore store;

        Factory(LedgerStore store) {
            this.store = store;
        }

        @Override
        public DeliveryCommitter create() {
            return new LedgerCommitter(store);
        }

        @Override
        public io.backflow.sink.RowErrorStage errorStage() {
            return new LedgerErrorStage(store);
        }
    }

    @Override
    public void commit(Collection<CommitRequest<DeliveryCommittable>> requests) throws IOException {
        for (CommitRequest<DeliveryCommittable> request : requests) {
            try {
                if (ledger == null) {
                    ledger = store.open();
                }
                ledger.commit(request.getCommittable());
            } catch (LedgerException e) {
                // Never given up here: a dropped committable would lose the failures it records. When
                // Flink's retries (sink.committer.retries) run out it fails the task, which restores
                // from the checkpoint and commits the same committable again.
                LOG.warn("Could not write to the ledger (attempt {}), will retry: {}", request.getNumberOfRetries() + 1, e.getMessage());
                request.retryLater();
            }
        }
    }

    @Override
    public boolean isCommitted(DeliveryCommittable committable) throws IOException {
        try {
            if (ledger == null) {
                ledger = store.open();
            }
            return ledger.isCommitted(committable);
        } catch (LedgerException e) {
            throw new IOException("could not read the ledger: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (ledger != null) {
            ledger.close();
        }
        io.backflow.jdbc.JdbcDrivers.releaseOwnDrivers();
    }
}
