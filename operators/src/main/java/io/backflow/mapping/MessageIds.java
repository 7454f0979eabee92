package io.backflow.mapping;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * Deterministic messageIds: one per row version, so destinations that deduplicate on messageId
 * (Segment, RudderStack) drop a re-sent unchanged row, while a changed row gets a new id.
 *
 * <p>The id is a name-based UUID over SHA-256 (RFC 9562 version 8 layout, as in its SHA-256
 * example) of the connection name, the primary-key JSON and the event content: the serialized
 * {@code type}, {@code event}, a record's {@code action} and {@code identifiers}, {@code userId},
 * {@code anonymousId}, {@code properties}/{@code traits}/{@code fields} and, only when it comes from a
 * column, the timestamp. The action is content: an insert and a delete of one key get different ids. It never includes the run id or the wall
 * clock. A change of the mapping that changes the content changes the ids, which is intended.
 */
public final class MessageIds {
    private final MessageDigest sha256;

    /** A generator with its own digest; use one per thread. */
    public MessageIds() {
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    /**
     * The id of {@code content[offset, offset + length)} for a row of {@code connection} whose key JSON is
     * {@code keyJson[0, keyLength)}; all UTF-8.
     */
    public String messageId(byte[] connection, byte[] keyJson, int keyLength, byte[] content, int offset, int length) {
        sha256.reset();
        // Length-prefix the name so ("ab", "c...") and ("a", "bc...") cannot collide; the JSON parts
        // cannot contain a raw 0 byte, so 0 separates them unambiguously.
        int n = connection.length;
        sha256.update((byte) (n >>> 24));
        sha256.update((byte) (n >>> 16));
        sha256.update((byte) (n >>> 8));
        sha256.update((byte) n);
        sha256.update(connection);
        sha256.update((byte) 0);
        sha256.update(keyJson, 0, keyLength);
        sha256.update((byte) 0);
        sha256.update(content, offset, length);
        return toUuid(sha256.digest());
    }

    /** Convenience form of {@link #messageId(byte[], byte[], int, byte[], int, int)}. */
    public String messageId(String connection, String keyJson, byte[] content) {
        byte[] key = keyJson.getBytes(StandardCharsets.UTF_8);
        return messageId(connection.getBytes(StandardCharsets.UTF_8), key, key.length, content, 0, content.length);
    }

    static String toUuid(byte[] hash) {
        hash[6] = (byte) ((hash[6] & 0x0f) | 0x80); // version 8
        hash[8] = (byte) ((hash[8] & 0x3f) | 0x80); // RFC variant
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = (msb << 8) | (hash[i] & 0xff);
            lsb = (lsb << 8) | (hash[8 + i] & 0xff);
        }
        return new UUID(msb, lsb).toString();
    }
}
