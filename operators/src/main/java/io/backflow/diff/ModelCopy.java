package io.backflow.diff;

import io.backflow.jdbc.JdbcValues;
import io.backflow.jdbc.SqlDialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Copies a model's rows from the warehouse into a temporary table of the ledger's database, so a
 * diff can run where the ledger is when the warehouse cannot hold it (MySQL, Redshift, files read
 * by DuckDB in memory) or is another database. Rows stream through: the source is read with a
 * fetch size in its read-only transaction, and written in multi-row INSERTs of a few hundred rows,
 * so memory stays flat whatever the table's size. Values keep their types where the ledger has
 * them ({@link SqlDialect#stagingType}); the hash is then taken in the ledger, of the copy.
 */
final class ModelCopy {
    /** Rows per INSERT; fewer when a row has many columns (PostgreSQL takes at most 32,767 parameters). */
    private static final int ROWS_PER_INSERT = 500;
    private static final int MAX_PARAMETERS = 30_000;

    private ModelCopy() {}

    /**
     * Runs {@code select} on {@code source} and copies its rows into a new temporary table
     * {@code table} (already quoted) on {@code target}, in target's transaction. Returns the rows copied.
     */
    static long copy(Connection source, String select, int fetchSize, Connection target, SqlDialect targetDialect, String table)
            throws SQLException {
        try (PreparedStatement read = source.prepareStatement(select)) {
            read.setFetchSize(fetchSize);
            try (ResultSet rs = read.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                int n = md.getColumnCount();
                int[] types = JdbcValues.columnTypes(md);
                List<String> columns = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    columns.add(targetDialect.quoteIdentifier(md.getColumnLabel(i)) + " "
                            + targetDialect.stagingType(types[i - 1], md.getPrecision(i), md.getScale(i)));
                }
                try (Statement st = target.createStatement()) {
                    st.execute("CREATE TEMPORARY TABLE " + table + " (" + String.join(", ", columns) + ")");
                }
                int perInsert = Math.max(1, Math.min(ROWS_PER_INSERT, MAX_PARAMETERS / n));
                String row = "(" + String.join(", ", java.util.Collections.nCopies(n, "?")) + ")";
                String full = "INSERT INTO " + table + " VALUES " + String.join(", ", java.util.Collections.nCopies(perInsert, row));
                long copied = 0;
                Object[][] pending = new Object[perInsert][];
                int buffered = 0;
                try (PreparedStatement insert = target.prepareStatement(full)) {
                    while (rs.next()) {
                        Object[] values = new Object[n];
                        for (int i = 0; i < n; i++) {
                            values[i] = JdbcValues.read(rs, i + 1, types[i]);
                        }
                        pending[buffered++] = values;
                        if (buffered == perInsert) {
                            write(insert, pending, buffered, targetDialect);
                            copied += buffered;
                            buffered = 0;
                        }
                    }
                }
                if (buffered > 0) {
                    String rest = "INSERT INTO " + table + " VALUES " + String.join(", ", java.util.Collections.nCopies(buffered, row));
                    try (PreparedStatement insert = target.prepareStatement(rest)) {
                        write(insert, pending, buffered, targetDialect);
                    }
                    copied += buffered;
                }
                return copied;
            }
        }
    }

    private static void write(PreparedStatement insert, Object[][] rows, int count, SqlDialect dialect) throws SQLException {
        int p = 1;
        for (int r = 0; r < count; r++) {
            for (Object v : rows[r]) {
                dialect.bind(insert, p++, v);
            }
        }
        insert.executeUpdate();
    }
}
