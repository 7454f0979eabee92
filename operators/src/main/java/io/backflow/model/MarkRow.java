package io.backflow.model;

import java.io.Serializable;
import java.util.Objects;

/**
 * A row resolved at its run's high-water mark, as the ledger remembers it so the next run, which
 * reads that cursor value again, skips exactly the rows it already resolved in that form.
 *
 * @param key the row's primary-key values as a {@link io.backflow.jdbc.PositionCodec} string, or
 *     for a row without a complete key {@code row:} and a hash of all its values
 * @param version what was resolved: the event's messageId (which changes with the content), or
 *     for an invalid row an id of its key and reason
 */
public record MarkRow(String key, String version) implements Serializable {
    public MarkRow {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(version, "version");
    }

    /** Without the key: keys can be personal data. */
    @Override
    public String toString() {
        return "MarkRow{" + version + "}";
    }
}
