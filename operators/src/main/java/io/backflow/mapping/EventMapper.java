package io.backflow.mapping;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.core.io.SerializedString;
import io.backflow.jdbc.ValueCodec;
import io.backflow.model.DeltaColumns;
import io.backflow.source.SourceRow;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;

/**
 * Maps warehouse rows to RudderStack/Segment {@code track}, {@code identify} or {@code record} events as
 * described by a {@link MappingSpec}. Call {@link #open()} once, then {@link #map} per row; an instance is
 * not thread-safe.
 *
 * <p>Event shape (fields in this order; absent ids and the event name of identify are omitted):
 * <pre>{@code
 * {"type":"track","event":"Order Placed","userId":"42","anonymousId":"a-1","properties":{...},
 *  "timestamp":"2024-01-31T10:00:00Z","originalTimestamp":"2024-01-31T10:00:00Z",
 *  "messageId":"<uuid>","context":{"library":{"name":"backflow","version":"..."},
 *  "backflow":{"connection":"orders","run_id":"...","primary_key":{"id":5}}}}
 * }</pre>
 * Identify writes {@code traits} instead of {@code properties}. A record (RudderStack's reverse-ETL
 * record event) has no event name; it names its row by {@code identifiers}, the primary-key object, and
 * carries the template as {@code fields}. It needs no user id; configured id columns are written when set:
 * <pre>{@code
 * {"type":"record","action":"insert","identifiers":{"id":5},"userId":"42","fields":{...},
 *  "messageId":"<uuid>","timestamp":"2025-06-01T12:00:00Z","context":{...}}
 * }</pre>
 * Ids are strings even when the column is numeric. With a timestamp column, {@code timestamp} and
 * {@code originalTimestamp} are its value in UTC (zone-less values are read as UTC; a NULL falls back as
 * below); without one, {@code timestamp} is the mapping time (to the millisecond) and
 * {@code originalTimestamp} is omitted.
 *
 * <p>With an {@link MappingSpec#operationColumn() operation column} (diff syncs, rows from the delta
 * table) each row's operation decides: {@code insert} and {@code update} map as usual, and are a record's
 * {@code action}; {@code delete} becomes a record with {@code "action":"delete"} and empty {@code fields}
 * (the delta row's other columns are NULL, so neither the template, the ids nor the timestamp column
 * are read), and makes a track or identify row invalid; {@code duplicate} (the key is in several model
 * rows, {@link DeltaColumns#ROWS}) and any other value make the row invalid. A null primary key is
 * reported before the operation. Without an operation column (cursor syncs) a record's action is
 * {@code upsert}: a cursor sees changed rows but cannot tell an insert from an update.
 *
 * <p>The event is streamed straight into a reused buffer with Jackson; its content fields (everything
 * before {@code messageId}, including a record's action) are written first so the
 * {@link MessageIds messageId} can be hashed from those very bytes.
 */
public final class EventMapper implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final SerializedString TYPE = new SerializedString("type");
    private static final SerializedString EVENT = new SerializedString("event");
    private static final SerializedString ACTION = new SerializedString("action");
    private static final SerializedString IDENTIFIERS = new SerializedString("identifiers");
    private static final SerializedString FIELDS = new SerializedString("fields");
    private static final SerializedString INSERT = new SerializedString(DeltaColumns.OP_INSERT);
    private static final SerializedString UPDATE = new SerializedString(DeltaColumns.OP_UPDATE);
    private static final SerializedString DELETE = new SerializedString(DeltaColumns.OP_DELETE);
    private static final SerializedString UPSERT = new SerializedString("upsert");
    private static final SerializedString USER_ID = new SerializedString("userId");
    private static final SerializedString ANONYMOUS_ID = new SerializedString("anonymousId");
    private static final SerializedString PROPERTIES = new SerializedString("properties");
    private static final SerializedString TRAITS = new SerializedString("traits");
    private static final SerializedString TIMESTAMP = new SerializedString("timestamp");
    private static final SerializedString ORIGINAL_TIMESTAMP = new SerializedString("originalTimestamp");
    private static final SerializedString MESSAGE_ID = new SerializedString("messageId");
    private static final SerializedString CONTEXT = new SerializedString("context");
    private static final SerializedString CLOSE_CONTEXT = new SerializedString("}}");

    private final MappingSpec spec;
    private final Clock clock;

    private transient JsonFactory json;
    private transient ColumnIndex columns;
    private transient Template template;
    private transient MessageIds messageIds;
    private transient Buffer event;
    private transient Buffer key;
    private transient byte[] connectionBytes;
    private transient SerializedString[] keyNames;
    private transient SerializedString eventName;
    private transient SerializedString typeName;
    private transient SerializedString contentName;
    private transient boolean record;
    private transient JsonGenerator eventGenerator;
    private transient JsonGenerator keyGenerator;
    private transient String contextRunId;
    private transient SerializedString contextPrefix;
    private transient long nowMillis;
    private transient String nowText;
    // Slots of the fixed columns, -1 when not configured.
    private transient int userIdSlot;
    private transient int anonymousIdSlot;
    private transient int eventNameSlot;
    private transient int timestampSlot;
    private transient int operationSlot;
    private transient int rowsSlot;
    // The version column's slot (-1 without one) and its value's bytes for the message id.
    private transient int versionSlot;
    private transient org.apache.flink.core.memory.DataOutputSerializer version;

    public EventMapper(MappingSpec spec) {
        this(spec, Clock.systemUTC());
    }

    /** With the clock that stamps events of mappings without a timestamp column (tests pass a fixed one). */
    public EventMapper(MappingSpec spec, Clock clock) {
        this.spec = spec;
        this.clock = clock;
    }

    public MappingSpec spec() {
        return spec;
    }

    /** Compiles the mapping; column names are resolved against the first row. */
    public void open() {
        json = JsonFactory.builder()
                .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
                .build();
        columns = new ColumnIndex();
        spec.registerFixedColumns(columns);
        spec.registerDeltaColumns(columns);
        keyNames = spec.primaryKey().stream().map(SerializedString::new).toArray(SerializedString[]::new);
        userIdSlot = spec.userIdColumn() == null ? -1 : columns.slot(spec.userIdColumn());
        anonymousIdSlot = spec.anonymousIdColumn() == null ? -1 : columns.slot(spec.anonymousIdColumn());
        eventNameSlot = spec.eventNameColumn() == null ? -1 : columns.slot(spec.eventNameColumn());
        timestampSlot = spec.timestampColumn() == null ? -1 : columns.slot(spec.timestampColumn());
        operationSlot = spec.operationColumn() == null ? -1 : columns.slot(spec.operationColumn());
        rowsSlot = spec.operationColumn() == null ? -1 : columns.slot(DeltaColumns.ROWS);
        eventName = spec.eventName() == null ? null : new SerializedString(spec.eventName());
        typeName = new SerializedString(spec.eventType().wireName());
        record = spec.eventType() == EventType.RECORD;
        contentName = record ? FIELDS : spec.eventType() == EventType.TRACK ? PROPERTIES : TRAITS;
        eventGenerator = null;
        keyGenerator = null;
        contextRunId = null;
        nowText = null;
        template = Template.compile(spec.template(), columns);
        // After the template: a slot of this mapper's own index, not one of the spec's referenced columns.
        versionSlot = spec.versionColumn() == null ? -1 : columns.slot(spec.versionColumn());
        messageIds = new MessageIds();
        version = spec.versionColumn() == null ? null : new org.apache.flink.core.memory.DataOutputSerializer(32);
        event = new Buffer(1024);
        key = new Buffer(64);
        connectionBytes = (spec.connectionName() + (spec.messageIdScope() == null ? "" : "\u0000" + spec.messageIdScope()))
                .getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Maps one row (not a split end).
     *
     * @throws IllegalArgumentException when the row lacks a column the mapping references (a configuration error)
     */
    public MappedRow map(SourceRow row, String runId) {
        if (template == null) {
            throw new IllegalStateException("EventMapper.open() was not called");
        }
        Object[] values = row.values();
        int[] at = columns.bind(row.columns());
        try {
            // Primary-key slots come first (see MappingSpec.registerFixedColumns).
            String nullKeyColumn;
            try {
                nullKeyColumn = writeKey(values, at);
            } catch (IOException | RuntimeException e) {
                discard(keyGenerator);
                keyGenerator = null;
                throw e;
            }
            String keyJson = key.utf8();
            if (nullKeyColumn != null) {
                return MappedRow.invalid(keyJson, "primary key column '" + nullKeyColumn + "' is null");
            }
            SerializedString action = record ? UPSERT : null;
            if (operationSlot >= 0) {
                Object operation = values[at[operationSlot]];
                if (DeltaColumns.OP_INSERT.equals(operation)) {
                    action = record ? INSERT : null;
                } else if (DeltaColumns.OP_UPDATE.equals(operation)) {
                    action = record ? UPDATE : null;
                } else if (DeltaColumns.OP_DELETE.equals(operation)) {
                    if (!record) {
                        // The configuration only pairs deletes with record events; this guards the pipeline.
                        return MappedRow.invalid(keyJson, "row was deleted, and " + spec.eventType().wireName()
                                + " events cannot delete; use event_type: record with mode: mirror");
                    }
                    // A delete row has only its key: everything else is NULL, so nothing else is read.
                    return writeEvent(values, at, runId, keyJson, DELETE, null, null, null, null);
                } else if (DeltaColumns.OP_DUPLICATE.equals(operation)) {
                    return MappedRow.invalid(keyJson, "primary key appears in " + rowCount(values[at[rowsSlot]])
                            + " rows of the model; primary keys must be unique");
                } else {
                    return MappedRow.invalid(keyJson, operation == null
                            ? "operation column '" + spec.operationColumn() + "' is null"
                            : "operation column '" + spec.operationColumn() + "' has unknown value "
                                    + quoted(ColumnValues.text(operation))
                                    + " (expected insert, update, delete or duplicate)");
                }
            }
            String userId = userIdSlot < 0 ? null : ColumnValues.text(values[at[userIdSlot]]);
            String anonymousId = anonymousIdSlot < 0 ? null : ColumnValues.text(values[at[anonymousIdSlot]]);
            userId = ColumnValues.isBlank(userId) ? null : userId;
            anonymousId = ColumnValues.isBlank(anonymousId) ? null : anonymousId;
            if (userId == null && anonymousId == null && !record) {
                return MappedRow.invalid(keyJson, noUserIdReason());
            }
            String nameFromColumn = null;
            if (eventNameSlot >= 0) {
                nameFromColumn = ColumnValues.text(values[at[eventNameSlot]]);
                if (ColumnValues.isBlank(nameFromColumn)) {
                    return MappedRow.invalid(keyJson, "event name column '" + spec.eventNameColumn() + "' is null or blank");
                }
            }
            String timestamp = null;
            if (timestampSlot >= 0) {
                Object tsValue = values[at[timestampSlot]];
                if (tsValue != null) {
                    Instant instant = EventTimestamps.toInstant(tsValue);
                    if (instant == null) {
                        return MappedRow.invalid(keyJson, "timestamp column '" + spec.timestampColumn() + "' is not a timestamp: "
                                + describe(tsValue));
                    }
                    timestamp = EventTimestamps.format(instant);
                }
            }
            return writeEvent(values, at, runId, keyJson, action, userId, anonymousId, nameFromColumn, timestamp);
        } catch (InvalidRowException e) {
            return MappedRow.invalid(key.utf8(), e.getMessage());
        } catch (IOException e) {
            // Writing to memory does not fail; this would be a Jackson bug.
            throw new UncheckedIOException("Could not write event JSON for connection " + spec.connectionName(), e);
        }
    }

    /** Writes the event; {@code action} is a record's (null for track and identify), and a delete has empty fields. */
    private MappedRow writeEvent(Object[] values, int[] at, String runId, String keyJson, SerializedString action,
                                 String userId, String anonymousId, String nameFromColumn, String timestamp)
            throws IOException, InvalidRowException {
        event.reset();
        JsonGenerator g = eventGenerator();
        boolean complete = false;
        try {
            g.writeStartObject();
            g.writeFieldName(TYPE);
            g.writeString(typeName);
            if (spec.eventType() == EventType.TRACK) {
                g.writeFieldName(EVENT);
                if (nameFromColumn != null) {
                    g.writeString(nameFromColumn);
                } else {
                    g.writeString(eventName);
                }
            }
            if (action != null) {
                g.writeFieldName(ACTION);
                g.writeString(action);
                g.writeFieldName(IDENTIFIERS);
                g.writeRawValue(keyJson);
            }
            if (userId != null) {
                g.writeFieldName(USER_ID);
                g.writeString(userId);
            }
            if (anonymousId != null) {
                g.writeFieldName(ANONYMOUS_ID);
                g.writeString(anonymousId);
            }
            g.writeFieldName(contentName);
            if (action == DELETE) {
                g.writeStartObject();
                g.writeEndObject();
            } else {
                template.write(g, values, at, json);
            }
            if (timestamp != null) {
                g.writeFieldName(TIMESTAMP);
                g.writeString(timestamp);
                g.writeFieldName(ORIGINAL_TIMESTAMP);
                g.writeString(timestamp);
            }
            // Everything so far is the row's content: hash it before anything run- or time-dependent.
            g.flush();
            String messageId;
            if (version == null) {
                messageId = messageIds.messageId(connectionBytes, key.array(), key.size(), event.array(), 0, event.size());
            } else {
                version.clear();
                ValueCodec.write(values[at[versionSlot]], version);
                messageId = messageIds.messageId(connectionBytes, key.array(), key.size(), event.array(), 0, event.size(),
                        version.getSharedBuffer(), version.length());
            }
            g.writeFieldName(MESSAGE_ID);
            g.writeString(messageId);
            if (timestamp == null) {
                g.writeFieldName(TIMESTAMP);
                g.writeString(now());
            }
            // The context is constant but for the run id and the key: write it from a cached prefix. writeRaw
            // does not track nesting, so the prefix counts as the value and the key plus "}}" close it.
            g.writeFieldName(CONTEXT);
            g.writeRawValue(contextPrefix(runId));
            g.writeRaw(keyJson);
            g.writeRaw(CLOSE_CONTEXT);
            g.writeEndObject();
            g.flush();
            complete = true;
            int size = event.size();
            if (size > spec.maxEventBytes()) {
                return MappedRow.invalid(keyJson, "event is " + size + " bytes, over the limit of "
                        + spec.maxEventBytes() + " bytes (maxEventBytes)");
            }
            return MappedRow.event(keyJson, messageId, event.toByteArray());
        } finally {
            if (!complete) {
                // Abandoned mid-object: the generator's nesting state is wrong now, start a fresh one.
                discard(eventGenerator);
                eventGenerator = null;
            }
        }
    }

    /** Writes the key object into {@code key}; returns the first primary-key column that is null, if any. */
    private String writeKey(Object[] values, int[] at) throws IOException {
        key.reset();
        if (keyGenerator == null) {
            keyGenerator = newGenerator(key);
        }
        String nullColumn = null;
        JsonGenerator g = keyGenerator;
        g.writeStartObject();
        for (int slot = 0; slot < keyNames.length; slot++) {
            Object v = values[at[slot]];
            if (v == null && nullColumn == null) {
                nullColumn = spec.primaryKey().get(slot);
            }
            g.writeFieldName(keyNames[slot]);
            ColumnValues.write(g, v);
        }
        g.writeEndObject();
        g.flush();
        return nullColumn;
    }

    private JsonGenerator eventGenerator() throws IOException {
        if (eventGenerator == null) {
            eventGenerator = newGenerator(event);
        }
        return eventGenerator;
    }

    /**
     * Generators are long-lived, writing one root value per row into a buffer that is reset in between:
     * creating a generator per row costs more than writing a small event.
     */
    private JsonGenerator newGenerator(Buffer target) throws IOException {
        JsonGenerator g = json.createGenerator(target);
        g.setRootValueSeparator(null);
        return g;
    }

    private static void discard(JsonGenerator g) {
        if (g == null) {
            return;
        }
        try {
            g.close();
        } catch (IOException | RuntimeException e) {
            // Closing a generator over memory only releases buffers.
        }
    }

    /** The wall-clock time for events without a timestamp column, to the millisecond, formatted once per millisecond. */
    private String now() {
        long millis = clock.millis();
        if (millis != nowMillis || nowText == null) {
            nowMillis = millis;
            nowText = EventTimestamps.format(Instant.ofEpochMilli(millis));
        }
        return nowText;
    }

    /** The context object up to the primary-key value, cached per run id. */
    private SerializedString contextPrefix(String runId) {
        String id = runId == null ? "" : runId;
        if (!id.equals(contextRunId)) {
            JsonStringEncoder enc = JsonStringEncoder.getInstance();
            String prefix = "{\"library\":{\"name\":\"backflow\",\"version\":\"" + new String(enc.quoteAsString(spec.libraryVersion()))
                    + "\"},\"backflow\":{\"connection\":\"" + new String(enc.quoteAsString(spec.connectionName()))
                    + "\",\"run_id\":\"" + new String(enc.quoteAsString(id)) + "\",\"primary_key\":";
            contextRunId = id;
            contextPrefix = new SerializedString(prefix);
        }
        return contextPrefix;
    }

    private String noUserIdReason() {
        if (spec.userIdColumn() != null && spec.anonymousIdColumn() != null) {
            return "no user id: userId column '" + spec.userIdColumn() + "' and anonymousId column '"
                    + spec.anonymousIdColumn() + "' are both null or blank";
        }
        return spec.userIdColumn() != null
                ? "no user id: userId column '" + spec.userIdColumn() + "' is null or blank"
                : "no user id: anonymousId column '" + spec.anonymousIdColumn() + "' is null or blank";
    }

    /**
     * The number of model rows sharing a duplicate key, as read from {@link DeltaColumns#ROWS}: its type
     * depends on the warehouse (BIGINT, INTEGER, NUMERIC), so any whole number is accepted.
     */
    private static String rowCount(Object value) {
        if (value instanceof BigDecimal) {
            BigDecimal count = ((BigDecimal) value).stripTrailingZeros();
            if (count.scale() <= 0 && count.signum() >= 0) {
                return count.toBigInteger().toString();
            }
        } else if (value instanceof Number || value instanceof String) {
            String count = ColumnValues.text(value).trim();
            if (!count.isEmpty() && count.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return count;
            }
        }
        return "several";
    }

    /** A short description of a bad timestamp value; timestamps are not personal data, but stay short. */
    private static String describe(Object value) {
        if (value instanceof String) {
            return quoted((String) value);
        }
        return "a " + value.getClass().getSimpleName() + " value";
    }

    /** Quoted and cut to 40 characters, so a reason stays one short line. */
    private static String quoted(String s) {
        return "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
    }

    /** A growable byte buffer whose array can be read without a copy. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer(int size) {
            super(size);
        }

        byte[] array() {
            return buf;
        }

        String utf8() {
            return new String(buf, 0, count, StandardCharsets.UTF_8);
        }
    }

    @Override
    public String toString() {
        return "EventMapper{" + spec + "}";
    }
}
