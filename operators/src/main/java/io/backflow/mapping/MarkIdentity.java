package io.backflow.mapping;

import io.backflow.jdbc.PositionCodec;
import io.backflow.model.MarkRow;
import java.nio.charset.StandardCharsets;

/**
 * How a row at a mark is known again by the next run: by its primary-key values and what became
 * of it (the event's messageId, which changes with the content, or an id of its invalid reason). A
 * row with a NULL key column has no key; it is known by a hash of all its values instead.
 */
final class MarkIdentity {
    private final String connection;
    private final MessageIds ids = new MessageIds();

    MarkIdentity(String connection) {
        this.connection = connection;
    }

    /**
     * @param keyPosition the row's key values as a PositionCodec string
     * @param keyComplete false when a key column is NULL
     */
    MarkRow of(Object[] values, String keyPosition, boolean keyComplete, MappedRow mapped) {
        String key = keyComplete ? keyPosition : "row:" + ids.messageId(connection, "null key", bytes(PositionCodec.encode(values)));
        String version = mapped.isEvent()
                ? mapped.messageId()
                : ids.messageId(connection, String.valueOf(mapped.key()), bytes("invalid\u0000" + mapped.reason()));
        return MarkRow.of(key, version);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
