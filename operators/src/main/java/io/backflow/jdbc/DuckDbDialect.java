package io.backflow.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/** DuckDB: embedded, streams results natively; writes are refused by the read-only check below. */
public class DuckDbDialect extends AnsiDialect {
    private static final long serialVersionUID = 1L;

    @Override
    public String name() {
        return "duckdb";
    }

    @Override
    public void beginStreamingRead(Connection connection) throws SQLException {
        // DuckDB shares one database instance per file inside a JVM (the ledger may write to it
        // at the same time), so the read-only guarantee comes from the transaction, not the file.
        connection.setAutoCommit(false);
    }
}
