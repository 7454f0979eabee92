package io.backflow.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.List;

/** PostgreSQL: the driver streams only with auto-commit off and a fetch size. */
public class PostgresDialect extends AnsiDialect {
    private static final long serialVersionUID = 1L;

    @Override
    public String name() {
        return "postgresql";
    }

    @Override
    public List<String> urlPrefixes() {
        return List.of("jdbc:postgresql:");
    }

    @Override
    public boolean canHoldLedger() {
        return true;
    }

    @Override
    public void beginStreamingRead(Connection connection) throws SQLException {
        connection.setAutoCommit(false);
        try (Statement st = connection.createStatement()) {
            // REPEATABLE READ gives every page of one split the same snapshot.
            st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
        }
    }

    /** Row values: PostgreSQL turns {@code (a, b) > (?, ?)} into one B-tree index range scan. */
    @Override
    public KeysetPredicate keysetAfter(List<String> quotedColumns, List<String> placeholders) {
        if (quotedColumns.isEmpty() || placeholders.size() != quotedColumns.size()) {
            throw new IllegalArgumentException("keyset needs one placeholder per column, got " + quotedColumns + " / " + placeholders);
        }
        int[] order = new int[quotedColumns.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        return new KeysetPredicate("((" + String.join(", ", quotedColumns) + ") > (" + String.join(", ", placeholders) + "))", order);
    }

    /**
     * Strings go untyped, so the server takes the column's type: key and cursor values of types
     * the reader holds as strings (uuid, enums, inet...) then compare without a cast.
     */
    @Override
    public void bind(PreparedStatement statement, int index, Object value) throws SQLException {
        if (value instanceof String) {
            statement.setObject(index, value, Types.OTHER);
        } else {
            JdbcValues.bind(statement, index, value);
        }
    }

    /** The row's text form ({@code (1,,"")}: NULL is empty, an empty string is quoted). */
    @Override
    public String rowHash(List<String> quotedColumns) {
        return "md5(CAST(ROW(" + String.join(", ", quotedColumns) + ") AS TEXT))";
    }

    /** The session's search_path, as PostgreSQL resolves it (schemas that do not exist left out). */
    @Override
    public List<String> searchedSchemas(Connection connection) throws SQLException {
        List<String> out = new java.util.ArrayList<>();
        try (Statement st = connection.createStatement();
                java.sql.ResultSet rs = st.executeQuery("SELECT unnest(current_schemas(false))")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** A function called from a SELECT can run INSERT, UPDATE or DELETE. */
    @Override
    public boolean queriesCanWrite() {
        return true;
    }

    /**
     * {@code COPY (select) TO STDOUT} on the read-only connection streamed straight into
     * {@code COPY table FROM STDIN} on the target, in the binary format (exact values, no parsing),
     * a buffer at a time: the rows never pile up in the JVM. The table's columns take the types the
     * query's result has, without their modifiers, which do not change a value's text or binary form.
     */
    @Override
    public long copyIntoTemporaryTable(Connection readOnly, String select, Connection target, String table) throws SQLException {
        StringBuilder columns = new StringBuilder();
        try (java.sql.PreparedStatement describe = readOnly.prepareStatement(select)) {
            java.sql.ResultSetMetaData md = describe.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                columns.append(i == 1 ? "" : ", ").append(quoteIdentifier(md.getColumnLabel(i))).append(' ')
                        .append(quoteIdentifier(md.getColumnTypeName(i)));
            }
        }
        try (Statement st = target.createStatement()) {
            st.execute("CREATE TEMPORARY TABLE " + table + " (" + columns + ") ON COMMIT DROP");
        }
        org.postgresql.copy.CopyOut out = readOnly.unwrap(org.postgresql.PGConnection.class).getCopyAPI()
                .copyOut("COPY (" + select + ") TO STDOUT (FORMAT binary)");
        org.postgresql.copy.CopyIn in = null;
        try {
            in = target.unwrap(org.postgresql.PGConnection.class).getCopyAPI().copyIn("COPY " + table + " FROM STDIN (FORMAT binary)");
            for (byte[] buffer = out.readFromCopy(); buffer != null; buffer = out.readFromCopy()) {
                in.writeToCopy(buffer, 0, buffer.length);
            }
            long rows = in.endCopy();
            in = null;
            return rows;
        } finally {
            if (in != null && in.isActive()) {
                in.cancelCopy();
            }
            if (out.isActive()) {
                out.cancelCopy();
            }
        }
    }

    /**
     * Hash joins and aggregates over a million-row model spill to disk at the default 4 MB of
     * {@code work_mem}, so this transaction alone gets more. JIT compilation, which the planner
     * picks for such costs, made the diff of a million rows 1.5 times slower (measured): it is off.
     */
    @Override
    public void prepareBulkWork(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute("SET LOCAL work_mem = '64MB'");
            st.execute("SET LOCAL jit = off");
            // Row hashes read timestamptz values as text: the same text whatever the client's zone.
            st.execute("SET LOCAL TimeZone = 'UTC'");
        }
    }

    @Override
    public boolean indexEnforced(Connection connection, String schema, String index) throws SQLException {
        // Inside the ledger's transaction: a failed look-up (a fork without pg_index's columns)
        // must not abort it, so it runs under a savepoint and then counts as not enforced.
        java.sql.Savepoint savepoint = connection.getAutoCommit() ? null : connection.setSavepoint();
        try {
            boolean enforced = indexValid(connection, schema, index);
            if (savepoint != null) {
                connection.releaseSavepoint(savepoint);
            }
            return enforced;
        } catch (SQLException e) {
            if (savepoint != null) {
                connection.rollback(savepoint);
            }
            return false;
        }
    }

    private static boolean indexValid(Connection connection, String schema, String index) throws SQLException {
        try (java.sql.PreparedStatement ps = connection.prepareStatement("SELECT i.indisvalid AND i.indisready AND i.indislive FROM pg_index i"
                + " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
            ps.setString(1, schema);
            ps.setString(2, index);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
