package io.backflow.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.job.SyncPipeline;
import io.backflow.job.config.ConnectionConfig;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.commons.codec.digest.DigestUtils;

/**
 * What a connection's events are made of: a hash of its mapping, a hash of its model (table or
 * SQL, and cursor), and the database types of the columns the mapping, key and cursor use. A
 * change in any of them means rows already delivered may look different now, so the next sync is
 * FULL, and {@link #changeSince} says why in the user's words.
 */
final class Fingerprint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fingerprint() {}

    /** The fingerprint as JSON; {@code columnTypes} maps every column of the model to its type name. */
    static String of(ConnectionConfig config, Map<String, String> columnTypes) {
        ConnectionConfig.Mapping m = config.mapping();
        String mapping = String.join("\u0000", m.eventType().name(), String.valueOf(m.event()), String.valueOf(m.eventColumn()),
                String.valueOf(m.userId()), String.valueOf(m.anonymousId()), String.valueOf(m.timestamp()), m.template().toString(),
                String.join(",", config.source().primaryKey()));
        ConnectionConfig.Source s = config.source();
        String model = String.join("\u0000", String.valueOf(s.table()), String.valueOf(s.sql()), String.valueOf(s.cursor()));
        TreeSet<String> used = new TreeSet<>(SyncPipeline.mappingSpec(config).referencedColumns());
        used.addAll(s.primaryKey());
        if (s.cursor() != null) {
            used.add(s.cursor());
        }
        ObjectNode out = JSON.createObjectNode().put("mapping", sha256(mapping)).put("model", sha256(model))
                .put("mode", config.sync().mode().configName());
        ObjectNode columns = out.putObject("columns");
        Map<String, String> byLowerName = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        byLowerName.putAll(columnTypes);
        for (String c : used) {
            columns.put(c, byLowerName.getOrDefault(c, "?"));
        }
        return out.toString();
    }

    /** Why {@code current} differs from {@code previous}, or null when it does not (or cannot tell). */
    static String changeSince(String previous, String current) {
        if (previous == null || current == null) {
            return null;
        }
        try {
            JsonNode before = JSON.readTree(previous);
            JsonNode now = JSON.readTree(current);
            if (!before.path("model").equals(now.path("model"))) {
                return "the model (source.table, source.sql or source.cursor) changed";
            }
            if (!before.path("mapping").equals(now.path("mapping"))) {
                return "the mapping changed";
            }
            // Fingerprints written before modes existed have none: that is no change.
            if (before.has("mode") && !before.path("mode").equals(now.path("mode"))) {
                return "sync.mode changed from " + before.path("mode").asText() + " to " + now.path("mode").asText();
            }
            Iterator<Map.Entry<String, JsonNode>> it = now.path("columns").fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> c = it.next();
                JsonNode old = before.path("columns").get(c.getKey());
                if (old != null && !old.equals(c.getValue())) {
                    return "column " + c.getKey() + " changed type from " + old.asText() + " to " + c.getValue().asText();
                }
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The first 12 bytes of the SHA-256 of {@code s}, in hex. */
    private static String sha256(String s) {
        return DigestUtils.sha256Hex(s).substring(0, 24);
    }
}
