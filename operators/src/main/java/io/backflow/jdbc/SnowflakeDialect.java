package io.backflow.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.List;

/**
 * Snowflake, through its own JDBC driver (not bundled: put {@code snowflake-jdbc} in lib/).
 * Snowflake has no read-only transactions and reads at READ COMMITTED, each statement on its own
 * snapshot; nothing a SELECT calls can write (UDFs cannot run DML), so the single-query rule on
 * {@code sql:} models is what keeps a sync read-only, and a role with only SELECT grants is the
 * recommended user.
 */
public class SnowflakeDialect extends AnsiDialect {
    private static final long serialVersionUID = 1L;

    @Override
    public String name() {
        return "snowflake";
    }

    @Override
    public List<String> urlPrefixes() {
        return List.of("jdbc:snowflake:");
    }

    /** The driver rejects {@code setReadOnly(true)}; results stream in chunks whatever the mode. */
    @Override
    public void beginStreamingRead(Connection connection) throws SQLException {
        connection.setAutoCommit(false);
    }

    @Override
    public List<String> searchedSchemas(Connection connection) throws SQLException {
        return SqlDialect.schemaNamedBy(connection, "SELECT CURRENT_SCHEMA()");
    }

    /**
     * {@code TIMESTAMP_TZ}/{@code LTZ} compare with the instant; {@code TIMESTAMP_NTZ} and dates
     * with the session zone's wall clock, as on PostgreSQL.
     */
    @Override
    public String clockBound(int sqlType, Duration delay) {
        String now = sqlType == Types.TIMESTAMP_WITH_TIMEZONE ? "CURRENT_TIMESTAMP()" : "CAST(CURRENT_TIMESTAMP() AS TIMESTAMP_NTZ)";
        return delay.isZero() ? now : "DATEADD(millisecond, -" + delay.toMillis() + ", " + now + ")";
    }
}
