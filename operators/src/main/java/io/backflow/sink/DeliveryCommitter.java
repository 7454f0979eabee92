package io.backflow.sink;

import java.io.IOException;
import org.apache.flink.api.connector.sink2.Committer;

/**
 * Applies the sink's committables (in Backflow, to the ledger), each exactly once, and can say
 * whether one was applied before: a sink that commits to its destination first (Kafka's
 * transactions) asks, when the destination can no longer tell whether it committed, so that it
 * never reports rows delivered that the destination may have dropped.
 */
public interface DeliveryCommitter extends Committer<DeliveryCommittable> {
    /** True when {@code committable} was applied, by this committer or an earlier attempt. */
    boolean isCommitted(DeliveryCommittable committable) throws IOException;
}
