package io.backflow.jdbc;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;

/**
 * The binary form of the values {@link JdbcValues} reads (and {@link PositionCodec} knows), for
 * Flink's record serializers: a tag byte, then the value. Used only when records cross a network
 * or a state boundary, which a chained sync never does; any other type is refused by name rather
 * than handed to a generic serializer.
 */
public final class ValueCodec {
    private static final byte NULL = 0;
    private static final byte LONG = 1;
    private static final byte INT = 2;
    private static final byte DOUBLE = 3;
    private static final byte FLOAT = 4;
    private static final byte DECIMAL = 5;
    private static final byte BOOL = 6;
    private static final byte DATE = 7;
    private static final byte TIMESTAMP = 8;
    private static final byte TIMESTAMPTZ = 9;
    private static final byte BYTES = 10;
    private static final byte STRING = 11;

    private ValueCodec() {}

    public static void write(Object v, DataOutput out) throws IOException {
        if (v == null) {
            out.writeByte(NULL);
        } else if (v instanceof Long l) {
            out.writeByte(LONG);
            out.writeLong(l);
        } else if (v instanceof Integer i) {
            out.writeByte(INT);
            out.writeInt(i);
        } else if (v instanceof Double d) {
            out.writeByte(DOUBLE);
            out.writeDouble(d);
        } else if (v instanceof Float f) {
            out.writeByte(FLOAT);
            out.writeFloat(f);
        } else if (v instanceof BigDecimal d) {
            out.writeByte(DECIMAL);
            out.writeInt(d.scale());
            writeBytes(d.unscaledValue().toByteArray(), out);
        } else if (v instanceof Boolean b) {
            out.writeByte(BOOL);
            out.writeBoolean(b);
        } else if (v instanceof LocalDate d) {
            out.writeByte(DATE);
            out.writeLong(d.toEpochDay());
        } else if (v instanceof LocalDateTime t) {
            out.writeByte(TIMESTAMP);
            out.writeLong(t.toLocalDate().toEpochDay());
            out.writeLong(t.toLocalTime().toNanoOfDay());
        } else if (v instanceof Instant t) {
            out.writeByte(TIMESTAMPTZ);
            out.writeLong(t.getEpochSecond());
            out.writeInt(t.getNano());
        } else if (v instanceof byte[] b) {
            out.writeByte(BYTES);
            writeBytes(b, out);
        } else if (v instanceof String s) {
            out.writeByte(STRING);
            writeString(s, out);
        } else {
            throw new IOException("cannot serialize a column value of type " + v.getClass().getName()
                    + " (Backflow reads numbers, decimals, booleans, dates, timestamps, bytes and text)");
        }
    }

    public static Object read(DataInput in) throws IOException {
        byte tag = in.readByte();
        switch (tag) {
            case NULL: return null;
            case LONG: return in.readLong();
            case INT: return in.readInt();
            case DOUBLE: return in.readDouble();
            case FLOAT: return in.readFloat();
            case DECIMAL: {
                int scale = in.readInt();
                return new BigDecimal(new BigInteger(readBytes(in)), scale);
            }
            case BOOL: return in.readBoolean();
            case DATE: return LocalDate.ofEpochDay(in.readLong());
            case TIMESTAMP: return LocalDateTime.of(LocalDate.ofEpochDay(in.readLong()), LocalTime.ofNanoOfDay(in.readLong()));
            case TIMESTAMPTZ: return Instant.ofEpochSecond(in.readLong(), in.readInt());
            case BYTES: return readBytes(in);
            case STRING: return readString(in);
            default: throw new IOException("unknown value tag " + tag + " (written by another version of Backflow?)");
        }
    }

    /** An array of values; null is written as length -1. */
    public static void writeArray(Object[] values, DataOutput out) throws IOException {
        if (values == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(values.length);
        for (Object v : values) {
            write(v, out);
        }
    }

    public static Object[] readArray(DataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        Object[] values = new Object[n];
        for (int i = 0; i < n; i++) {
            values[i] = read(in);
        }
        return values;
    }

    /** A nullable string as UTF-8 with its length ({@link DataOutput#writeUTF} stops at 64 KB). */
    public static void writeString(String s, DataOutput out) throws IOException {
        writeBytes(s == null ? null : s.getBytes(StandardCharsets.UTF_8), out);
    }

    public static String readString(DataInput in) throws IOException {
        byte[] b = readBytes(in);
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** Nullable bytes with their length (-1 for null). */
    public static void writeBytes(byte[] b, DataOutput out) throws IOException {
        if (b == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(b.length);
        out.write(b);
    }

    public static byte[] readBytes(DataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    /** A copy whose mutable parts (arrays, byte arrays) are not shared with {@code values}. */
    public static Object[] copy(Object[] values) {
        if (values == null) {
            return null;
        }
        Object[] out = values.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] instanceof byte[] b) {
                out[i] = b.clone();
            }
        }
        return out;
    }
}
