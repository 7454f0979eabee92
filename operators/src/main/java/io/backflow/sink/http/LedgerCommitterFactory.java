package io.backflow.sink.http;

import io.backflow.ledger.LedgerCommittable;
import java.io.Serializable;
import org.apache.flink.api.connector.sink2.Committer;

/**
 * Creates the committer that applies the sink's committables; serializable because it travels
 * with the sink to the task managers (for example {@code () -> new LedgerCommitter(store)}).
 */
@FunctionalInterface
public interface LedgerCommitterFactory extends Serializable {
    Committer<LedgerCommittable> create();
}
