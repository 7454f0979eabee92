package io.backflow.jdbc;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * What differs between warehouses: identifier quoting and how a read-only transaction starts.
 * Adding MySQL, Redshift or Snowflake means adding one implementation here.
 */
public interface SqlDialect extends Serializable {

    /** Short name for messages, e.g. {@code postgresql}. */
    String name();

    /** Quotes one identifier (a column or table name, no dots), escaping the quote character. */
    String quoteIdentifier(String identifier);

    /** Quotes a possibly qualified name such as {@code schema.table}, part by part. */
    default String quoteQualified(String name) {
        String[] parts = name.split("\\.");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                sb.append('.');
            }
            sb.append(quoteIdentifier(parts[i]));
        }
        return sb.toString();
    }

    /**
     * Prepares a connection for streaming reads: no auto-commit (so the driver uses a cursor),
     * and a read-only transaction where the database supports one.
     */
    void beginStreamingRead(Connection connection) throws SQLException;

    /** The dialect for a JDBC URL; unknown databases get ANSI double-quote quoting. */
    static SqlDialect forUrl(String url) {
        String u = url.toLowerCase(java.util.Locale.ROOT);
        if (u.startsWith("jdbc:postgresql:") || u.startsWith("jdbc:redshift:")) {
            return new PostgresDialect();
        }
        if (u.startsWith("jdbc:duckdb:")) {
            return new DuckDbDialect();
        }
        return new AnsiDialect();
    }
}
