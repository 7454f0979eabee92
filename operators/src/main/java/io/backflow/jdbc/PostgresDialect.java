package io.backflow.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** PostgreSQL (and Redshift): the driver streams only with auto-commit off and a fetch size. */
public class PostgresDialect extends AnsiDialect {
    private static final long serialVersionUID = 1L;

    @Override
    public String name() {
        return "postgresql";
    }

    @Override
    public void beginStreamingRead(Connection connection) throws SQLException {
        connection.setAutoCommit(false);
        try (Statement st = connection.createStatement()) {
            // REPEATABLE READ gives every page of one split the same snapshot.
            st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
        }
    }
}
