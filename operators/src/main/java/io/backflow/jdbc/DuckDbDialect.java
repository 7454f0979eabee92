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

    /** DuckDB will not compare UUID or HUGEINT columns with a VARCHAR or DECIMAL parameter. */
    @Override
    public String placeholder(int sqlType, String typeName) {
        if ((sqlType == Types.JAVA_OBJECT || sqlType == Types.OTHER)
                && typeName != null
                && SAFE_TYPE_NAME.matcher(typeName).matches()) {
            return "CAST(? AS " + typeName + ")";
        }
        return "?";
    }
}
