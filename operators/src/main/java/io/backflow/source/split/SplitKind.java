package io.backflow.source.split;

/** How a split reads its rows: by keyset position, or as the one scan of rows whose key is NULL. */
public enum SplitKind {
    /** Rows with a complete key, in keyset order, resumed strictly after the last row's position. */
    KEYSET,
    /**
     * Rows with a NULL in a primary-key column. They have no keyset position, so the split's
     * position is the number of rows emitted so far; they are read only to be reported invalid.
     */
    NULL_KEYS
}
