package io.backflow.sink;

import io.backflow.sink.DeliveryCommittable;
import java.io.Serializable;
import org.apache.flink.api.connector.sink2.Committer;

/**
 * Creates the committer that applies the sink's committables; serializable because it travels
 * with the sink to the task managers (for example {@code () -> new LedgerCommitter(store)}).
 */
@FunctionalInterface
public interface CommitterFactory extends Serializable {
    Committer<DeliveryCommittable> create();
}
