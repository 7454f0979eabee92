package io.backflow.diff;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.jdbc.SqlDialect;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a diff sync's delta lives: the delta table (one per planned run, shared by the runs that
 * resume it), the connection's snapshot table it was computed against, both in the ledger's
 * schema, and the primary-key columns as the model names them. Stored as JSON on the run.
 */
public record DeltaTable(String schema, String table, String snapshot, List<String> keys) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public DeltaTable {
        keys = List.copyOf(keys);
    }

    /** The delta table, quoted and qualified. */
    public String qualifiedTable(SqlDialect dialect) {
        return dialect.quoteIdentifier(schema) + "." + dialect.quoteIdentifier(table);
    }

    /** The snapshot table, quoted and qualified. */
    public String qualifiedSnapshot(SqlDialect dialect) {
        return dialect.quoteIdentifier(schema) + "." + dialect.quoteIdentifier(snapshot);
    }

    /** {@code schema.table}, unquoted: how the source is told which table to read. */
    public String sourceTable() {
        return schema + "." + table;
    }

    public String toJson() {
        ObjectNode n = JSON.createObjectNode().put("schema", schema).put("table", table).put("snapshot", snapshot);
        keys.forEach(n.putArray("keys")::add);
        return n.toString();
    }

    /** Reads {@link #toJson}'s output; null stays null. */
    public static DeltaTable fromJson(String json) {
        if (json == null) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(json);
            List<String> keys = new ArrayList<>();
            n.path("keys").forEach(k -> keys.add(k.asText()));
            return new DeltaTable(n.path("schema").asText(), n.path("table").asText(), n.path("snapshot").asText(), keys);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable delta descriptor: " + json, e);
        }
    }
}
