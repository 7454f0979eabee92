package io.backflow.model;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * An immutable list of {@link MarkRow}s packed as 24 bytes each (big-endian key, idHigh, idLow):
 * the form in which a committable carries them and the ledger stores them, one blob per commit.
 */
public final class MarkRows implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Bytes per row. */
    public static final int ROW_BYTES = 24;
    public static final MarkRows EMPTY = new MarkRows(new byte[0]);

    private final byte[] packed;

    private MarkRows(byte[] packed) {
        this.packed = packed;
    }

    /** Rows as {@link #bytes()} wrote them. */
    public static MarkRows fromBytes(byte[] packed) {
        if (packed.length % ROW_BYTES != 0) {
            throw new IllegalArgumentException("packed mark rows must be a multiple of " + ROW_BYTES + " bytes, got " + packed.length);
        }
        return packed.length == 0 ? EMPTY : new MarkRows(packed.clone());
    }

    public int size() {
        return packed.length / ROW_BYTES;
    }

    public boolean isEmpty() {
        return packed.length == 0;
    }

    /** The packed form; a copy. */
    public byte[] bytes() {
        return packed.clone();
    }

    public void forEach(Consumer<MarkRow> each) {
        ByteBuffer in = ByteBuffer.wrap(packed);
        while (in.hasRemaining()) {
            each.accept(new MarkRow(in.getLong(), in.getLong(), in.getLong()));
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MarkRows && Arrays.equals(packed, ((MarkRows) o).packed);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(packed);
    }

    @Override
    public String toString() {
        return "MarkRows{" + size() + "}";
    }

    /** Collects rows; safe to add to from several threads (the sink's HTTP callbacks). */
    public static final class Builder {
        private ByteBuffer buffer = ByteBuffer.allocate(0);

        public synchronized void add(MarkRow row) {
            if (buffer.remaining() < ROW_BYTES) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(ROW_BYTES * 64, buffer.capacity() * 2));
                buffer.flip();
                bigger.put(buffer);
                buffer = bigger;
            }
            buffer.putLong(row.key()).putLong(row.idHigh()).putLong(row.idLow());
        }

        /** Everything added so far, and starts over. */
        public synchronized MarkRows drain() {
            if (buffer.position() == 0) {
                return EMPTY;
            }
            MarkRows rows = new MarkRows(Arrays.copyOf(buffer.array(), buffer.position()));
            buffer = ByteBuffer.allocate(0);
            return rows;
        }
    }
}
