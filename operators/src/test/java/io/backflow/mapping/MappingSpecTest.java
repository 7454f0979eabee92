package io.backflow.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.model.DeltaColumns;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MappingSpecTest {
    private static MappingSpec.Builder valid() {
        return MappingSpec.builder()
                .connectionName("c")
                .eventType(EventType.TRACK)
                .eventName("E")
                .userIdColumn("uid")
                .primaryKey("id");
    }

    private static String error(MappingSpec.Builder builder) {
        return assertThrows(IllegalArgumentException.class, builder::build).getMessage();
    }

    @Test
    void builderRejectsInconsistentSpecs() {
        assertEquals("Invalid mapping: connectionName is required", error(valid().connectionName(" ")));
        assertEquals("Invalid mapping: eventType is required (track, identify or record)", error(valid().eventType(null)));
        assertEquals("Invalid mapping: a track mapping needs exactly one of eventName and eventNameColumn",
                error(valid().eventNameColumn("name")));
        assertEquals("Invalid mapping: a track mapping needs exactly one of eventName and eventNameColumn",
                error(valid().eventName(null)));
        assertEquals("Invalid mapping: an identify mapping has no event name (eventName/eventNameColumn are for track)",
                error(valid().eventType(EventType.IDENTIFY)));
        assertEquals("Invalid mapping: at least one of userIdColumn and anonymousIdColumn is required",
                error(valid().userIdColumn(null)));
        assertEquals("Invalid mapping: primaryKey needs at least one column", error(valid().primaryKey(List.of())));
        assertEquals("Invalid mapping: primaryKey lists a column twice", error(valid().primaryKey("id", "id")));
        assertEquals("Invalid mapping: maxEventBytes must be positive, got 0", error(valid().maxEventBytes(0)));
        assertEquals("Invalid mapping: a record mapping has no event name (eventName/eventNameColumn are for track)",
                error(valid().eventType(EventType.RECORD)));
        assertEquals("Invalid mapping: a record mapping has no event name (eventName/eventNameColumn are for track)",
                error(valid().eventType(EventType.RECORD).eventName(null).eventNameColumn("kind")));
    }

    @Test
    void recordNeedsNoUserId() {
        MappingSpec spec = valid().eventType(EventType.RECORD).eventName(null).userIdColumn(null).build();

        assertEquals(EventType.RECORD, spec.eventType());
        assertNull(spec.userIdColumn());
        assertEquals("record", spec.eventType().wireName());
    }

    @Test
    void deltaColumnsAreKeptOutOfTheModelColumns() {
        MappingSpec spec = valid()
                .anonymousIdColumn("anon")
                .timestampColumn("ts")
                .templateJson("{\"a\":\"{{ total }}\"}")
                .operationColumn(DeltaColumns.OP)
                .build();

        assertEquals(DeltaColumns.OP, spec.operationColumn());
        // The model has no operation or row-count column: only the delta table does.
        assertEquals(List.of("id", "uid", "anon", "ts", "total"), List.copyOf(spec.referencedColumns()));
        assertEquals(Set.of("total"), spec.templateColumns());
        assertEquals(List.of(), spec.missingColumns(List.of("id", "uid", "anon", "ts", "total")));
        assertEquals(List.of(DeltaColumns.OP, DeltaColumns.ROWS), List.copyOf(spec.deltaColumns()));

        MappingSpec cursor = valid().operationColumn(" ").build();
        assertNull(cursor.operationColumn());
        assertEquals(Set.of(), cursor.deltaColumns());
        assertNotEquals(cursor, valid().operationColumn(DeltaColumns.OP).build());
    }

    @Test
    void templateSyntaxErrorsAreReportedAtBuildTime() {
        assertEquals("Mapping template must be an object, got ARRAY", error(valid().templateJson("[1]")));
        assertEquals("Mapping template at $.a.b: '{{' without a closing '}}' in \"{{ x \"",
                error(valid().templateJson("{\"a\":{\"b\":\"{{ x \"}}")));
        assertEquals("Mapping template at $.a[1]: empty column reference in \"x {{ }}\"",
                error(valid().templateJson("{\"a\":[1,\"x {{ }}\"]}")));
        assertEquals("Mapping template at $.a: unknown filter 'upper' in \"{{ x | upper }}\" (the only filter is 'json')",
                error(valid().templateJson("{\"a\":\"{{ x | upper }}\"}")));
        assertEquals("Mapping template at $.a: the 'json' filter must be the whole string, as in \"{{ x | json }}\"",
                error(valid().templateJson("{\"a\":\"v={{ x | json }}\"}")));
        assertThrows(IllegalArgumentException.class, () -> valid().templateJson("{not json"));
    }

    @Test
    void referencedColumnsListsEveryColumnTheMappingReads() {
        MappingSpec spec = valid()
                .eventName(null)
                .eventNameColumn("kind")
                .anonymousIdColumn("anon")
                .timestampColumn("ts")
                .primaryKey("tenant", "id")
                .templateJson("{\"a\":\"{{ total }}\",\"b\":[\"{{ meta | json }}\",\"x {{id}} {{ name }}\"],\"c\":\"{{total}}\"}")
                .build();

        assertEquals(List.of("tenant", "id", "uid", "anon", "kind", "ts", "total", "meta", "name"),
                List.copyOf(spec.referencedColumns()));
        assertEquals(Set.of("total", "meta", "id", "name"), spec.templateColumns());
    }

    @Test
    void missingColumnsAreMatchedLikeAtRunTime() {
        MappingSpec spec = valid().templateJson("{\"a\":\"{{ Total }}\",\"b\":\"{{ gone }}\"}").build();

        assertEquals(List.of("gone"), spec.missingColumns(List.of("id", "UID", "total")));
        assertEquals(List.of("uid", "Total", "gone"), spec.missingColumns(List.of("id", "Uid", "UID", "total", "TOTAL")));
        assertEquals(List.of(), spec.missingColumns(List.of("id", "uid", "total", "gone")));
    }

    @Test
    void templateTreesAreStoredAsJson() {
        ObjectNode tree = new ObjectMapper().createObjectNode();
        tree.putObject("plan").put("name", "{{ plan }}").put("seats", 3);
        MappingSpec spec = valid().template(tree).build();

        assertEquals("{\"plan\":{\"name\":\"{{ plan }}\",\"seats\":3}}", spec.templateJson());
        assertEquals(Set.of("plan"), spec.templateColumns());
    }

    @Test
    void specSurvivesJavaSerialization() throws Exception {
        MappingSpec spec = valid().templateJson("{\"a\":\"{{ x }}\"}").timestampColumn("ts").maxEventBytes(1000)
                .operationColumn(DeltaColumns.OP).build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(spec);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            MappingSpec copy = (MappingSpec) in.readObject();
            assertEquals(spec, copy);
            assertEquals(List.of("id"), copy.primaryKey());
            assertEquals(spec.referencedColumns(), copy.referencedColumns());
            assertEquals(DeltaColumns.OP, copy.operationColumn());
        }
    }
}
