package io.backflow.source;

/** What one sync run reads: every row in scope, or only rows whose cursor moved past the last run. */
public enum SyncType {
    /** Every row, ordered and paged by primary key. */
    FULL,
    /** Rows with {@code (cursor, key...)} after the committed position, up to the high-water mark. */
    INCREMENTAL
}
