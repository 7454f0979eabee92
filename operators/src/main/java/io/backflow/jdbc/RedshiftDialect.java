package io.backflow.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * Amazon Redshift: PostgreSQL's wire protocol and quoting, with the differences that matter to a
 * reader. Its row comparison {@code (a, b) > (?, ?)} follows PostgreSQL 8.0 (column by column,
 * not lexicographic), so keyset pages use the expanded predicate; it has no {@code unnest}, no
 * {@code md5} of a row and no {@code ON CONFLICT}, so the ledger lives elsewhere; its clock is
 * {@code SYSDATE}, in UTC.
 */
public class RedshiftDialect extends AnsiDialect {
    private static final long serialVersionUID = 1L;

    @Override
    public String name() {
        return "redshift";
    }

    @Override
    public List<String> urlPrefixes() {
        return List.of("jdbc:redshift:");
    }

    /**
     * Auto-commit off (the driver streams only then) and read-only: the Redshift driver, like
     * PostgreSQL's, then opens each transaction with {@code BEGIN READ ONLY}.
     */
    @Override
    public void beginStreamingRead(Connection connection) throws SQLException {
        connection.setAutoCommit(false);
        connection.setReadOnly(true);
    }

    @Override
    public List<String> searchedSchemas(Connection connection) throws SQLException {
        return SqlDialect.schemaNamedBy(connection, "SELECT current_schema()");
    }

    /** {@code SYSDATE}: the transaction's start, UTC, with microseconds; Redshift sessions run in UTC. */
    @Override
    public String clockBound(int sqlType, Duration delay) {
        return delay.isZero() ? "SYSDATE" : "DATEADD(millisecond, -" + delay.toMillis() + ", SYSDATE)";
    }
}
