package io.backflow.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/** Standard SQL: double-quoted identifiers and JDBC's own read-only flag. */
public class AnsiDialect implements SqlDialect {
    private static final long serialVersionUID = 1L;

    @Override
    public String name() {
        return "ansi";
    }

    @Override
    public String quoteIdentifier(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    @Override
    public void beginStreamingRead(Connection connection) throws SQLException {
        connection.setAutoCommit(false);
        connection.setReadOnly(true);
    }

    /**
     * A single-precision column ({@code REAL}) is read as the double its text prints ({@code 0.7}),
     * which is not the float the column holds (0.699999988...): compared as a double, the row is
     * not equal to its own value, so rows at the mark and ties across a page boundary would be
     * skipped. Cast back to the column's type, the shortest text of a float is that float again.
     */
    @Override
    public String placeholder(int sqlType, String typeName) {
        return sqlType == java.sql.Types.REAL ? "CAST(? AS REAL)" : "?";
    }
}
