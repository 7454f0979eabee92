package io.backflow.jdbc;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.List;

/**
 * What differs between warehouses: identifier quoting, how a read-only transaction starts, the
 * keyset predicate, parameter binding and the database clock. Each warehouse is one
 * implementation, listed in {@link Dialects}, which picks it by the URL's scheme.
 */
public interface SqlDialect extends Serializable {

    /** Short name for messages, e.g. {@code postgresql}. */
    String name();

    /** The JDBC URL prefixes this dialect reads, lower case, e.g. {@code jdbc:postgresql:}. */
    default List<String> urlPrefixes() {
        return List.of();
    }

    /**
     * Whether Backflow's ledger (and a diff's snapshot and delta tables) can live in this database.
     * The ledger's SQL is PostgreSQL's and DuckDB's ({@code ON CONFLICT}, unbounded
     * {@code VARCHAR}, {@code BYTEA}); a warehouse without it keeps its ledger in another
     * database ({@code state.url}).
     */
    default boolean canHoldLedger() {
        return false;
    }

    /** The URL handed to the driver: the configured one, unless the driver needs an option to take it. */
    default String driverUrl(String url) {
        return url;
    }

    /** The schema whose {@code tables} and {@code schemata} views describe {@code schema}'s tables. */
    default String informationSchema(String schema) {
        return "information_schema";
    }

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

    /** The alias of a user query wrapped as a subquery. */
    String MODEL_ALIAS = "backflow_model";

    /**
     * A connection's model as a {@code FROM} item: the quoted table, or the user's query wrapped as
     * a subquery. User SQL is only ever wrapped, never combined with values, and only when it is one
     * query ({@link ModelSql#singleQuery}): every statement Backflow runs on a model goes through here.
     */
    default String modelRelation(String table, String query) {
        return table != null ? quoteQualified(table) : "(" + ModelSql.singleQuery(query) + ") AS " + quoteIdentifier(MODEL_ALIAS);
    }

    /** The model as a {@code FROM} item named {@code alias} (an unquoted SQL name such as {@code m}). */
    default String modelRelation(String table, String query, String alias) {
        return (table != null ? quoteQualified(table) : "(" + ModelSql.singleQuery(query) + ")") + " " + alias;
    }

    /**
     * Prepares a connection for streaming reads: no auto-commit (so the driver uses a cursor),
     * and a read-only transaction where the database supports one.
     */
    void beginStreamingRead(Connection connection) throws SQLException;

    /**
     * The condition "the tuple of {@code quotedColumns} sorts strictly after the bound tuple", for
     * keyset pagination in {@code ORDER BY} those columns (ascending). The default is the expanded
     * form {@code (a > ? OR (a = ? AND b > ?))}: standard SQL with standard NULL semantics.
     * Dialects whose optimiser uses an index for row values override it.
     *
     * @param quotedColumns the columns, already quoted
     * @param placeholders the parameter SQL per column, from {@link #placeholder}
     */
    default KeysetPredicate keysetAfter(List<String> quotedColumns, List<String> placeholders) {
        int n = quotedColumns.size();
        if (n == 0 || placeholders.size() != n) {
            throw new IllegalArgumentException("keyset needs one placeholder per column, got " + quotedColumns + " / " + placeholders);
        }
        StringBuilder sql = new StringBuilder();
        int[] order = new int[2 * n - 1];
        int p = 0;
        for (int i = 0; i < n - 1; i++) {
            sql.append('(').append(quotedColumns.get(i)).append(" > ").append(placeholders.get(i))
                    .append(" OR (").append(quotedColumns.get(i)).append(" = ").append(placeholders.get(i)).append(" AND ");
            order[p++] = i;
            order[p++] = i;
        }
        sql.append('(').append(quotedColumns.get(n - 1)).append(" > ").append(placeholders.get(n - 1)).append(')');
        order[p] = n - 1;
        for (int i = 0; i < n - 1; i++) {
            sql.append("))");
        }
        return new KeysetPredicate(sql.toString(), order);
    }

    /**
     * The SQL for one bind parameter compared with a column of the given JDBC type and database
     * type name. {@code ?} unless the database cannot compare the bound Java value with the
     * column without a cast (values {@link JdbcValues} reads as strings, such as UUIDs).
     */
    default String placeholder(int sqlType, String typeName) {
        return "?";
    }

    /** Binds a value read by {@link JdbcValues#read} or decoded by {@link PositionCodec}. */
    default void bind(PreparedStatement statement, int index, Object value) throws SQLException {
        JdbcValues.bind(statement, index, value);
    }

    /** The clause that limits a query to {@code rows} rows, appended after {@code ORDER BY}. */
    default String limit(int rows) {
        return "LIMIT " + rows;
    }

    /**
     * The condition, evaluated on the database clock, that a cursor value is old enough to be read:
     * transactions still in flight may yet commit rows with values up to now, so a value counts only
     * once it is at least {@code delay} in the past. Returns null for cursors that are not dates or
     * timestamps (numbers, strings): those have no clock, and their bound is simply their maximum.
     *
     * <ul>
     *   <li>{@code TIMESTAMP WITH TIME ZONE}: {@code cursor <= CURRENT_TIMESTAMP - delay}, an
     *       absolute instant, so time zones do not matter.
     *   <li>{@code TIMESTAMP} (without zone): {@code cursor <= LOCALTIMESTAMP - delay}, the wall
     *       clock of the <em>session</em> time zone. The PostgreSQL driver sets the session zone to
     *       the JVM's default zone; DuckDB uses its {@code TimeZone} setting. If the column holds
     *       wall-clock times of another zone, the bound is off by the difference: run the job in the
     *       zone the column is written in (usually UTC), or add the difference to the delay.
     *   <li>{@code DATE}: {@code cursor < CAST(LOCALTIMESTAMP - delay AS DATE)}: a day counts only
     *       once it is over, so rows added later on the same day are not skipped by the next run.
     * </ul>
     *
     * @param quotedCursor the cursor column, already quoted
     * @param sqlType its JDBC type as normalised by {@link JdbcValues#columnTypes}
     */
    default String settledCursorPredicate(String quotedCursor, int sqlType, Duration delay) {
        if (sqlType != Types.TIMESTAMP_WITH_TIMEZONE && sqlType != Types.TIMESTAMP && sqlType != Types.DATE) {
            return null;
        }
        String bound = clockBound(sqlType, delay);
        return sqlType == Types.DATE ? quotedCursor + " < " + dateOf(bound) : quotedCursor + " <= " + bound;
    }

    /**
     * The database clock minus {@code delay}, of the kind the cursor holds: an instant for
     * {@code TIMESTAMP_WITH_TIMEZONE}, the session's wall clock for {@code TIMESTAMP} and
     * {@code DATE} (see {@link #settledCursorPredicate}).
     */
    default String clockBound(int sqlType, Duration delay) {
        String now = sqlType == Types.TIMESTAMP_WITH_TIMEZONE ? "CURRENT_TIMESTAMP" : "LOCALTIMESTAMP";
        return delay.isZero() ? now : "(" + now + " - INTERVAL '1 millisecond' * " + delay.toMillis() + ")";
    }

    /** The date part of a {@link #clockBound}. */
    default String dateOf(String timestamp) {
        return "CAST(" + timestamp + " AS DATE)";
    }

    /**
     * An expression that hashes the values of {@code quotedColumns} of one row into a string, equal
     * for equal values and, in practice, different otherwise (NULL is told apart from an empty
     * string and from the text {@code 'NULL'}). Diff syncs compare it with the hash they stored
     * when the row was last delivered. Null when the database has no such function, which makes
     * {@code change_detection: diff} unavailable for it.
     */
    default String rowHash(List<String> quotedColumns) {
        return null;
    }

    /**
     * False when the database keeps index {@code index} of {@code schema} but does not enforce it:
     * a PostgreSQL unique index whose {@code CREATE INDEX CONCURRENTLY} failed stays, invalid, and
     * drivers list it like any other, while the table may hold duplicates of its columns.
     */
    default boolean indexEnforced(Connection connection, String schema, String index) throws SQLException {
        return true;
    }

    /**
     * Tunes the current transaction for set-based work over whole tables (the diff's joins and
     * aggregates), where the database's defaults are sized for small queries.
     */
    default void prepareBulkWork(Connection connection) throws SQLException {}

    /**
     * True when a query can change data, as a PostgreSQL function called from a SELECT can. A
     * read-only transaction stops it, so work that must write (the diff's delta table) does not run
     * the user's query itself: it copies the query's rows through a read-only connection first
     * ({@link #copyIntoTemporaryTable}).
     */
    default boolean queriesCanWrite() {
        return false;
    }

    /**
     * Runs {@code select} on {@code readOnly} (in its read-only transaction) and copies its rows into
     * a new temporary table {@code table} on {@code target}, inside target's transaction, which drops
     * it when it ends. Returns the number of rows copied. Only dialects whose
     * {@link #queriesCanWrite} is true need it.
     */
    default long copyIntoTemporaryTable(Connection readOnly, String select, Connection target, String table) throws SQLException {
        throw new UnsupportedOperationException(name() + " does not copy query results between connections");
    }

    /**
     * The column type, in a database that holds the ledger, for values of JDBC type {@code sqlType}
     * as {@link JdbcValues#read} returns them: a model copied from another warehouse for a diff
     * keeps its numbers, dates and timestamps typed, and anything else as text.
     */
    default String stagingType(int sqlType, int precision, int scale) {
        switch (sqlType) {
            case Types.TINYINT:
            case Types.SMALLINT:
            case Types.INTEGER:
            case Types.BIGINT:
                return "BIGINT";
            case Types.REAL:
            case Types.FLOAT:
            case Types.DOUBLE:
                return "FLOAT8";
            case Types.NUMERIC:
            case Types.DECIMAL:
                return precision >= 1 && precision <= 38 && scale >= 0 && scale <= precision ? "DECIMAL(" + precision + ", " + scale + ")" : "NUMERIC";
            case Types.BIT:
            case Types.BOOLEAN:
                return "BOOLEAN";
            case Types.DATE:
                return "DATE";
            case Types.TIMESTAMP:
                return "TIMESTAMP";
            case Types.TIMESTAMP_WITH_TIMEZONE:
                return "TIMESTAMPTZ";
            case Types.BINARY:
            case Types.VARBINARY:
            case Types.LONGVARBINARY:
            case Types.BLOB:
                return "BYTEA";
            default:
                return "VARCHAR";
        }
    }

    /** The schemas an unqualified table name is looked up in, in the order the database searches them. */
    default List<String> searchedSchemas(Connection connection) throws SQLException {
        String schema = connection.getSchema();
        return schema == null ? List.of() : List.of(schema);
    }

    /** The one schema a query such as {@code SELECT current_schema()} names, or none when it answers NULL. */
    static List<String> schemaNamedBy(Connection connection, String query) throws SQLException {
        try (java.sql.Statement st = connection.createStatement(); java.sql.ResultSet rs = st.executeQuery(query)) {
            return rs.next() && rs.getString(1) != null ? List.of(rs.getString(1)) : List.of();
        }
    }

    /** The dialect for a JDBC URL ({@link Dialects#forUrl}). */
    static SqlDialect forUrl(String url) {
        return Dialects.forUrl(url);
    }
}
