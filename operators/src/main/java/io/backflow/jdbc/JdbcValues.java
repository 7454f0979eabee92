package io.backflow.jdbc;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * Reads column values into the small set of Java types the rest of Backflow understands:
 * {@link Long}, {@link Double}, {@link BigDecimal}, {@link Boolean}, {@link String},
 * {@link LocalDate}, {@link LocalDateTime} (timestamp without zone), {@link Instant}
 * (timestamp with zone) and {@code byte[]}. Everything else becomes its string form.
 */
public final class JdbcValues {
    private JdbcValues() {}

    /**
     * The JDBC type of every column (index 0 is column 1), corrected where drivers report less
     * than they know: PostgreSQL reports {@code timestamptz} as plain {@code TIMESTAMP}, which
     * cannot be read as a {@link LocalDateTime}. Pass these types to {@link #read}.
     */
    public static int[] columnTypes(ResultSetMetaData metaData) throws SQLException {
        int[] types = new int[metaData.getColumnCount()];
        for (int i = 0; i < types.length; i++) {
            int type = metaData.getColumnType(i + 1);
            String name = metaData.getColumnTypeName(i + 1);
            String lower = name == null ? "" : name.toLowerCase(java.util.Locale.ROOT);
            if (type == Types.TIMESTAMP && (lower.equals("timestamptz") || lower.contains("with time zone"))) {
                type = Types.TIMESTAMP_WITH_TIMEZONE;
            } else if (type == Types.TIME && (lower.equals("timetz") || lower.contains("with time zone"))) {
                type = Types.TIME_WITH_TIMEZONE;
            } else if (type == Types.BIT && !lower.startsWith("bool") && metaData.getPrecision(i + 1) != 1) {
                // A bit string (PostgreSQL bit(4), DuckDB's BIT), not a boolean: read as a boolean,
                // '0101' became false.
                type = Types.OTHER;
            }
            types[i] = type;
        }
        return types;
    }

    /** Reads column {@code index} (1-based) whose JDBC type is {@code sqlType}. */
    public static Object read(ResultSet rs, int index, int sqlType) throws SQLException {
        switch (sqlType) {
            case Types.TINYINT:
            case Types.SMALLINT:
            case Types.INTEGER:
            case Types.BIGINT: {
                long v = rs.getLong(index);
                return rs.wasNull() ? null : v;
            }
            case Types.REAL: {
                // Single precision, as the float's own decimal text: the PostgreSQL driver returns
                // 0.7 for a float4 sent as text and 0.699999988079071 once the statement is
                // server-prepared and the value comes in binary; the same row must read the same.
                float v = rs.getFloat(index);
                return rs.wasNull() ? null : Double.parseDouble(Float.toString(v));
            }
            case Types.FLOAT:
            case Types.DOUBLE: {
                double v = rs.getDouble(index);
                return rs.wasNull() ? null : v;
            }
            case Types.NUMERIC:
            case Types.DECIMAL:
                try {
                    return rs.getBigDecimal(index);
                } catch (SQLException e) {
                    // PostgreSQL's numeric holds NaN and (since 14) +-Infinity, which no BigDecimal
                    // can: they become the double of the same name, as a float column's would.
                    Double special = specialNumber(rs.getString(index));
                    if (special == null) {
                        throw e;
                    }
                    return special;
                }
            case Types.BIT:
            case Types.BOOLEAN: {
                boolean v = rs.getBoolean(index);
                return rs.wasNull() ? null : v;
            }
            case Types.DATE:
                return rs.getObject(index, LocalDate.class);
            case Types.TIMESTAMP:
                try {
                    return rs.getObject(index, LocalDateTime.class);
                } catch (SQLException e) {
                    if (!rs.getClass().getName().startsWith("org.duckdb.")) {
                        throw e;
                    }
                    // DuckDB's driver converts only TIMESTAMP (microseconds) to a LocalDateTime, not
                    // TIMESTAMP_S, _MS or _NS. Its Timestamp for them is built in the JVM's zone,
                    // which shifts wall times inside a DST gap; read against UTC, it is exact.
                    java.sql.Timestamp t = rs.getTimestamp(index, java.util.Calendar.getInstance(java.util.TimeZone.getTimeZone("UTC")));
                    return t == null ? null : LocalDateTime.ofInstant(t.toInstant(), ZoneOffset.UTC);
                }
            case Types.TIMESTAMP_WITH_TIMEZONE: {
                OffsetDateTime v = rs.getObject(index, OffsetDateTime.class);
                return v == null ? null : v.toInstant();
            }
            case Types.TIME:
                return rs.getObject(index, LocalTime.class) == null ? null : rs.getObject(index, LocalTime.class).toString();
            case Types.BINARY:
            case Types.VARBINARY:
            case Types.LONGVARBINARY:
            case Types.BLOB:
                return rs.getBytes(index);
            default: {
                Object v = rs.getObject(index);
                if (v == null) {
                    return null;
                }
                if (v instanceof java.sql.Timestamp) {
                    return ((java.sql.Timestamp) v).toLocalDateTime();
                }
                if (v instanceof OffsetDateTime) {
                    return ((OffsetDateTime) v).toInstant();
                }
                if (v instanceof BigInteger) {
                    // DuckDB HUGEINT / UBIGINT: a long would wrap around.
                    return new BigDecimal((BigInteger) v);
                }
                if (v instanceof Number && !(v instanceof BigDecimal)) {
                    return ((Number) v).longValue();
                }
                if (v instanceof byte[]) {
                    // A MariaDB BIT(8), say: bytes, as binary columns are read.
                    return v;
                }
                if (v instanceof java.sql.SQLXML) {
                    // Its toString() names the Java object, not the document.
                    return ((java.sql.SQLXML) v).getString();
                }
                if (NestedValues.isNested(v)) {
                    return NestedValues.json(v);
                }
                if (v instanceof java.sql.Clob) {
                    java.sql.Clob clob = (java.sql.Clob) v;
                    return clob.getSubString(1, (int) Math.min(Integer.MAX_VALUE, clob.length()));
                }
                return v.toString();
            }
        }
    }

    /**
     * {@link #read}, or the database's own text of a value the driver cannot convert to its
     * column's Java type (a MySQL zero date, a type it does not know): one odd value in a column
     * that only feeds the events neither fails a sync nor loses its row.
     */
    public static Object readOrText(ResultSet rs, int index, int sqlType) throws SQLException {
        try {
            return read(rs, index, sqlType);
        } catch (SQLException e) {
            return rs.getString(index);
        }
    }

    private static Double specialNumber(String text) {
        if (text == null) {
            return null;
        }
        switch (text) {
            case "NaN":
                return Double.NaN;
            case "Infinity":
                return Double.POSITIVE_INFINITY;
            case "-Infinity":
                return Double.NEGATIVE_INFINITY;
            default:
                return null;
        }
    }

    /**
     * Whether two values of one column are equal as the database compares them: a value read by
     * {@link #read} against one decoded by {@link PositionCodec} (which widens every integer to a
     * long), numbers by value whatever their scale ({@code 1.0} equals {@code 1.00}).
     */
    public static boolean sameValue(Object a, Object b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (a instanceof BigDecimal && b instanceof BigDecimal) {
            return ((BigDecimal) a).compareTo((BigDecimal) b) == 0;
        }
        if (a instanceof Number && b instanceof Number) {
            if (isIntegral(a) && isIntegral(b)) {
                return ((Number) a).longValue() == ((Number) b).longValue();
            }
            return new BigDecimal(a.toString()).compareTo(new BigDecimal(b.toString())) == 0;
        }
        if (a instanceof byte[] && b instanceof byte[]) {
            return java.util.Arrays.equals((byte[]) a, (byte[]) b);
        }
        return a.equals(b);
    }

    private static boolean isIntegral(Object n) {
        return n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte;
    }

    /** Binds a value produced by {@link #read} (or decoded by {@link PositionCodec}) to a parameter. */
    public static void bind(PreparedStatement ps, int index, Object value) throws SQLException {
        if (value == null) {
            ps.setObject(index, null);
        } else if (value instanceof Instant) {
            ps.setObject(index, ((Instant) value).atOffset(ZoneOffset.UTC));
        } else {
            ps.setObject(index, value);
        }
    }
}
