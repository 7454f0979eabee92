package io.backflow.source.enumerator;

import io.backflow.source.split.WarehouseSplit;
import java.util.List;
import java.util.Map;

/** Counts the rows of splits for progress estimates: by split id, for the splits it could count. */
@FunctionalInterface
public interface SplitCounter {
    Map<String, Long> count(List<WarehouseSplit> splits) throws Exception;
}
