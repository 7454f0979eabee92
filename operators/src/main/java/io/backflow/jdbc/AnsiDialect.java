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
}
