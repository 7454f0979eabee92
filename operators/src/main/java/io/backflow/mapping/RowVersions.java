package io.backflow.mapping;

import io.backflow.model.MarkRow;
import java.nio.charset.StandardCharsets;

/**
 * A set of (row key, version) pairs, held as two 64-bit hashes per row in open-addressing arrays:
 * about 32 bytes a row, so a million rows sharing one cursor value cost some 32 MB, where a
 * {@code HashMap<String, String>} of the same pairs costs several hundred.
 *
 * <p>Hashing can only err one way. Two keys with the same hash keep one version between them, so
 * the other row is sent again (a duplicate with its own messageId). A row is skipped only when its
 * key hash and its version hash both match what was stored; versions are SHA-256-based ids that
 * include the key, so a row that was not delivered in this form is skipped with a chance of about
 * 2<sup>-64</sup>.
 */
public final class RowVersions {
    private long[] keys = new long[16];
    private long[] versions = new long[16];
    private int size;

    /** Remembers that {@code key} was resolved as {@code version}; a later put for a key replaces it. */
    public void put(String key, String version) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        insert(hash(key), hash(version));
    }

    /** True when {@code row}'s key was resolved in exactly this version. */
    public boolean contains(MarkRow row) {
        long k = hash(row.key());
        int mask = keys.length - 1;
        for (int i = slot(k, mask); keys[i] != 0; i = (i + 1) & mask) {
            if (keys[i] == k) {
                return versions[i] == hash(row.version());
            }
        }
        return false;
    }

    public int size() {
        return size;
    }

    private void insert(long k, long v) {
        int mask = keys.length - 1;
        int i = slot(k, mask);
        while (keys[i] != 0 && keys[i] != k) {
            i = (i + 1) & mask;
        }
        if (keys[i] == 0) {
            size++;
        }
        keys[i] = k;
        versions[i] = v;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldVersions = versions;
        keys = new long[oldKeys.length * 2];
        versions = new long[oldKeys.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                insert(oldKeys[i], oldVersions[i]);
            }
        }
    }

    private static int slot(long hash, int mask) {
        return (int) (hash ^ (hash >>> 32)) & mask;
    }

    /** FNV-1a over the UTF-8 bytes, then the splitmix64 finalizer; never 0 (0 marks a free slot). */
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
