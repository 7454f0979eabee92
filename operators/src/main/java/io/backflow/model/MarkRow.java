package io.backflow.model;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * A row resolved at its run's high-water mark, as the ledger remembers it so that the next run,
 * which reads that cursor value again, skips exactly the rows it already resolved in that form.
 *
 * <p>It is 24 bytes, whatever the row: a 64-bit hash of the row's key, and the 128 bits of the id of
 * what was resolved (the event's messageId, which is derived from the key and the content, or for an
 * invalid row an id of its key and reason). A million rows sharing one cursor value cost 24 MB in
 * checkpoints and in the ledger, not the hundreds of MB their keys as text would. A row is skipped
 * only if the id matches, which is as exact as messageIds themselves; two keys with the same hash
 * keep one id between them, so at worst one of them is sent again.
 *
 * @param key hash of the row's primary-key values (see {@link #of})
 * @param idHigh the id's most significant 64 bits
 * @param idLow the id's least significant 64 bits
 */
public record MarkRow(long key, long idHigh, long idLow) implements Serializable {

    /**
     * @param key the row's primary-key values as a {@link io.backflow.jdbc.PositionCodec} string, or
     *     for a row without a complete key a text derived from all its values
     * @param id a UUID: the row's messageId, or an id of its invalid reason
     */
    public static MarkRow of(String key, String id) {
        UUID uuid = UUID.fromString(id);
        return new MarkRow(hash(key), uuid.getMostSignificantBits(), uuid.getLeastSignificantBits());
    }

    /** FNV-1a over the UTF-8 bytes, then the splitmix64 finalizer; never 0, which marks a free slot in hash tables. */
    static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 30;
        h *= 0xbf58476d1ce4e5b9L;
        h ^= h >>> 27;
        h *= 0x94d049bb133111ebL;
        h ^= h >>> 31;
        return h == 0 ? 1 : h;
    }
}
