package io.backflow.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backflow.model.DeltaColumns;
import io.backflow.source.SourceRow;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventMapperTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Clock NOW = Clock.fixed(Instant.parse("2025-06-01T12:00:00Z"), ZoneOffset.UTC);

    private static final String[] ORDER_COLUMNS = {"id", "user_id", "anon", "total", "status", "created_at", "note"};

    private static MappingSpec.Builder track() {
        return MappingSpec.builder()
                .connectionName("orders")
                .eventType(EventType.TRACK)
                .eventName("Order Placed")
                .userIdColumn("user_id")
                .anonymousIdColumn("anon")
                .primaryKey("id")
                .libraryVersion("1.2.3")
                .templateJson("{\"total\":\"{{ total }}\",\"status\":\"{{status}}\"}");
    }

    /** The columns of a diff sync's delta row: the model's, then the operation and the key's row count. */
    private static final String[] DELTA_COLUMNS = {"id", "user_id", "anon", "total", "status", "created_at", "note",
        DeltaColumns.OP, DeltaColumns.ROWS};

    private static MappingSpec.Builder record() {
        return MappingSpec.builder()
                .connectionName("orders")
                .eventType(EventType.RECORD)
                .primaryKey("id")
                .libraryVersion("1.2.3")
                .templateJson("{\"total\":\"{{ total }}\",\"status\":\"{{status}}\"}");
    }

    /** A delta row; {@code rows} is the number of model rows with its key, as the diff counts it. */
    private static SourceRow delta(Object op, Object rows, Object id, Object userId, String total, String status, Object createdAt) {
        return SourceRow.row("split-0", DELTA_COLUMNS,
                new Object[] {id, userId, null, total == null ? null : new BigDecimal(total), status, createdAt, null, op, rows}, "[]");
    }

    /** A delta row of a deleted key: only the key and the operation are set. */
    private static SourceRow deleted(Object id) {
        return delta(DeltaColumns.OP_DELETE, 0L, id, null, null, null, null);
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static SourceRow order(long id, Object userId, Object anon, String total, String status, Object createdAt, String note) {
        return SourceRow.row("split-0", ORDER_COLUMNS,
                new Object[] {id, userId, anon, total == null ? null : new BigDecimal(total), status, createdAt, note}, "[]");
    }

    private static MappedRow map(MappingSpec spec, SourceRow row) {
        return map(spec, row, "run-1", NOW);
    }

    private static MappedRow map(MappingSpec spec, SourceRow row, String runId, Clock clock) {
        EventMapper mapper = new EventMapper(spec, clock);
        mapper.open();
        return mapper.map(row, runId);
    }

    private static String text(MappedRow row) {
        assertTrue(row.isEvent(), () -> "expected an event, got " + row);
        return new String(row.payload(), StandardCharsets.UTF_8);
    }

    private static JsonNode tree(MappedRow row) throws Exception {
        return JSON.readTree(text(row));
    }

    @Test
    void trackEventHasTheExactShape() {
        MappedRow row = map(track().build(), order(5, 42L, null, "19.90", "paid", null, "x"));

        assertEquals("{\"id\":5}", row.key());
        assertEquals("{\"type\":\"track\",\"event\":\"Order Placed\",\"userId\":\"42\","
                + "\"properties\":{\"total\":19.90,\"status\":\"paid\"},"
                + "\"messageId\":\"" + row.messageId() + "\",\"timestamp\":\"2025-06-01T12:00:00Z\","
                + "\"context\":{\"library\":{\"name\":\"backflow\",\"version\":\"1.2.3\"},"
                + "\"backflow\":{\"connection\":\"orders\",\"run_id\":\"run-1\",\"primary_key\":{\"id\":5}}}}", text(row));
        assertTrue(row.messageId().matches("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), row.messageId());
    }

    @Test
    void identifyEventHasTheExactShape() {
        MappingSpec spec = MappingSpec.builder()
                .connectionName("users")
                .eventType(EventType.IDENTIFY)
                .userIdColumn("user_id")
                .anonymousIdColumn("anon")
                .timestampColumn("updated_at")
                .primaryKey("tenant", "user_id")
                .libraryVersion("1.2.3")
                .templateJson("{\"email\":\"{{ email }}\",\"plan\":{\"name\":\"{{ plan }}\",\"source\":\"warehouse\"}}")
                .build();
        SourceRow row = SourceRow.row("s", new String[] {"tenant", "user_id", "anon", "email", "plan", "updated_at"},
                new Object[] {"acme", 7L, "a-7", "ann@example.com", "pro", LocalDateTime.of(2024, 1, 31, 10, 0)}, "[]");

        MappedRow mapped = map(spec, row);

        assertEquals("{\"tenant\":\"acme\",\"user_id\":7}", mapped.key());
        assertEquals("{\"type\":\"identify\",\"userId\":\"7\",\"anonymousId\":\"a-7\","
                + "\"traits\":{\"email\":\"ann@example.com\",\"plan\":{\"name\":\"pro\",\"source\":\"warehouse\"}},"
                + "\"timestamp\":\"2024-01-31T10:00:00Z\",\"originalTimestamp\":\"2024-01-31T10:00:00Z\","
                + "\"messageId\":\"" + mapped.messageId() + "\","
                + "\"context\":{\"library\":{\"name\":\"backflow\",\"version\":\"1.2.3\"},"
                + "\"backflow\":{\"connection\":\"users\",\"run_id\":\"run-1\",\"primary_key\":{\"tenant\":\"acme\",\"user_id\":7}}}}",
                text(mapped));
    }

    @Test
    void eventNameComesFromAColumnAndBlankIdsAreOmitted() throws Exception {
        MappingSpec spec = track().eventName(null).eventNameColumn("status").build();

        JsonNode event = tree(map(spec, order(1, "  ", "anon-1", "1", "Order Shipped", null, null)));

        assertEquals("Order Shipped", event.get("event").asText());
        assertFalse(event.has("userId"));
        assertEquals("anon-1", event.get("anonymousId").asText());
    }

    @Test
    void nestedTemplateBuildsConstantsReferencesJsonAndInterpolation() throws Exception {
        String template = "{"
                + "\"order\":{\"id\":\"{{ id }}\",\"total\":\"{{total}}\",\"items\":\"{{ items | json }}\","
                + "\"tags\":[\"{{ status }}\",\"fixed\",1,true,null,{\"k\":\"{{ paid }}\"}]},"
                + "\"label\":\"Order {{ id }} by {{ name }} ({{ missing_name }})\","
                + "\"literal\":{\"a\":[1,2.5,\"x\"],\"b\":false},"
                + "\"types\":{\"double\":\"{{ score }}\",\"date\":\"{{ day }}\",\"local\":\"{{ local }}\","
                + "\"instant\":\"{{ at }}\",\"bytes\":\"{{ raw }}\",\"nothing\":\"{{ missing_name }}\",\"big\":\"{{ big }}\"}"
                + "}";
        MappingSpec spec = track().templateJson(template).build();
        String[] columns = {"id", "user_id", "anon", "total", "status", "paid", "name", "missing_name", "items",
            "score", "day", "local", "at", "raw", "big"};
        SourceRow row = SourceRow.row("s", columns, new Object[] {
            9L, "u", null, new BigDecimal("12.50"), "open", true, "Ann", null,
            "[{\"sku\":\"A\",\"qty\":2,\"price\":0.1000000000000000055511151231257827}]",
            2.5d, LocalDate.of(2024, 1, 31), LocalDateTime.of(2024, 1, 31, 10, 0), Instant.parse("2024-01-31T10:00:00.123Z"),
            new byte[] {1, 2, 3}, new BigDecimal("1E+3")}, "[]");

        JsonNode properties = JSON.readTree(extractProperties(text(map(spec, row))));

        assertEquals(JSON.readTree("{"
                + "\"order\":{\"id\":9,\"total\":12.50,\"items\":[{\"sku\":\"A\",\"qty\":2,\"price\":0.1000000000000000055511151231257827}],"
                + "\"tags\":[\"open\",\"fixed\",1,true,null,{\"k\":true}]},"
                + "\"label\":\"Order 9 by Ann ()\","
                + "\"literal\":{\"a\":[1,2.5,\"x\"],\"b\":false},"
                + "\"types\":{\"double\":2.5,\"date\":\"2024-01-31\",\"local\":\"2024-01-31T10:00:00\","
                + "\"instant\":\"2024-01-31T10:00:00.123Z\",\"bytes\":\"AQID\",\"nothing\":null,\"big\":1000}"
                + "}"), properties);
        // Exact digits: decimals are copied, not turned into doubles.
        String raw = text(map(spec, row));
        assertTrue(raw.contains("\"price\":0.1000000000000000055511151231257827"), raw);
        assertTrue(raw.contains("\"total\":12.50"), raw);
    }

    /** The properties object as written, so number formatting is checked as sent. */
    private static String extractProperties(String event) throws Exception {
        return JSON.writeValueAsString(JSON.readTree(event).get("properties"));
    }

    @Test
    void jsonFilterAcceptsNullAndScalars() throws Exception {
        MappingSpec spec = track().templateJson("{\"a\":\"{{ note | json }}\"}").build();

        assertTrue(tree(map(spec, order(1, "u", null, "1", "s", null, null))).get("properties").get("a").isNull());
        assertEquals(JSON.readTree("\"hi\""), tree(map(spec, order(1, "u", null, "1", "s", null, "\"hi\""))).get("properties").get("a"));
        assertEquals(7, tree(map(spec, order(1, "u", null, "1", "s", null, " 7 "))).get("properties").get("a").asInt());
    }

    @Test
    void nullPrimaryKeyIsInvalid() {
        MappingSpec spec = track().primaryKey("status", "id").build();

        MappedRow row = map(spec, order(3, "u", null, "1", null, null, null));

        assertFalse(row.isEvent());
        assertEquals("{\"status\":null,\"id\":3}", row.key());
        assertEquals("primary key column 'status' is null", row.reason());
        assertNull(row.messageId());
        assertNull(row.payload());
    }

    @Test
    void rowWithoutAnyUserIdIsInvalid() {
        MappedRow row = map(track().build(), order(3, null, " ", "1", "s", null, null));

        assertEquals("{\"id\":3}", row.key());
        assertEquals("no user id: userId column 'user_id' and anonymousId column 'anon' are both null or blank", row.reason());

        MappedRow onlyUser = map(track().anonymousIdColumn(null).build(), order(3, "", null, "1", "s", null, null));
        assertEquals("no user id: userId column 'user_id' is null or blank", onlyUser.reason());
    }

    @Test
    void nullOrBlankEventNameColumnIsInvalid() {
        MappingSpec spec = track().eventName(null).eventNameColumn("status").build();

        assertEquals("event name column 'status' is null or blank", map(spec, order(3, "u", null, "1", null, null, null)).reason());
        assertEquals("event name column 'status' is null or blank", map(spec, order(3, "u", null, "1", "  ", null, null)).reason());
    }

    @Test
    void unparseableJsonColumnIsInvalid() {
        MappingSpec spec = track().templateJson("{\"n\":{\"x\":\"{{ note | json }}\"}}").build();

        MappedRow broken = map(spec, order(4, "u", null, "1", "s", null, "{\"secret\": "));
        assertFalse(broken.isEvent());
        assertEquals("{\"id\":4}", broken.key());
        assertTrue(broken.reason().startsWith("column 'note' is not valid JSON"), broken.reason());
        assertFalse(broken.reason().contains("secret"), "the reason must not quote the value: " + broken.reason());

        assertEquals("column 'note' is not valid JSON: unexpected content after the value",
                map(spec, order(4, "u", null, "1", "s", null, "{} {}")).reason());
        assertEquals("column 'note' is empty, expected JSON", map(spec, order(4, "u", null, "1", "s", null, "  ")).reason());
        assertTrue(map(spec, order(4, "u", null, "1", "s", null, "not json")).reason().startsWith("column 'note' is not valid JSON"));
    }

    @Test
    void unparseableTimestampIsInvalid() {
        MappingSpec spec = track().timestampColumn("created_at").build();

        assertEquals("timestamp column 'created_at' is not a timestamp: 'yesterday'",
                map(spec, order(4, "u", null, "1", "s", "yesterday", null)).reason());
        assertEquals("timestamp column 'created_at' is not a timestamp: a Long value",
                map(spec, order(4, "u", null, "1", "s", 1706695200L, null)).reason());
    }

    @Test
    void eventOverTheSizeLimitIsInvalid() {
        MappingSpec spec = track().templateJson("{\"note\":\"{{ note }}\"}").maxEventBytes(400).build();

        MappedRow small = map(spec, order(1, "u", null, "1", "s", null, "short"));
        assertTrue(small.isEvent());
        assertTrue(small.payload().length <= 400);

        MappedRow big = map(spec, order(1, "u", null, "1", "s", null, "x".repeat(500)));
        assertFalse(big.isEvent());
        assertEquals("{\"id\":1}", big.key());
        assertTrue(big.reason().matches("event is \\d+ bytes, over the limit of 400 bytes \\(maxEventBytes\\)"), big.reason());
        int size = Integer.parseInt(big.reason().replaceAll("event is (\\d+) bytes.*", "$1"));
        assertEquals(small.payload().length + 495, size);
    }

    @Test
    void messageIdIsStableAcrossRunsAndFollowsMappedContent() {
        MappingSpec spec = track().build();
        Clock later = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
        SourceRow row = order(5, 42L, null, "19.90", "paid", null, "x");

        String first = map(spec, row, "run-1", NOW).messageId();

        assertEquals(first, map(spec, order(5, 42L, null, "19.90", "paid", null, "x"), "run-2", later).messageId());
        // 'note' is not mapped: changing it is not a new version of the event.
        assertEquals(first, map(spec, order(5, 42L, null, "19.90", "paid", null, "changed"), "run-2", later).messageId());
        assertNotEquals(first, map(spec, order(5, 42L, null, "19.91", "paid", null, "x")).messageId());
        assertNotEquals(first, map(spec, order(5, 43L, null, "19.90", "paid", null, "x")).messageId());
        assertNotEquals(first, map(spec, order(6, 42L, null, "19.90", "paid", null, "x")).messageId());
        assertNotEquals(first, map(track().connectionName("orders-2").build(), row).messageId());
        assertNotEquals(first, map(track().eventName("Order Completed").build(), row).messageId());
    }

    /**
     * A cursor sync: a row that goes from A to B and back to A has moved its cursor each time, and
     * the change back must not carry A's id (destinations drop a repeated id, and would keep B).
     * Read again with the same cursor (a retry, a resumed run, the mark), it keeps its id.
     */
    @Test
    void messageIdFollowsTheCursorWhenTheSpecHasOne() {
        MappingSpec spec = track().versionColumn("created_at").build();
        LocalDateTime t = LocalDateTime.of(2024, 1, 31, 10, 0);
        Clock later = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

        String a = map(spec, order(5, 42L, null, "1", "paid", t, null)).messageId();
        String b = map(spec, order(5, 42L, null, "1", "refunded", t.plusHours(1), null)).messageId();
        String backToA = map(spec, order(5, 42L, null, "1", "paid", t.plusHours(2), null)).messageId();

        assertNotEquals(a, b);
        assertNotEquals(a, backToA);
        assertEquals(a, map(spec, order(5, 42L, null, "1", "paid", t, null), "run-9", later).messageId());
        // A NULL cursor is a version too, told apart from any value.
        String nullCursor = map(spec, order(5, 42L, null, "1", "paid", null, null)).messageId();
        assertNotEquals(a, nullCursor);
        assertEquals(nullCursor, map(spec, order(5, 42L, null, "1", "paid", null, null), "run-9", later).messageId());
        // Without a version column the id is the content's alone, as before.
        MappingSpec unversioned = track().build();
        assertEquals(map(unversioned, order(5, 42L, null, "1", "paid", t, null)).messageId(),
                map(unversioned, order(5, 42L, null, "1", "paid", t.plusHours(2), null)).messageId());
    }

    @Test
    void aVersionColumnTheQueryLacksFailsNamingIt() {
        MappingSpec spec = track().versionColumn("updated_at").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> map(spec, order(5, 42L, null, "1", "paid", null, null)));
        assertTrue(e.getMessage().contains("'updated_at'"), e.getMessage());
    }

    @Test
    void messageIdFollowsTheTimestampColumn() {
        MappingSpec spec = track().timestampColumn("created_at").build();
        LocalDateTime t = LocalDateTime.of(2024, 1, 31, 10, 0);
        Clock later = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

        String first = map(spec, order(5, 42L, null, "1", "paid", t, null)).messageId();

        assertEquals(first, map(spec, order(5, 42L, null, "1", "paid", t, null), "run-9", later).messageId());
        assertNotEquals(first, map(spec, order(5, 42L, null, "1", "paid", t.plusSeconds(1), null)).messageId());
    }

    @Test
    void timestampColumnTypesAreRenderedInUtc() throws Exception {
        MappingSpec spec = track().timestampColumn("created_at").build();

        assertTimestamp("2024-01-31T10:00:00Z", spec, LocalDateTime.of(2024, 1, 31, 10, 0));
        assertTimestamp("2024-01-31T10:00:00.250Z", spec, LocalDateTime.of(2024, 1, 31, 10, 0, 0, 250_000_000));
        assertTimestamp("2024-01-31T08:00:00Z", spec, Instant.parse("2024-01-31T08:00:00Z"));
        assertTimestamp("2024-01-31T00:00:00Z", spec, LocalDate.of(2024, 1, 31));
        assertTimestamp("2024-01-31T08:00:00Z", spec, "2024-01-31 10:00:00+02");
        assertTimestamp("2024-01-31T10:00:00Z", spec, "2024-01-31T10:00:00");
        assertTimestamp("2024-01-31T00:00:00Z", spec, "2024-01-31");
        assertTimestamp("2024-01-31T10:00:00Z", spec, "2024-01-31T10:00:00Z");
    }

    private static void assertTimestamp(String expected, MappingSpec spec, Object value) throws Exception {
        JsonNode event = tree(map(spec, order(1, "u", null, "1", "s", value, null)));
        assertEquals(expected, event.get("timestamp").asText(), "timestamp of " + value);
        assertEquals(expected, event.get("originalTimestamp").asText(), "originalTimestamp of " + value);
    }

    @Test
    void nullTimestampFallsBackToNowWithoutOriginalTimestamp() throws Exception {
        MappingSpec spec = track().timestampColumn("created_at").build();

        JsonNode event = tree(map(spec, order(1, "u", null, "1", "s", null, null)));

        assertEquals("2025-06-01T12:00:00Z", event.get("timestamp").asText());
        assertFalse(event.has("originalTimestamp"));
    }

    @Test
    void unknownColumnIsAConfigurationError() {
        MappingSpec spec = track().templateJson("{\"x\":\"{{ no_such_column }}\"}").build();

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> map(spec, order(1, "u", null, "1", "s", null, null)));

        assertEquals("Mapping references column 'no_such_column' which the query does not return; available columns: "
                + "[id, user_id, anon, total, status, created_at, note]", e.getMessage());
    }

    @Test
    void columnsAreResolvedAgainForADifferentColumnArrayAndMatchCaseInsensitively() throws Exception {
        MappingSpec spec = track().userIdColumn("USER_ID").anonymousIdColumn(null).templateJson("{\"s\":\"{{ Status }}\"}").build();
        EventMapper mapper = new EventMapper(spec, NOW);
        mapper.open();

        JsonNode a = JSON.readTree(mapper.map(SourceRow.row("s", new String[] {"id", "user_id", "status"},
                new Object[] {1L, "u1", "open"}, "[]"), "r").payload());
        JsonNode b = JSON.readTree(mapper.map(SourceRow.row("s", new String[] {"status", "id", "user_id"},
                new Object[] {"closed", 2L, "u2"}, "[]"), "r").payload());

        assertEquals("u1", a.get("userId").asText());
        assertEquals("open", a.get("properties").get("s").asText());
        assertEquals("u2", b.get("userId").asText());
        assertEquals("closed", b.get("properties").get("s").asText());
        assertEquals(2, b.get("context").get("backflow").get("primary_key").get("id").asInt());
    }

    @Test
    void mapperIsReusableAcrossRowsAndSerializable() throws Exception {
        MappingSpec spec = track().build();
        EventMapper mapper = new EventMapper(spec, NOW);
        byte[] bytes;
        try (var bos = new java.io.ByteArrayOutputStream(); var oos = new java.io.ObjectOutputStream(bos)) {
            oos.writeObject(mapper);
            oos.flush();
            bytes = bos.toByteArray();
        }
        EventMapper copy;
        try (var ois = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes))) {
            copy = (EventMapper) ois.readObject();
        }
        copy.open();

        MappedRow one = copy.map(order(1, "u", null, "1", "s", null, null), "r");
        MappedRow two = copy.map(order(2, "v", null, "2", "t", null, null), "r");

        assertEquals(text(map(spec, order(1, "u", null, "1", "s", null, null), "r", NOW)), text(one));
        assertEquals("{\"id\":2}", two.key());
        assertEquals("v", JSON.readTree(two.payload()).get("userId").asText());
    }

    @Test
    void rowAfterAnAbandonedEventIsWrittenCleanly() {
        MappingSpec spec = track().templateJson("{\"n\":{\"x\":\"{{ note | json }}\"}}").maxEventBytes(500).build();
        EventMapper mapper = new EventMapper(spec, NOW);
        mapper.open();
        SourceRow good = order(2, "u", null, "1", "s", null, "[1,{\"a\":2}]");

        assertFalse(mapper.map(order(1, "u", null, "1", "s", null, "[1,{\"a\""), "r").isEvent());
        MappedRow afterBrokenJson = mapper.map(good, "r");
        assertFalse(mapper.map(order(3, "u", null, "1", "s", null, "[\"" + "x".repeat(600) + "\"]"), "r").isEvent());
        MappedRow afterOversize = mapper.map(good, "r");

        String expected = text(map(spec, good, "r", NOW));
        assertEquals(expected, text(afterBrokenJson));
        assertEquals(expected, text(afterOversize));
    }

    @Test
    void recordInsertHasTheExactShape() throws Exception {
        MappingSpec spec = record().operationColumn(DeltaColumns.OP).build();

        MappedRow row = map(spec, delta("insert", 1L, 5L, null, "19.90", "paid", null));

        assertEquals("{\"id\":5}", row.key());
        assertEquals("{\"type\":\"record\",\"action\":\"insert\",\"identifiers\":{\"id\":5},"
                + "\"fields\":{\"total\":19.90,\"status\":\"paid\"},"
                + "\"messageId\":\"" + row.messageId() + "\",\"timestamp\":\"2025-06-01T12:00:00Z\","
                + "\"context\":{\"library\":{\"name\":\"backflow\",\"version\":\"1.2.3\"},"
                + "\"backflow\":{\"connection\":\"orders\",\"run_id\":\"run-1\",\"primary_key\":{\"id\":5}}}}", text(row));
        JsonNode event = tree(row);
        assertEquals(List.of("type", "action", "identifiers", "fields", "messageId", "timestamp", "context"), fieldNames(event));
        assertEquals(row.messageId(), event.get("messageId").asText());
    }

    @Test
    void recordUpdateCarriesItsActionAndCompositeIdentifiers() throws Exception {
        MappingSpec spec = record().primaryKey("status", "id").operationColumn(DeltaColumns.OP).build();

        JsonNode event = tree(map(spec, delta("update", 1L, 5L, null, "19.90", "paid", null)));

        assertEquals("update", event.get("action").asText());
        assertEquals("{\"status\":\"paid\",\"id\":5}", JSON.writeValueAsString(event.get("identifiers")));
        assertEquals(List.of("status", "id"), fieldNames(event.get("identifiers")));
        assertEquals(JSON.readTree("{\"total\":19.90,\"status\":\"paid\"}"), event.get("fields"));
        assertEquals(event.get("identifiers"), event.at("/context/backflow/primary_key"));
    }

    @Test
    void recordDeleteHasEmptyFieldsAndReadsNothingButTheKey() {
        // Every column but the key is NULL in a delete: the template (here one that would fail on bad JSON),
        // the id columns and the timestamp column must not be read.
        MappingSpec spec = record()
                .userIdColumn("user_id")
                .anonymousIdColumn("anon")
                .timestampColumn("created_at")
                .templateJson("{\"total\":\"{{ total }}\",\"items\":\"{{ note | json }}\"}")
                .operationColumn(DeltaColumns.OP)
                .build();
        SourceRow row = SourceRow.row("split-0", DELTA_COLUMNS,
                new Object[] {5L, null, null, null, null, "not a timestamp", "{not json", "delete", 0L}, "[]");

        MappedRow mapped = map(spec, row);

        assertEquals("{\"type\":\"record\",\"action\":\"delete\",\"identifiers\":{\"id\":5},\"fields\":{},"
                + "\"messageId\":\"" + mapped.messageId() + "\",\"timestamp\":\"2025-06-01T12:00:00Z\","
                + "\"context\":{\"library\":{\"name\":\"backflow\",\"version\":\"1.2.3\"},"
                + "\"backflow\":{\"connection\":\"orders\",\"run_id\":\"run-1\",\"primary_key\":{\"id\":5}}}}", text(mapped));
    }

    @Test
    void recordNeedsNoUserIdButWritesConfiguredOnes() throws Exception {
        JsonNode withoutIdColumns = tree(map(record().operationColumn(DeltaColumns.OP).build(),
                delta("insert", 1L, 5L, "42", "1", "paid", null)));
        assertFalse(withoutIdColumns.has("userId"));
        assertFalse(withoutIdColumns.has("anonymousId"));

        MappingSpec withIdColumns = record().userIdColumn("user_id").anonymousIdColumn("anon").operationColumn(DeltaColumns.OP).build();
        JsonNode nullIds = tree(map(withIdColumns, delta("insert", 1L, 5L, null, "1", "paid", null)));
        assertEquals(List.of("type", "action", "identifiers", "fields", "messageId", "timestamp", "context"), fieldNames(nullIds));

        JsonNode withId = tree(map(withIdColumns, delta("insert", 1L, 5L, 42L, "1", "paid", null)));
        assertEquals(List.of("type", "action", "identifiers", "userId", "fields", "messageId", "timestamp", "context"),
                fieldNames(withId));
        assertEquals("42", withId.get("userId").asText());
    }

    @Test
    void recordWithoutOperationColumnIsAnUpsert() throws Exception {
        // Cursor syncs read the model itself: no operation column, and a cursor cannot tell inserts from updates.
        MappingSpec spec = record().timestampColumn("created_at").build();

        JsonNode event = tree(map(spec, order(5, null, null, "19.90", "paid", LocalDateTime.of(2024, 1, 31, 10, 0), null)));

        assertEquals("upsert", event.get("action").asText());
        assertEquals(List.of("type", "action", "identifiers", "fields", "timestamp", "originalTimestamp", "messageId", "context"),
                fieldNames(event));
        assertEquals("2024-01-31T10:00:00Z", event.get("timestamp").asText());
        assertEquals(JSON.readTree("{\"id\":5}"), event.get("identifiers"));
    }

    @Test
    void recordMessageIdFollowsTheAction() {
        MappingSpec spec = record().operationColumn(DeltaColumns.OP).build();
        Clock later = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

        String insert = map(spec, delta("insert", 1L, 5L, null, "19.90", "paid", null)).messageId();
        String update = map(spec, delta("update", 1L, 5L, null, "19.90", "paid", null)).messageId();
        String delete = map(spec, deleted(5L)).messageId();
        String upsert = map(record().build(), order(5, null, null, "19.90", "paid", null, null)).messageId();

        assertNotEquals(insert, delete);
        assertNotEquals(insert, update);
        assertNotEquals(update, delete);
        assertNotEquals(insert, upsert);
        assertEquals(insert, map(spec, delta("insert", 1L, 5L, null, "19.90", "paid", null), "run-2", later).messageId());
        assertEquals(delete, map(spec, deleted(5L), "run-2", later).messageId());
        assertNotEquals(delete, map(spec, deleted(6L)).messageId());
    }

    @Test
    void duplicateKeyIsInvalidWithItsRowCount() {
        MappingSpec spec = record().operationColumn(DeltaColumns.OP).build();
        String reason = "primary key appears in 3 rows of the model; primary keys must be unique";

        for (Object rows : new Object[] {3L, 3, new BigDecimal("3"), new BigDecimal("3.00"), 3.0d, "3"}) {
            MappedRow row = map(spec, delta("duplicate", rows, 5L, null, "1", "paid", null));
            assertFalse(row.isEvent(), () -> "rows " + rows);
            assertEquals("{\"id\":5}", row.key());
            assertEquals(reason, row.reason(), () -> "rows as " + rows.getClass().getSimpleName());
            assertNull(row.payload());
        }
        assertEquals("primary key appears in several rows of the model; primary keys must be unique",
                map(spec, delta("duplicate", null, 5L, null, "1", "paid", null)).reason());
        // Duplicates are refused whatever the event type, before the user id is looked for.
        assertEquals(reason, map(track().operationColumn(DeltaColumns.OP).build(), delta("duplicate", 3L, 5L, null, "1", "paid", null)).reason());
    }

    @Test
    void nullPrimaryKeyIsReportedBeforeTheOperation() {
        MappingSpec spec = record().operationColumn(DeltaColumns.OP).build();

        MappedRow duplicate = map(spec, delta("duplicate", 2L, null, null, "1", "paid", null));
        assertEquals("{\"id\":null}", duplicate.key());
        assertEquals("primary key column 'id' is null", duplicate.reason());
        assertEquals("primary key column 'id' is null", map(spec, deleted(null)).reason());
        assertEquals("primary key column 'id' is null", map(spec, delta("bogus", 1L, null, null, "1", "paid", null)).reason());
    }

    @Test
    void trackAndIdentifyCannotDelete() {
        MappedRow track = map(track().operationColumn(DeltaColumns.OP).build(), deleted(5L));
        assertFalse(track.isEvent());
        assertEquals("{\"id\":5}", track.key());
        assertEquals("row was deleted, and track events cannot delete; use event_type: record with mode: mirror", track.reason());

        MappingSpec identify = MappingSpec.builder().connectionName("users").eventType(EventType.IDENTIFY)
                .userIdColumn("user_id").primaryKey("id").operationColumn(DeltaColumns.OP).build();
        assertEquals("row was deleted, and identify events cannot delete; use event_type: record with mode: mirror",
                map(identify, deleted(5L)).reason());
    }

    @Test
    void trackInsertsAndUpdatesAreTheUsualTrackEvents() {
        // The operation decides whether a track row is sent, not what it looks like.
        String cursor = text(map(track().build(), order(5, 42L, null, "19.90", "paid", null, null)));
        MappingSpec spec = track().operationColumn(DeltaColumns.OP).build();

        assertEquals(cursor, text(map(spec, delta("insert", 1L, 5L, 42L, "19.90", "paid", null))));
        assertEquals(cursor, text(map(spec, delta("update", 1L, 5L, 42L, "19.90", "paid", null))));
        assertEquals("no user id: userId column 'user_id' and anonymousId column 'anon' are both null or blank",
                map(spec, delta("insert", 1L, 5L, null, "19.90", "paid", null)).reason());
    }

    @Test
    void unknownOrNullOperationIsInvalid() {
        MappingSpec spec = record().operationColumn(DeltaColumns.OP).build();

        assertEquals("operation column '_backflow_op' has unknown value 'upsert' (expected insert, update, delete or duplicate)",
                map(spec, delta("upsert", 1L, 5L, null, "1", "paid", null)).reason());
        assertEquals("operation column '_backflow_op' has unknown value 'INSERT' (expected insert, update, delete or duplicate)",
                map(spec, delta("INSERT", 1L, 5L, null, "1", "paid", null)).reason());
        assertEquals("operation column '_backflow_op' has unknown value '7' (expected insert, update, delete or duplicate)",
                map(spec, delta(7L, 1L, 5L, null, "1", "paid", null)).reason());
        assertEquals("operation column '_backflow_op' is null", map(spec, delta(null, 1L, 5L, null, "1", "paid", null)).reason());
    }

    @Test
    void operationColumnsAreResolvedLikeOtherColumns() throws Exception {
        MappingSpec spec = record().operationColumn(DeltaColumns.OP).build();
        EventMapper mapper = new EventMapper(spec, NOW);
        mapper.open();

        // Upper case (a warehouse folding unquoted names) and another column order still resolve.
        JsonNode event = JSON.readTree(mapper.map(SourceRow.row("s",
                new String[] {"_BACKFLOW_ROWS", "STATUS", "_BACKFLOW_OP", "TOTAL", "ID"},
                new Object[] {1L, "paid", "update", new BigDecimal("2.5"), 7L}, "[]"), "r").payload());
        assertEquals("update", event.get("action").asText());
        assertEquals("{\"id\":7}", JSON.writeValueAsString(event.get("identifiers")));
        assertEquals(JSON.readTree("{\"total\":2.5,\"status\":\"paid\"}"), event.get("fields"));

        // A model row lacks the delta columns: a configuration error, as for any mapped column.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mapper.map(order(1, null, null, "1", "s", null, null), "r"));
        assertTrue(e.getMessage().startsWith("Mapping references column '_backflow_op' which the query does not return"), e.getMessage());
    }

    @Test
    void mapperMixesOperationsRowAfterRow() {
        MappingSpec spec = record().operationColumn(DeltaColumns.OP).build();
        EventMapper mapper = new EventMapper(spec, NOW);
        mapper.open();
        SourceRow insert = delta("insert", 1L, 5L, null, "19.90", "paid", null);

        assertTrue(mapper.map(deleted(4L), "run-1").isEvent());
        assertFalse(mapper.map(delta("duplicate", 2L, 3L, null, null, null, null), "run-1").isEvent());
        MappedRow afterOthers = mapper.map(insert, "run-1");

        assertEquals(text(map(spec, insert)), text(afterOthers));
    }

    @Test
    void mapBeforeOpenFails() {
        assertThrows(IllegalStateException.class, () -> new EventMapper(track().build()).map(order(1, "u", null, "1", "s", null, null), "r"));
    }

    @Test
    void messageIdsAreStableWithinAScopeAndDifferAcrossScopes() {
        SourceRow row = delta(DeltaColumns.OP_UPDATE, 1L, 5L, null, "19.90", "paid", null);
        MappingSpec.Builder spec = record().operationColumn(DeltaColumns.OP);
        String unscoped = map(spec.build(), row).messageId();
        String first = map(spec.messageIdScope("delta_a").build(), row).messageId();
        assertEquals(first, map(spec.messageIdScope("delta_a").build(), row, "run-2", NOW).messageId(), "a resumed run resends with the same id");
        String second = map(spec.messageIdScope("delta_b").build(), row).messageId();
        assertNotEquals(first, second, "the same content in a later delta is a new message");
        assertNotEquals(unscoped, first);
    }
}
