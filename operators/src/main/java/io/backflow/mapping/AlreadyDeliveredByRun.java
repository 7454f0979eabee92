package io.backflow.mapping;

import java.io.Serializable;

/**
 * Where the mapping of a continuous job finds, for each run it meets, what that run skips at its
 * start mark ({@link AlreadyDelivered}): every run continues from the mark the one before it
 * committed. The ledger implements it.
 */
@FunctionalInterface
public interface AlreadyDeliveredByRun extends Serializable {
    /** What run {@code runId} skips at its start mark. */
    AlreadyDelivered of(String runId);
}
