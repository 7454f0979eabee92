package io.backflow.source.enumerator;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.connector.source.SourceEvent;

/**
 * The enumerator tells every reader how many rows its splits hold, once it has counted them after
 * handing the splits out; readers turn it into their remaining-rows estimate.
 */
public final class SplitRowCounts implements SourceEvent {
    private static final long serialVersionUID = 1L;

    private final HashMap<String, Long> rowsBySplit;

    public SplitRowCounts(Map<String, Long> rowsBySplit) {
        this.rowsBySplit = new HashMap<>(rowsBySplit);
    }

    /** Rows in scope by split id. */
    public Map<String, Long> rowsBySplit() {
        return rowsBySplit;
    }
}
