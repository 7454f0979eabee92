package io.backflow.job.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One connection, as read from its YAML file: where rows come from, how they become events,
 * where the events go, where the ledger lives and how the sync runs. Built only by
 * {@link ConfigLoader}, so an instance has passed validation. {@code toString} never shows secrets.
 */
public record ConnectionConfig(
        Path file,
        String name,
        boolean enabled,
        Source source,
        Mapping mapping,
        Destination destination,
        State state,
        Sync sync,
        Schedule schedule) {

    /** This connection with another source (the same one with resolved names). */
    public ConnectionConfig withSource(Source resolved) {
        return new ConnectionConfig(file, name, enabled, resolved, mapping, destination, state, sync, schedule);
    }

    /** Where rows come from. Exactly one of {@code table} and {@code sql} is set. */
    public record Source(
            JdbcEndpoint endpoint,
            String table,
            String sql,
            List<String> primaryKey,
            String cursor,
            Duration cursorDelay,
            int fetchSize,
            int pageSize,
            ChangeDetection changeDetection) {
        /** This source with the database's spelling of its table, key and cursor. */
        public Source withNames(String resolvedTable, List<String> resolvedKey, String resolvedCursor) {
            return new Source(endpoint, resolvedTable, sql, List.copyOf(resolvedKey), resolvedCursor, cursorDelay, fetchSize, pageSize, changeDetection);
        }

        @Override
        public String toString() {
            return "Source{" + endpoint + ", " + (table != null ? "table=" + table : "sql") + ", key=" + primaryKey + ", cursor=" + cursor + "}";
        }
    }

    /** How a sync finds the rows to send: by a growing cursor column, or by comparing with the last delivered snapshot. */
    public enum ChangeDetection { CURSOR, DIFF }

    /** How a row becomes an event. */
    public enum EventType { TRACK, IDENTIFY, RECORD }

    /** The event mapping; {@code template} is the properties (track), traits (identify) or fields (record) JSON-builder tree. */
    public record Mapping(
            EventType eventType,
            String event,
            String eventColumn,
            String userId,
            String anonymousId,
            String timestamp,
            JsonNode template) {}

    /** Kinds of destination. */
    public enum DestinationType {
        HTTP, WEBHOOK, BRAZE, ITERABLE, MIXPANEL, SFMC, KAFKA;

        /** Whether events go over HTTP requests (url, batching, retry and rate settings apply). */
        public boolean http() {
            return this != KAFKA;
        }
    }

    /** Where events go and the limits that protect it. */
    public record Destination(
            DestinationType type,
            String url,
            String writeKey,
            Map<String, String> headers,
            int batchSize,
            long maxRequestBytes,
            long maxEventBytes,
            int maxInFlight,
            Duration timeout,
            int maxAttempts,
            Duration initialBackoff,
            Duration maxBackoff,
            Duration maxRetryDuration,
            double requestsPerSecond,
            double eventsPerSecond,
            Map<String, String> options) {
        @Override
        public String toString() {
            return "Destination{" + type + " " + url + (writeKey == null ? "" : ", write_key=***") + ", headers=" + headers.keySet()
                    + ", options=" + options.keySet() + "}";
        }
    }

    /** Where the ledger lives, and how long the detail of finished runs is kept. */
    public record State(JdbcEndpoint endpoint, String schema, Duration retention) {}

    /**
     * How the Flink job runs. {@code savepointDir} is where a stopped sync's savepoint goes (a
     * URI); {@code flinkRestUrl}, when set, is the REST address of the cluster its jobs run on.
     */
    public record Sync(int parallelism, Duration checkpointInterval, String savepointDir, String flinkRestUrl,
            io.backflow.diff.SyncMode mode) {}
}
