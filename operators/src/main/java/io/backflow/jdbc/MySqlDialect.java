package io.backflow.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

/**
 * MySQL and MariaDB, read through MariaDB Connector/J: backtick-quoted names, databases as
 * schemas, and streaming reads (the driver fetches {@code fetchSize} rows at a time instead of
 * buffering the whole result when a fetch size is set).
 */
public class MySqlDialect implements SqlDialect {
    private static final long serialVersionUID = 1L;

    @Override
    public String name() {
        return "mysql";
    }

    @Override
    public List<String> urlPrefixes() {
        return List.of("jdbc:mariadb:", "jdbc:mysql:");
    }

    /**
     * MariaDB Connector/J takes {@code jdbc:mysql:} URLs only with {@code permitMysqlScheme}; users
     * of MySQL write the URL they know.
     */
    @Override
    public String driverUrl(String url) {
        if (!url.regionMatches(true, 0, "jdbc:mysql:", 0, "jdbc:mysql:".length()) || url.contains("permitMysqlScheme")) {
            return url;
        }
        return url + (url.indexOf('?') < 0 ? "?" : "&") + "permitMysqlScheme";
    }

    @Override
    public String quoteIdentifier(String identifier) {
        return '`' + identifier.replace("`", "``") + '`';
    }

    /**
     * Every transaction of the session read-only (a stored function that writes fails with error
     * 1792), at REPEATABLE READ so that InnoDB serves every page of a split from one snapshot.
     */
    @Override
    public void beginStreamingRead(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        }
        connection.setAutoCommit(false);
    }

    /** A {@code FLOAT} column compares with its own value only as a float (see AnsiDialect). */
    @Override
    public String placeholder(int sqlType, String typeName) {
        return sqlType == java.sql.Types.REAL ? "CAST(? AS FLOAT)" : "?";
    }

    /** A stored function called from a SELECT can write. */
    @Override
    public boolean queriesCanWrite() {
        return true;
    }

    @Override
    public List<String> searchedSchemas(Connection connection) throws SQLException {
        return SqlDialect.schemaNamedBy(connection, "SELECT DATABASE()");
    }

    /**
     * MySQL has no zoned timestamp type: {@code TIMESTAMP} and {@code DATETIME} both compare with
     * the session's wall clock, {@code NOW(6)} (microseconds, so a delay below a second counts).
     */
    @Override
    public String clockBound(int sqlType, Duration delay) {
        return delay.isZero() ? "NOW(6)" : "(NOW(6) - INTERVAL " + delay.toNanos() / 1_000 + " MICROSECOND)";
    }
}
