package io.backflow.source.enumerator;

import io.backflow.source.split.WarehouseSplit;
import java.util.List;
import java.util.Map;

/** Counts the rows of splits for progress estimates: by split id, for the splits it could count. */
@FunctionalInterface
public interface SplitCounter {
    Map<String, Long> count(List<WarehouseSplit> splits) throws Exception;

    /**
     * Stops a count under way (the enumerator is closing): Flink's coordinator waits for its worker
     * thread when it closes, and a JDBC query does not heed an interrupt.
     */
    default void cancel() {}
}
