package io.backflow.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backflow.model.DeltaColumns;
import io.backflow.source.SourceRow;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class EventPreviewTest {
    private static final String[] COLUMNS = {"id", "email", "price"};

    private static final MappingSpec SPEC = MappingSpec.builder()
            .connectionName("users")
            .eventType(EventType.IDENTIFY)
            .userIdColumn("email")
            .primaryKey("id")
            .templateJson("{\"price\":\"{{ price }}\"}")
            .build();

    @Test
    void validRowPreviewsAsPrettyJsonWithExactNumbers() throws Exception {
        EventPreview.Result r = new EventPreview(SPEC).preview(
                SourceRow.row("s", COLUMNS, new Object[] {1L, "a@b.c", new BigDecimal("10.10")}, "[]"));

        assertTrue(r.valid());
        assertEquals("{\"id\":1}", r.key());
        assertTrue(r.json().contains("\n  \"traits\" : {\n    \"price\" : 10.10\n  }"), r.json());
        assertEquals(r.messageId(), new ObjectMapper().readTree(r.json()).get("messageId").asText());
        assertEquals("preview", new ObjectMapper().readTree(r.json()).at("/context/backflow/run_id").asText());
    }

    @Test
    void invalidRowPreviewsAsItsReason() {
        SourceRow row = SourceRow.row("s", COLUMNS, new Object[] {2L, null, null}, "[]");

        EventPreview.Result r = new EventPreview(SPEC).preview(row);

        assertFalse(r.valid());
        assertNull(r.json());
        assertEquals("no user id: userId column 'email' is null or blank", r.invalidReason());
        assertEquals("invalid row {\"id\":2}: no user id: userId column 'email' is null or blank", EventPreview.render(SPEC, row));
    }

    private static MappingSpec.Builder record() {
        return MappingSpec.builder()
                .connectionName("users")
                .eventType(EventType.RECORD)
                .primaryKey("id")
                .templateJson("{\"email\":\"{{ email }}\",\"price\":\"{{ price }}\"}");
    }

    @Test
    void recordPreviewsAsAnUpsertForCursorSyncs() throws Exception {
        EventPreview.Result r = new EventPreview(record().build()).preview(
                SourceRow.row("s", COLUMNS, new Object[] {1L, null, new BigDecimal("10.10")}, "[]"));

        assertTrue(r.valid(), r::invalidReason);
        JsonNode event = new ObjectMapper().readTree(r.json());
        assertEquals("record", event.get("type").asText());
        assertEquals("upsert", event.get("action").asText());
        assertEquals(1, event.at("/identifiers/id").asInt());
        assertTrue(r.json().contains("\n  \"fields\" : {\n    \"email\" : null,\n    \"price\" : 10.10\n  }"), r.json());
    }

    @Test
    void modelRowOfADiffSyncPreviewsAsAnInsertAndADeltaRowAsItsOperation() throws Exception {
        EventPreview preview = new EventPreview(record().operationColumn(DeltaColumns.OP).build());
        ObjectMapper json = new ObjectMapper();

        // A model row has no operation column: it shows what a first diff sync would send.
        EventPreview.Result model = preview.preview(SourceRow.row("s", COLUMNS, new Object[] {1L, "a@b.c", BigDecimal.ONE}, "[]"));
        assertTrue(model.valid(), model::invalidReason);
        assertEquals("insert", json.readTree(model.json()).get("action").asText());
        assertEquals("a@b.c", json.readTree(model.json()).at("/fields/email").asText());

        String[] delta = {"id", "email", "price", DeltaColumns.OP, DeltaColumns.ROWS};
        EventPreview.Result deleted = preview.preview(SourceRow.row("s", delta, new Object[] {2L, null, null, "delete", 0L}, "[]"));
        assertTrue(deleted.valid(), deleted::invalidReason);
        JsonNode event = json.readTree(deleted.json());
        assertEquals("delete", event.get("action").asText());
        assertEquals(0, event.get("fields").size());
        assertEquals(deleted.messageId(), event.get("messageId").asText());

        EventPreview.Result duplicate = preview.preview(SourceRow.row("s", delta, new Object[] {3L, "x", null, "duplicate", 2L}, "[]"));
        assertEquals("primary key appears in 2 rows of the model; primary keys must be unique", duplicate.invalidReason());
    }
}
