package io.backflow.sink;

import java.io.Serializable;

/**
 * Creates the committer that applies the sink's committables; serializable because it travels
 * with the sink to the task managers (for example {@code () -> new LedgerCommitter(store)}).
 */
@FunctionalInterface
public interface CommitterFactory extends Serializable {
    DeliveryCommitter create();

    /**
     * Where a writer stages row errors beyond a few thousand per committable, opened on the task
     * manager; null keeps them all in the committable (a committer without durable storage).
     */
    default RowErrorStage errorStage() {
        return null;
    }
}
