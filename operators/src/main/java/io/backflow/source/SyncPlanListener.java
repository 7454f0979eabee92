package io.backflow.source;

import java.io.Serializable;
import java.util.List;

/**
 * Told once per sync run, by the split enumerator, what it planned: the high-water mark (an
 * encoded cursor value, or null without a cursor or on an empty table) and the splits. The ledger
 * implements it so a run is known finished only when every planned split was read to its end.
 */
@FunctionalInterface
public interface SyncPlanListener extends Serializable {
    void planned(String runId, String highWaterMark, List<String> splitIds);
}
