package io.backflow.source.split;

/**
 * How a split reads its rows: by keyset position, as the one scan of rows whose key is NULL, or as
 * the one look-up of rows to retry by primary key.
 */
public enum SplitKind {
    /** Rows with a complete key, in keyset order, resumed strictly after the last row's position. */
    KEYSET,
    /**
     * Rows with a NULL in a primary-key column. They have no keyset position, so the split's
     * position is the number of rows emitted so far; they are read only to be reported invalid.
     */
    NULL_KEYS,
    /**
     * Rows the destination rejected in an earlier run, looked up by the primary-key values the
     * split carries (INCREMENTAL only), whatever their cursor. The split's position is how many of
     * its keys are done (see {@link WarehouseSplit#keysDone()}).
     */
    RETRY_KEYS
}
