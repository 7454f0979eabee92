package io.backflow.sink;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/** Cuts a list of events into consecutive chunks that each stay within a count and a byte limit. */
public final class Chunks {
    private Chunks() {}

    /**
     * Chunks of at most {@code maxCount} items whose {@code size}s, plus {@code separatorBytes}
     * between two items and {@code overheadBytes} per chunk, stay within {@code maxBytes}. An item
     * too large even alone gets a chunk of its own (callers refuse such events before).
     */
    public static <T> List<List<T>> of(List<T> items, int maxCount, long maxBytes, long overheadBytes, long separatorBytes, ToLongFunction<T> size) {
        List<List<T>> out = new ArrayList<>();
        List<T> current = new ArrayList<>();
        long bytes = overheadBytes;
        for (T item : items) {
            long added = size.applyAsLong(item) + (current.isEmpty() ? 0 : separatorBytes);
            if (!current.isEmpty() && (current.size() >= maxCount || bytes + added > maxBytes)) {
                out.add(current);
                current = new ArrayList<>();
                bytes = overheadBytes;
                added = size.applyAsLong(item);
            }
            current.add(item);
            bytes += added;
        }
        if (!current.isEmpty()) {
            out.add(current);
        }
        return out;
    }
}
