package io.backflow.source;

/** What one sync run reads: every row in scope, or only rows whose cursor moved past the last run. */
public enum SyncType {
    /** Every row, ordered and paged by primary key. */
    FULL,
    /** Rows with {@code (cursor, key...)} after the committed position, up to the high-water mark. */
    INCREMENTAL,
    /**
     * Rows that changed since the last delivered snapshot (change detection by diff): the source
     * reads the run's delta table as a FULL read, so a source is never built with this type.
     */
    DIFF
}
