package io.backflow.sink;

import java.io.Serializable;

/**
 * Creates the committer that applies the sink's committables; serializable because it travels
 * with the sink to the task managers (for example {@code () -> new LedgerCommitter(store)}).
 */
@FunctionalInterface
public interface CommitterFactory extends Serializable {
    DeliveryCommitter create();
}
