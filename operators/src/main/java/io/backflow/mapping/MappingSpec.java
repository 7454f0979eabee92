package io.backflow.mapping;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backflow.model.DeltaColumns;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * How a connection turns warehouse rows into {@code track}, {@code identify} or {@code record} events:
 * event type and name, id, timestamp and primary-key columns, the {@link Template properties/traits/fields
 * template}, and for diff syncs the {@link Builder#operationColumn operation column}.
 *
 * <p>Built with {@link #builder()}; {@link Builder#build()} rejects inconsistent specs and malformed
 * templates with one-line messages. Whether the named columns exist is only known once the query runs;
 * {@link #referencedColumns()} lets a config validator check that up front against the model. The
 * operation column and {@link DeltaColumns#ROWS} are not among them: only a diff sync's delta table has
 * them ({@link #deltaColumns()}). The template is kept as a JSON string so the spec stays {@link Serializable}.
 */
public final class MappingSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Default upper bound of one event's JSON size; RudderStack and Segment refuse events above 32 KB. */
    public static final int DEFAULT_MAX_EVENT_BYTES = 32 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String connectionName;
    private final EventType eventType;
    private final String eventName;
    private final String eventNameColumn;
    private final String userIdColumn;
    private final String anonymousIdColumn;
    private final String timestampColumn;
    private final String operationColumn;
    private final String messageIdScope;
    private final String versionColumn;
    private final List<String> primaryKey;
    private final String templateJson;
    private final int maxEventBytes;
    private final String libraryVersion;

    private MappingSpec(Builder b) {
        this.connectionName = b.connectionName;
        this.eventType = b.eventType;
        this.eventName = b.eventName;
        this.eventNameColumn = b.eventNameColumn;
        this.userIdColumn = b.userIdColumn;
        this.anonymousIdColumn = b.anonymousIdColumn;
        this.timestampColumn = b.timestampColumn;
        this.operationColumn = b.operationColumn;
        this.messageIdScope = b.messageIdScope;
        this.versionColumn = b.versionColumn;
        this.primaryKey = Collections.unmodifiableList(new ArrayList<>(b.primaryKey));
        this.templateJson = b.templateJson;
        this.maxEventBytes = b.maxEventBytes;
        this.libraryVersion = b.libraryVersion;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String connectionName() { return connectionName; }
    public EventType eventType() { return eventType; }
    /** The fixed event name of a track event, or null when it comes from {@link #eventNameColumn()} (or for identify). */
    public String eventName() { return eventName; }
    public String eventNameColumn() { return eventNameColumn; }
    public String userIdColumn() { return userIdColumn; }
    public String anonymousIdColumn() { return anonymousIdColumn; }
    public String timestampColumn() { return timestampColumn; }
    /** The column holding each row's {@code DeltaColumns.OP_*} operation (diff syncs), or null (cursor syncs). */
    public String operationColumn() { return operationColumn; }
    /** What message ids are unique within besides the connection, or null: see {@link Builder#messageIdScope}. */
    public String messageIdScope() { return messageIdScope; }
    /** The column whose value is part of each message id besides the content, or null: see {@link Builder#versionColumn}. */
    public String versionColumn() { return versionColumn; }
    public List<String> primaryKey() { return primaryKey; }
    /** The properties/traits/fields template as compact JSON. */
    public String templateJson() { return templateJson; }
    public int maxEventBytes() { return maxEventBytes; }
    public String libraryVersion() { return libraryVersion; }

    /** Parses the template tree (a fresh copy each call). */
    public JsonNode template() {
        try {
            return JSON.readTree(templateJson);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Stored mapping template is not JSON", e);
        }
    }

    /**
     * Every model column the mapping reads: primary key, ids, event name, timestamp, then the template's
     * references, in that order without duplicates. Excludes the {@link #deltaColumns()}, which the
     * model does not have.
     */
    public Set<String> referencedColumns() {
        ColumnIndex columns = new ColumnIndex();
        registerFixedColumns(columns);
        Template.compile(template(), columns);
        return columns.names();
    }

    /**
     * The referenced columns that {@code available} (a query's column names) lacks, matched as at run
     * time: exact name, else a unique case-insensitive match. Empty when the mapping fits the query.
     */
    public List<String> missingColumns(Collection<String> available) {
        String[] columns = available.toArray(new String[0]);
        List<String> missing = new ArrayList<>();
        for (String column : referencedColumns()) {
            if (!ColumnIndex.resolves(column, columns)) {
                missing.add(column);
            }
        }
        return missing;
    }

    /**
     * The columns a diff sync's delta table adds for the mapping: the {@link #operationColumn()} and
     * {@link DeltaColumns#ROWS}, in that order; empty without an operation column. Rows must carry them
     * at run time besides the {@link #referencedColumns()}.
     */
    public Set<String> deltaColumns() {
        ColumnIndex columns = new ColumnIndex();
        registerDeltaColumns(columns);
        return columns.names();
    }

    /** The columns referenced by the template alone. */
    public Set<String> templateColumns() {
        ColumnIndex columns = new ColumnIndex();
        Template.compile(template(), columns);
        return columns.names();
    }

    /** Registers the non-template columns; the order is relied on by {@link EventMapper}. */
    void registerFixedColumns(ColumnIndex columns) {
        for (String column : primaryKey) {
            columns.slot(column);
        }
        if (userIdColumn != null) {
            columns.slot(userIdColumn);
        }
        if (anonymousIdColumn != null) {
            columns.slot(anonymousIdColumn);
        }
        if (eventNameColumn != null) {
            columns.slot(eventNameColumn);
        }
        if (timestampColumn != null) {
            columns.slot(timestampColumn);
        }
    }

    /**
     * Registers the operation and rows columns, if any; {@link EventMapper} calls it right after
     * {@link #registerFixedColumns}, before the template, so the primary-key slots stay first.
     */
    void registerDeltaColumns(ColumnIndex columns) {
        if (operationColumn != null) {
            columns.slot(operationColumn);
            columns.slot(DeltaColumns.ROWS);
        }
    }

    @Override
    public String toString() {
        return "MappingSpec{" + connectionName + ", " + eventType + (eventName != null ? " '" + eventName + "'" : "")
                + (eventNameColumn != null ? " name from " + eventNameColumn : "") + ", key=" + primaryKey
                + (operationColumn != null ? ", operation from " + operationColumn : "") + "}";
    }

    /** Builds a {@link MappingSpec}. */
    public static final class Builder {
        private String connectionName;
        private EventType eventType;
        private String eventName;
        private String eventNameColumn;
        private String userIdColumn;
        private String anonymousIdColumn;
        private String timestampColumn;
        private String operationColumn;
        private String messageIdScope;
        private String versionColumn;
        private List<String> primaryKey = List.of();
        private String templateJson = "{}";
        private int maxEventBytes = DEFAULT_MAX_EVENT_BYTES;
        private String libraryVersion = defaultLibraryVersion();

        private Builder() {}

        public Builder connectionName(String connectionName) { this.connectionName = connectionName; return this; }
        public Builder eventType(EventType eventType) { this.eventType = eventType; return this; }
        /** A fixed event name for every row (track only). */
        public Builder eventName(String eventName) { this.eventName = eventName; return this; }
        /** A column holding each row's event name (track only). */
        public Builder eventNameColumn(String column) { this.eventNameColumn = column; return this; }
        public Builder userIdColumn(String column) { this.userIdColumn = column; return this; }
        public Builder anonymousIdColumn(String column) { this.anonymousIdColumn = column; return this; }
        /** Optional: a column with the time the event happened, for replaying history. */
        public Builder timestampColumn(String column) { this.timestampColumn = column; return this; }
        /**
         * Optional: the column holding each row's operation ({@code DeltaColumns.OP_*}), set for diff syncs
         * whose rows come from the delta table and also carry {@link DeltaColumns#ROWS}. Without it (cursor
         * syncs) every row is sent as is, and a record event's action is {@code upsert}.
         */
        public Builder operationColumn(String column) { this.operationColumn = column; return this; }

        /**
         * Makes message ids differ between scopes (a diff sync passes its delta table): a row that
         * goes from A to B and back to A is sent with a new id the second time, so a destination
         * that drops repeated ids within a window does not drop the change back. Rows of one scope,
         * resent after a stop or restart, keep their ids.
         */
        public Builder messageIdScope(String scope) { this.messageIdScope = scope; return this; }

        /**
         * Makes each message id depend on this column's value too (a cursor sync passes its cursor):
         * a row that goes from A to B and back to A moves its cursor each time, so the change back
         * gets a new id, which a destination that drops repeated ids within a window does not drop.
         * A row read again with the same cursor and content (a retry, a resumed run, the rows at
         * the mark) keeps its id. Not one of the {@link #referencedColumns()}: the query returns
         * the cursor anyway, and the diff's row hash must not change with it.
         */
        public Builder versionColumn(String column) { this.versionColumn = column; return this; }
        public Builder primaryKey(List<String> columns) { this.primaryKey = List.copyOf(columns); return this; }
        public Builder primaryKey(String... columns) { return primaryKey(List.of(columns)); }
        /** The properties (track), traits (identify) or fields (record) template; null means an empty object. */
        public Builder template(JsonNode template) {
            try {
                this.templateJson = template == null ? "{}" : JSON.writeValueAsString(template);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("Mapping template cannot be written as JSON: " + e.getOriginalMessage(), e);
            }
            return this;
        }
        /** The template as JSON text. */
        public Builder templateJson(String json) {
            try {
                return template(JSON.readTree(json));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("Mapping template is not valid JSON: " + e.getOriginalMessage(), e);
            }
        }
        public Builder maxEventBytes(int maxEventBytes) { this.maxEventBytes = maxEventBytes; return this; }
        public Builder libraryVersion(String libraryVersion) { this.libraryVersion = libraryVersion; return this; }

        /** @throws IllegalArgumentException naming the first inconsistent or missing setting */
        public MappingSpec build() {
            require(!blank(connectionName), "connectionName is required");
            require(eventType != null, "eventType is required (track, identify or record)");
            if (eventType == EventType.TRACK) {
                require(blank(eventName) != blank(eventNameColumn),
                        "a track mapping needs exactly one of eventName and eventNameColumn");
            } else {
                require(eventName == null && eventNameColumn == null,
                        (eventType == EventType.IDENTIFY ? "an identify" : "a record")
                                + " mapping has no event name (eventName/eventNameColumn are for track)");
            }
            // A record names its row by the identifiers; user ids are optional extras there.
            if (eventType != EventType.RECORD) {
                require(!blank(userIdColumn) || !blank(anonymousIdColumn),
                        "at least one of userIdColumn and anonymousIdColumn is required");
            }
            require(!primaryKey.isEmpty(), "primaryKey needs at least one column");
            require(primaryKey.stream().noneMatch(Builder::blank), "primaryKey has a blank column name");
            require(new LinkedHashSet<>(primaryKey).size() == primaryKey.size(), "primaryKey lists a column twice");
            require(maxEventBytes > 0, "maxEventBytes must be positive, got " + maxEventBytes);
            require(!blank(libraryVersion), "libraryVersion must not be blank");
            userIdColumn = blank(userIdColumn) ? null : userIdColumn;
            anonymousIdColumn = blank(anonymousIdColumn) ? null : anonymousIdColumn;
            eventName = blank(eventName) ? null : eventName;
            eventNameColumn = blank(eventNameColumn) ? null : eventNameColumn;
            timestampColumn = blank(timestampColumn) ? null : timestampColumn;
            operationColumn = blank(operationColumn) ? null : operationColumn;
            versionColumn = blank(versionColumn) ? null : versionColumn;
            MappingSpec spec = new MappingSpec(this);
            // Compile once so template syntax errors surface at config time, not on the first row.
            spec.referencedColumns();
            return spec;
        }

        private static boolean blank(String s) {
            return s == null || s.isBlank();
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException("Invalid mapping: " + message);
            }
        }

        private static String defaultLibraryVersion() {
            String v = MappingSpec.class.getPackage().getImplementationVersion();
            return v == null ? "dev" : v;
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof MappingSpec)) {
            return false;
        }
        MappingSpec s = (MappingSpec) o;
        return maxEventBytes == s.maxEventBytes && connectionName.equals(s.connectionName) && eventType == s.eventType
                && Objects.equals(eventName, s.eventName) && Objects.equals(eventNameColumn, s.eventNameColumn)
                && Objects.equals(userIdColumn, s.userIdColumn) && Objects.equals(anonymousIdColumn, s.anonymousIdColumn)
                && Objects.equals(timestampColumn, s.timestampColumn) && Objects.equals(operationColumn, s.operationColumn)
                && Objects.equals(messageIdScope, s.messageIdScope)
                && Objects.equals(versionColumn, s.versionColumn)
                && primaryKey.equals(s.primaryKey)
                && templateJson.equals(s.templateJson) && libraryVersion.equals(s.libraryVersion);
    }

    @Override
    public int hashCode() {
        return Objects.hash(connectionName, eventType, eventName, eventNameColumn, primaryKey, templateJson);
    }
}
