package io.backflow.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.model.MarkRow;
import io.backflow.model.MarkRows;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RowVersionsTest {
    private static MarkRow row(String key, int version) {
        return MarkRow.of(key, new UUID(version, version * 31L).toString());
    }

    @Test
    void aRowMatchesOnlyInTheVersionLastPutForItsKey() {
        RowVersions versions = new RowVersions();
        versions.put(row("[[\"long\",1]]", 1));
        versions.put(row("[[\"long\",2]]", 2));
        assertTrue(versions.contains(row("[[\"long\",1]]", 1)));
        assertFalse(versions.contains(row("[[\"long\",1]]", 2)), "same key, other content");
        assertFalse(versions.contains(row("[[\"long\",3]]", 1)), "unknown key");
        versions.put(row("[[\"long\",1]]", 3));
        assertFalse(versions.contains(row("[[\"long\",1]]", 1)), "a row that went A, B, A is sent again after B");
        assertTrue(versions.contains(row("[[\"long\",1]]", 3)));
        assertEquals(2, versions.size());
    }

    @Test
    void holdsManyRowsAcrossGrowthAndThroughTheirPackedForm() {
        MarkRows.Builder packed = new MarkRows.Builder();
        for (int i = 0; i < 200_000; i++) {
            packed.add(row("k" + i, i));
        }
        MarkRows rows = MarkRows.fromBytes(packed.drain().bytes());
        assertEquals(200_000, rows.size());
        assertEquals(0, packed.drain().size(), "drained");
        RowVersions versions = new RowVersions();
        rows.forEach(versions::put);
        assertEquals(200_000, versions.size());
        for (int i = 0; i < 200_000; i += 997) {
            assertTrue(versions.contains(row("k" + i, i)));
            assertFalse(versions.contains(row("k" + i, i + 1)));
            assertFalse(versions.contains(row("x" + i, i)));
        }
    }
}
