package io.backflow.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.regex.Pattern;

/**
 * DuckDB: embedded, one database instance per file inside a JVM, shared by every connection to
 * that file (the source's readers, the ledger, tests), so reads and writes coexist.
 */
public class DuckDbDialect extends AnsiDialect {
    private static final long serialVersionUID = 1L;

    private static final Pattern SAFE_TYPE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_ ]*(\\([0-9, ]*\\))?");

    @Override
    public String name() {
        return "duckdb";
    }

    @Override
    public java.util.List<String> urlPrefixes() {
        return java.util.List.of("jdbc:duckdb:");
    }

    @Override
    public boolean canHoldLedger() {
        return true;
    }

    /**
     * A read-only transaction (one snapshot for every page of a split). The DuckDB driver refuses
     * {@code setReadOnly} on a connection and, with auto-commit off, opens its own read-write
     * transaction before the first statement; so auto-commit stays on and the read-only
     * transaction is opened explicitly. Closing the connection ends it.
     */
    @Override
    public void beginStreamingRead(Connection connection) throws SQLException {
        connection.setAutoCommit(true);
        try (Statement st = connection.createStatement()) {
            st.execute("BEGIN TRANSACTION READ ONLY");
        }
    }

    /** DuckDB's NUMERIC without a precision is DECIMAL(18,3): wider decimals stay exact as text. */
    @Override
    public String stagingType(int sqlType, int precision, int scale) {
        String type = super.stagingType(sqlType, precision, scale);
        return type.equals("NUMERIC") ? "VARCHAR" : type;
    }

    @Override
    public java.util.List<String> searchedSchemas(Connection connection) throws SQLException {
        return SqlDialect.schemaNamedBy(connection, "SELECT current_schema()");
    }

    /** DuckDB will not compare UUID or HUGEINT columns with a VARCHAR or DECIMAL parameter. */
    @Override
    public String placeholder(int sqlType, String typeName) {
        if (sqlType == Types.TIMESTAMP && "TIMESTAMP_NS".equalsIgnoreCase(typeName)) {
            // A LocalDateTime parameter is bound as a TIMESTAMP, in microseconds; see bind.
            return "CAST(? AS TIMESTAMP_NS)";
        }
        if ((sqlType == Types.JAVA_OBJECT || sqlType == Types.OTHER)
                && typeName != null
                && SAFE_TYPE_NAME.matcher(typeName).matches()) {
            return "CAST(? AS " + typeName + ")";
        }
        return "?";
    }

    /**
     * A JSON array of the values as text: unlike a STRUCT cast to VARCHAR, it tells NULL from the
     * text {@code 'NULL'}. A nested value (LIST, ARRAY, STRUCT, MAP, UNION) goes as its JSON, since
     * its VARCHAR text is ambiguous: {@code ['a, b']} and {@code ['a', 'b']} both read {@code [a, b]},
     * and {@code {'k': NULL}} reads as {@code {'k': 'NULL'}} does. {@code typeof} is folded to a
     * constant when the query is bound, so scalars pay nothing and keep the hashes they had.
     */
    @Override
    public String rowHash(java.util.List<String> quotedColumns) {
        StringBuilder values = new StringBuilder();
        for (String c : quotedColumns) {
            values.append(values.length() == 0 ? "" : ", ").append("CASE WHEN regexp_matches(typeof(").append(c)
                    .append("), '(\\]$|^STRUCT\\(|^MAP\\(|^UNION\\()') THEN CAST(to_json(").append(c).append(") AS VARCHAR) ELSE CAST(")
                    .append(c).append(" AS VARCHAR) END");
        }
        return "md5(CAST(to_json(list_value(" + values + ")) AS VARCHAR))";
    }

    /**
     * Row hashes read TIMESTAMPTZ values as text, which DuckDB writes in the session's TimeZone (the
     * process's TZ by default): the same instants must hash the same whatever zone the sync runs in.
     * A DuckDB without ICU has no TimeZone setting and writes them in UTC already.
     */
    @Override
    public void prepareBulkWork(Connection connection) throws SQLException {
        boolean zoned;
        try (Statement st = connection.createStatement();
                java.sql.ResultSet rs = st.executeQuery("SELECT value FROM duckdb_settings() WHERE name = 'TimeZone'")) {
            zoned = rs.next() && !"UTC".equals(rs.getString(1));
        }
        if (zoned) {
            try (Statement st = connection.createStatement()) {
                st.execute("SET TimeZone = 'UTC'");
            }
        }
    }

    /**
     * The driver binds a LocalDateTime as a microsecond TIMESTAMP: one with nanoseconds (from a
     * TIMESTAMP_NS column) goes as text, which {@link #placeholder} casts back to TIMESTAMP_NS; so
     * does a number of more than 38 digits.
     */
    @Override
    public void bind(java.sql.PreparedStatement statement, int index, Object value) throws SQLException {
        if (value instanceof java.time.LocalDateTime && ((java.time.LocalDateTime) value).getNano() % 1000 != 0) {
            statement.setString(index, value.toString());
        } else if (value instanceof java.math.BigDecimal && ((java.math.BigDecimal) value).precision() > 38) {
            // A HUGEINT or UHUGEINT of 39 digits: the driver binds a DECIMAL of more than 38 digits as
            // NULL, silently (a keyset predicate "> NULL" then ends the read). As text, the
            // placeholder's CAST makes it the column's type.
            statement.setString(index, ((java.math.BigDecimal) value).toPlainString());
        } else {
            super.bind(statement, index, value);
        }
    }
}
