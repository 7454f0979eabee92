package io.backflow.source.reader;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-row loose match of a text cursor agrees with the normalising one it short-cuts. */
class LooseMarkTest {
    @Test
    void theAsciiShortCutAgreesWithTheFullNormalisation() {
        List<String> values = List.of("x", "X", "x ", "x\t", "xy", "2024-01-01T00:00:00", "2024-01-01t00:00:00  ", "é", "e", "E\u0301",
                "Straße", "STRASSE", "", " ", "a b", "A B ");
        for (String mark : values) {
            String looseMark = JdbcScan.loose(mark);
            for (String text : values) {
                assertEquals(JdbcScan.loose(text).equals(looseMark), JdbcScan.looselyEqual(text, looseMark), text + " at " + mark);
            }
        }
    }
}
