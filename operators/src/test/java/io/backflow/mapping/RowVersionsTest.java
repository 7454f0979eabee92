package io.backflow.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.model.MarkRow;
import org.junit.jupiter.api.Test;

class RowVersionsTest {
    @Test
    void aRowMatchesOnlyInTheVersionLastPutForItsKey() {
        RowVersions versions = new RowVersions();
        versions.put("[[\"long\",1]]", "a");
        versions.put("[[\"long\",2]]", "b");
        assertTrue(versions.contains(new MarkRow("[[\"long\",1]]", "a")));
        assertFalse(versions.contains(new MarkRow("[[\"long\",1]]", "b")), "same key, other content");
        assertFalse(versions.contains(new MarkRow("[[\"long\",3]]", "a")), "unknown key");
        versions.put("[[\"long\",1]]", "a2");
        assertFalse(versions.contains(new MarkRow("[[\"long\",1]]", "a")), "a row that went A, B, A is sent again after B");
        assertTrue(versions.contains(new MarkRow("[[\"long\",1]]", "a2")));
        assertEquals(2, versions.size());
    }

    @Test
    void holdsManyRowsAcrossGrowth() {
        RowVersions versions = new RowVersions();
        for (int i = 0; i < 200_000; i++) {
            versions.put("k" + i, "v" + i);
        }
        assertEquals(200_000, versions.size());
        for (int i = 0; i < 200_000; i += 997) {
            assertTrue(versions.contains(new MarkRow("k" + i, "v" + i)));
            assertFalse(versions.contains(new MarkRow("k" + i, "v" + (i + 1))));
            assertFalse(versions.contains(new MarkRow("x" + i, "v" + i)));
        }
    }
}
