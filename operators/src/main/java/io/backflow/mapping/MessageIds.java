package io.backflow.mapping;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import org.apache.commons.codec.digest.MurmurHash3;

/**
 * Deterministic messageIds: one per row version, so destinations that deduplicate on messageId
 * (Segment, RudderStack) drop a re-sent unchanged row, while a changed row gets a new id.
 *
 * <p>The id is a UUID in the RFC 9562 version 8 layout whose bits are the 128-bit MurmurHash3
 * (x64, seed 0) of the connection name, the primary-key JSON and the event content: the serialized
 * {@code type}, {@code event}, a record's {@code action} and {@code identifiers}, {@code userId},
 * {@code anonymousId}, {@code properties}/{@code traits}/{@code fields} and, only when it comes from a
 * column, the timestamp. The action is content: an insert and a delete of one key get different ids.
 * A cursor sync adds the row's cursor value, so a row changed back to an earlier content still gets
 * a new id. It never includes the run id or the wall clock. A change of the mapping that changes the content
 * changes the ids, which is intended.
 *
 * <p>Why not a cryptographic hash: ids only need to differ between row versions of one warehouse,
 * nobody forges them, and 122 hash bits make an accidental collision among a billion rows about
 * 10^-19 likely; SHA-256 cost a third of the sync's CPU per row. Earlier builds hashed with SHA-256,
 * so a row re-sent after upgrading from one gets a new id once (README, "messageIds").
 */
public final class MessageIds {
    /** The hashed bytes of one id, reused: length-prefixed connection, 0, key, 0, content. */
    private byte[] buffer = new byte[512];

    /** A generator with its own buffer; use one per thread. */
    public MessageIds() {}

    /**
     * The id of {@code content[offset, offset + length)} for a row of {@code connection} whose key JSON is
     * {@code keyJson[0, keyLength)}; all UTF-8.
     */
    public String messageId(byte[] connection, byte[] keyJson, int keyLength, byte[] content, int offset, int length) {
        return messageId(connection, keyJson, keyLength, content, offset, length, null, 0);
    }

    /**
     * As {@link #messageId(byte[], byte[], int, byte[], int, int)}, with the row's version (its
     * cursor value, {@code ValueCodec} bytes; null for none) hashed after the content.
     */
    public String messageId(byte[] connection, byte[] keyJson, int keyLength, byte[] content, int offset, int length,
                            byte[] version, int versionLength) {
        int n = connection.length;
        int size = 4 + n + 1 + keyLength + 1 + length + (version == null ? 0 : 1 + versionLength);
        if (size > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.max(size, buffer.length * 2));
        }
        byte[] b = buffer;
        // Length-prefix the name so ("ab", "c...") and ("a", "bc...") cannot collide; the JSON parts
        // cannot contain a raw 0 byte, so 0 separates them unambiguously (the version, binary, comes last).
        b[0] = (byte) (n >>> 24);
        b[1] = (byte) (n >>> 16);
        b[2] = (byte) (n >>> 8);
        b[3] = (byte) n;
        System.arraycopy(connection, 0, b, 4, n);
        int at = 4 + n;
        b[at++] = 0;
        System.arraycopy(keyJson, 0, b, at, keyLength);
        at += keyLength;
        b[at++] = 0;
        System.arraycopy(content, offset, b, at, length);
        if (version != null) {
            at += length;
            b[at++] = 0;
            System.arraycopy(version, 0, b, at, versionLength);
        }
        long[] hash = MurmurHash3.hash128x64(b, 0, size, 0);
        return toUuid(hash[0], hash[1]);
    }

    /** Convenience form of {@link #messageId(byte[], byte[], int, byte[], int, int)}. */
    public String messageId(String connection, String keyJson, byte[] content) {
        byte[] key = keyJson.getBytes(StandardCharsets.UTF_8);
        return messageId(connection.getBytes(StandardCharsets.UTF_8), key, key.length, content, 0, content.length);
    }

    static String toUuid(long msb, long lsb) {
        msb = (msb & ~0xF000L) | 0x8000L; // version 8
        lsb = (lsb & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L; // RFC variant
        return new UUID(msb, lsb).toString();
    }
}
