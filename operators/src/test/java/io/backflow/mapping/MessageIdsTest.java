package io.backflow.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MessageIdsTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void idsAreVersion8RfcVariantUuids() {
        UUID id = UUID.fromString(new MessageIds().messageId("c", "{\"id\":1}", utf8("{\"type\":\"track\"")));

        assertEquals(8, id.version());
        assertEquals(2, id.variant());
    }

    /**
     * Pinned: destinations drop re-sent rows by id only while the scheme stays the same, so a change
     * of hash, layout or separators must be a deliberate, documented one (README, "messageIds").
     */
    @Test
    void theSchemeIsStableAcrossReleases() {
        assertEquals("81eff326-0d81-86f0-af40-f0fff1fccb15",
                new MessageIds().messageId("orders", "{\"id\":42}", utf8("{\"type\":\"track\",\"event\":\"Order Completed\"")));
    }

    @Test
    void aLongEventGrowsTheBufferAndKeepsItsId() {
        byte[] big = utf8("{\"type\":\"track\",\"properties\":{\"note\":\"" + "x".repeat(5000) + "\"}");
        MessageIds ids = new MessageIds();
        String first = ids.messageId("c", "{\"id\":1}", big);
        ids.messageId("c", "{\"id\":2}", utf8("short"));
        assertEquals(first, new MessageIds().messageId("c", "{\"id\":1}", big));
        assertNotEquals(first, ids.messageId("c", "{\"id\":1}", java.util.Arrays.copyOf(big, big.length - 1)));
    }

    @Test
    void sameInputGivesSameIdAcrossInstances() {
        String a = new MessageIds().messageId("c", "{\"id\":1}", utf8("{\"type\":\"track\""));
        MessageIds reused = new MessageIds();
        reused.messageId("other", "{\"id\":2}", utf8("x"));

        assertEquals(a, reused.messageId("c", "{\"id\":1}", utf8("{\"type\":\"track\"")));
    }

    @Test
    void partsCannotBeShiftedIntoEachOther() {
        MessageIds ids = new MessageIds();

        assertNotEquals(ids.messageId("ab", "{}", utf8("c")), ids.messageId("a", "b{}", utf8("c")));
        assertNotEquals(ids.messageId("a", "{}c", utf8("")), ids.messageId("a", "{}", utf8("c")));
    }

    @Test
    void onlyTheGivenContentRangeCounts() {
        MessageIds ids = new MessageIds();
        byte[] buffer = utf8("{\"type\":\"track\"}GARBAGE");

        assertEquals(ids.messageId("c", "{}", utf8("{\"type\":\"track\"}")),
                ids.messageId(utf8("c"), utf8("{}XYZ"), 2, buffer, 0, 16));
    }
}
