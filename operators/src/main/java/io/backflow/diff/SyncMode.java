package io.backflow.diff;

/** What a connection's syncs send: changed rows, changed rows and deletes, or every row every time. */
public enum SyncMode {
    /** Inserts and updates. */
    UPSERT,
    /** Inserts, updates and deletes, for destinations that can delete. */
    MIRROR,
    /** Every row in scope on every sync. */
    FULL;

    /** The name used in configuration files. */
    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
