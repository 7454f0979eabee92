package io.backflow.source;

import io.backflow.source.split.WarehouseSplit;
import java.io.Serializable;
import java.util.List;

/**
 * Told once per sync run, by the split enumerator, what it planned: the high-water mark (an
 * encoded cursor value, or null without a cursor or on an empty table) and the splits. The ledger
 * implements it so a run is known finished only when every planned split was read to its end, and
 * keeps each split's descriptor ({@link io.backflow.source.split.WarehouseSplitSerializer#toBase64})
 * so a later run can resume a stopped run's splits without a savepoint
 * ({@link WarehouseSourceBuilder#resumeSplits}).
 *
 * <p>Called when a job starts fresh, never when it is restored from a checkpoint or savepoint.
 * Runs on the coordinator thread: keep it short.
 */
@FunctionalInterface
public interface SyncPlanListener extends Serializable {
    /**
     * @param splits every split of the run, immutable. A new plan: as planned, positions at their
     *     start and none finished. A resumed run: exactly the splits given to
     *     {@link WarehouseSourceBuilder#resumeSplits}, finished ones included.
     */
    void planned(String runId, String highWaterMark, List<WarehouseSplit> splits);
}
