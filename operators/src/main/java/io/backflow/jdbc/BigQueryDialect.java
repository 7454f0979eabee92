package io.backflow.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.List;

/**
 * Google BigQuery, through Google's JDBC driver (not on Maven Central, so not bundled: put it in
 * lib/). Names are backtick-quoted part by part ({@code `project`.`dataset`.`table`}); a
 * dataset's tables are listed in {@code `dataset`.INFORMATION_SCHEMA}. A SELECT cannot write in
 * BigQuery and there are no read-only transactions, so nothing is set per connection.
 */
public class BigQueryDialect extends AnsiDialect {
    private static final long serialVersionUID = 1L;

    @Override
    public String name() {
        return "bigquery";
    }

    @Override
    public List<String> urlPrefixes() {
        return List.of("jdbc:bigquery:");
    }

    @Override
    public String quoteIdentifier(String identifier) {
        return '`' + identifier.replace("\\", "\\\\").replace("`", "\\`") + '`';
    }

    @Override
    public String informationSchema(String schema) {
        return quoteIdentifier(schema) + ".INFORMATION_SCHEMA";
    }

    @Override
    public void beginStreamingRead(Connection connection) throws SQLException {
        connection.setAutoCommit(true);
    }

    /** No unqualified tables: a BigQuery model names its dataset. */
    @Override
    public List<String> searchedSchemas(Connection connection) {
        return List.of();
    }

    /** {@code TIMESTAMP} is an instant, {@code DATETIME} a wall clock (UTC unless the session says otherwise). */
    @Override
    public String clockBound(int sqlType, Duration delay) {
        boolean instant = sqlType == Types.TIMESTAMP_WITH_TIMEZONE;
        String now = instant ? "CURRENT_TIMESTAMP()" : "CURRENT_DATETIME()";
        return delay.isZero() ? now : (instant ? "TIMESTAMP_SUB(" : "DATETIME_SUB(") + now + ", INTERVAL " + delay.toMillis() + " MILLISECOND)";
    }

    @Override
    public String dateOf(String timestamp) {
        return "DATE(" + timestamp + ")";
    }
}
