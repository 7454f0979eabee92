package io.backflow.jdbc;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.io.Serializable;

/**
 * A position (a keyset tuple such as {@code (cursor, key...)}, or a count) that is encoded with
 * {@link PositionCodec} only when somebody asks for its text. Every row carries one, but only the
 * last per split per checkpoint and the keys of rows that fail are ever stored, so rows keep their
 * values and the text is computed once, for the few that need it.
 */
public final class Position implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The typed values, or null when the position was made from its text. */
    private final Object[] values;
    /** The PositionCodec text, once computed; racing threads compute the same string. */
    private volatile String encoded;

    private Position(Object[] values, String encoded) {
        this.values = values;
        this.encoded = encoded;
    }

    /** A position of typed column values (not copied: the caller hands them over). */
    public static Position of(Object[] values) {
        return values == null ? null : new Position(values, null);
    }

    /** A position already in its PositionCodec text (from state, the ledger, or a count). */
    public static Position ofEncoded(String encoded) {
        return encoded == null ? null : new Position(null, encoded);
    }

    /** The PositionCodec text of {@code position}, or null. */
    public static String encoded(Position position) {
        return position == null ? null : position.encoded();
    }

    /** The PositionCodec text. */
    public String encoded() {
        String e = encoded;
        if (e == null) {
            e = PositionCodec.encode(values);
            encoded = e;
        }
        return e;
    }

    /**
     * Writes {@code position} (may be null) for a record serializer: its values when it has them,
     * so nothing is encoded as text on the way, else its text.
     */
    public static void write(Position position, DataOutput out) throws IOException {
        if (position == null) {
            out.writeByte(0);
        } else if (position.values != null) {
            out.writeByte(1);
            ValueCodec.writeArray(position.values, out);
        } else {
            out.writeByte(2);
            ValueCodec.writeString(position.encoded, out);
        }
    }

    /** Reads what {@link #write} wrote. */
    public static Position read(DataInput in) throws IOException {
        byte form = in.readByte();
        switch (form) {
            case 0: return null;
            case 1: return of(ValueCodec.readArray(in));
            case 2: return ofEncoded(ValueCodec.readString(in));
            default: throw new IOException("unknown position form " + form);
        }
    }

    @Override
    public String toString() {
        return encoded();
    }
}
