package io.backflow.mapping;

import io.backflow.model.MarkRow;

/**
 * The rows resolved at a mark, by key hash, each with the id it was resolved as, in
 * open-addressing arrays: 24 bytes a slot, so a million rows cost about 48 MB at the table's
 * lowest fill, where a {@code HashMap} of boxed values costs several times that.
 */
public final class RowVersions {
    private long[] keys = new long[16];
    private long[] highs = new long[16];
    private long[] lows = new long[16];
    private int size;

    /** Remembers {@code row}; a later row with the same key replaces it. */
    public void put(MarkRow row) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        insert(row.key(), row.idHigh(), row.idLow());
    }

    /** True when {@code row}'s key was resolved with exactly this id. */
    public boolean contains(MarkRow row) {
        int mask = keys.length - 1;
        for (int i = slot(row.key(), mask); keys[i] != 0; i = (i + 1) & mask) {
            if (keys[i] == row.key()) {
                return highs[i] == row.idHigh() && lows[i] == row.idLow();
            }
        }
        return false;
    }

    public int size() {
        return size;
    }

    private void insert(long key, long high, long low) {
        int mask = keys.length - 1;
        int i = slot(key, mask);
        while (keys[i] != 0 && keys[i] != key) {
            i = (i + 1) & mask;
        }
        if (keys[i] == 0) {
            size++;
        }
        keys[i] = key;
        highs[i] = high;
        lows[i] = low;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldHighs = highs;
        long[] oldLows = lows;
        keys = new long[oldKeys.length * 2];
        highs = new long[oldKeys.length * 2];
        lows = new long[oldKeys.length * 2];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                insert(oldKeys[i], oldHighs[i], oldLows[i]);
            }
        }
    }

    private static int slot(long hash, int mask) {
        return (int) (hash ^ (hash >>> 32)) & mask;
    }
}
