package io.backflow.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
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
}
