package io.backflow.diff;

import static io.backflow.model.DeltaColumns.ATTEMPTS;
import static io.backflow.model.DeltaColumns.ERROR;
import static io.backflow.model.DeltaColumns.HASH;
import static io.backflow.model.DeltaColumns.OP;
import static io.backflow.model.DeltaColumns.OP_DELETE;
import static io.backflow.model.DeltaColumns.OP_INSERT;
import static io.backflow.model.DeltaColumns.OP_UPDATE;
import static io.backflow.model.DeltaColumns.STATUS;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.jdbc.JdbcValues;
import io.backflow.jdbc.SqlDialect;
import io.backflow.model.RowError;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What the ledger does to a diff sync's tables, inside its own transactions: records each row's
 * failure in the delta as its checkpoint commits, and, once every row of the delta is resolved,
 * moves the snapshot forward by the rows the destination acknowledged (and only those), in a few
 * set-based statements. A delta row without a recorded outcome in a completed delta was
 * acknowledged.
 */
public final class SnapshotUpdate {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Outcome values of the delta's status column. */
    public static final String SUCCEEDED = "succeeded";
    public static final String FAILED = "failed";
    public static final String INVALID = "invalid";
    /**
     * The snapshot hash of a key whose insert the destination refused or gave up on: not a hash
     * (those are 32 hex digits), so the key counts as changed and goes out as an insert again,
     * while a mirror diff that no longer finds it in the model sends its delete.
     */
    public static final String REFUSED_INSERT = "-";

    private final SqlDialect dialect;

    public SnapshotUpdate(SqlDialect dialect) {
        this.dialect = dialect;
    }

    /** Marks the delta rows of {@code errors} failed or invalid, with their reason. */
    public void recordErrors(Connection c, DeltaTable delta, List<RowError> errors) throws SQLException {
        if (errors.stream().noneMatch(e -> e.keyPosition() != null)) {
            return;
        }
        String table = delta.qualifiedTable(dialect);
        KeyMatch match = KeyMatch.on(c, dialect, table, delta.keys());
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET " + q(STATUS) + " = ?, " + q(ERROR) + " = ? WHERE "
                + match.condition())) {
            List<RowError> batched = new ArrayList<>();
            for (RowError e : errors) {
                if (e.keyPosition() == null) {
                    continue;
                }
                ps.setString(1, e.kind() == RowError.Kind.FAILED ? FAILED : INVALID);
                ps.setString(2, e.reason() == null ? null : e.reason().length() > 2000 ? e.reason().substring(0, 2000) : e.reason());
                if (match.bind(ps, 3, e.keyPosition())) {
                    ps.addBatch();
                    batched.add(e);
                }
            }
            if (!batched.isEmpty()) {
                int[] counts = ps.executeBatch();
                for (int i = 0; i < counts.length; i++) {
                    // An outcome that finds no delta row would let the run count the row delivered.
                    if (counts[i] == 0) {
                        throw new SQLException("the " + batched.get(i).kind().name().toLowerCase() + " row " + batched.get(i).key()
                                + " is not in delta " + delta.table() + "; its outcome cannot be recorded", "22000");
                    }
                }
            }
        }
    }

    /**
     * Every row of the delta has been read and resolved: the rows without a recorded failure were
     * acknowledged. Marks them succeeded and makes the snapshot hold exactly their delivered hash
     * (deleted keys leave it); failed and invalid rows keep the snapshot as it was, so the next
     * diff finds them changed and sends them again.
     */
    public void applyDelivered(Connection c, DeltaTable delta) throws SQLException {
        String table = delta.qualifiedTable(dialect);
        String snapshot = delta.qualifiedSnapshot(dialect);
        List<String> k = new ArrayList<>();
        delta.keys().forEach(name -> k.add(dialect.quoteIdentifier(name)));
        List<String> nulls = new ArrayList<>();
        List<String> joins = new ArrayList<>();
        for (String col : k) {
            nulls.add(col + " IS NULL");
            joins.add("bf_d." + col + " = " + snapshot + "." + col);
        }
        dialect.prepareBulkWork(c);
        try (Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE " + table + " SET " + q(STATUS) + " = '" + INVALID + "', " + q(ERROR)
                    + " = 'primary key is null' WHERE " + q(STATUS) + " IS NULL AND (" + String.join(" OR ", nulls) + ")");
            // Acknowledged rows keep a NULL status (read as succeeded once the run completed): marking
            // a million rows would rewrite the whole delta.
            String acknowledged = q(STATUS) + " IS NULL AND " + q(OP) + " IN ('" + OP_INSERT + "', '" + OP_UPDATE + "', '" + OP_DELETE + "')";
            st.executeUpdate("DELETE FROM " + snapshot + " WHERE EXISTS (SELECT 1 FROM " + table + " bf_d WHERE bf_d." + acknowledged
                    + " AND " + String.join(" AND ", joins) + ")");
            st.executeUpdate("INSERT INTO " + snapshot + " (" + String.join(", ", k) + ", " + q(HASH) + ") SELECT "
                    + String.join(", ", k) + ", " + q(HASH) + " FROM " + table + " WHERE " + acknowledged + " AND "
                    + q(OP) + " <> '" + OP_DELETE + "'");
            // A row not delivered must differ from the snapshot next time, even when its values are
            // what the snapshot holds (a FULL run resends unchanged rows): its hash is forgotten.
            st.executeUpdate("UPDATE " + snapshot + " SET " + q(HASH) + " = NULL WHERE (" + q(HASH) + " IS NULL OR " + q(HASH) + " <> '"
                    + REFUSED_INSERT + "') AND EXISTS (SELECT 1 FROM " + table + " bf_d WHERE bf_d."
                    + q(STATUS) + " IN ('" + FAILED + "', '" + INVALID + "') AND " + String.join(" AND ", joins) + ")");
            // A failed insert may have reached the destination all the same (a timeout, a lost
            // answer): its key enters the snapshot, marked, so the next diff sends it again as an
            // insert, or deletes it (mirror mode) if the model lost it meanwhile. An invalid row was never sent.
            st.executeUpdate("INSERT INTO " + snapshot + " (" + String.join(", ", k) + ", " + q(HASH) + ") SELECT "
                    + String.join(", ", prefixed(k)) + ", '" + REFUSED_INSERT + "' FROM " + table + " bf_d WHERE bf_d." + q(STATUS) + " = '" + FAILED + "' AND bf_d."
                    + q(OP) + " = '" + OP_INSERT + "' AND " + String.join(" AND ", notNull(k)) + " AND NOT EXISTS (SELECT 1 FROM "
                    + snapshot + " WHERE " + String.join(" AND ", joins) + ")");
        }
    }

    /**
     * The delta will never complete (its run is abandoned, not resumed): each key it inserted or
     * updated may or may not have been delivered. Those keys stay in, or enter, the snapshot with no
     * hash: the next diff sends them again, or deletes them (mirror mode) if the model lost them,
     * instead of leaving at the destination a row the snapshot never knew.
     */
    public void forgetUnfinished(Connection c, DeltaTable delta) throws SQLException {
        String table = delta.qualifiedTable(dialect);
        String snapshot = delta.qualifiedSnapshot(dialect);
        List<String> k = new ArrayList<>();
        delta.keys().forEach(name -> k.add(dialect.quoteIdentifier(name)));
        List<String> joins = new ArrayList<>();
        for (String col : k) {
            joins.add("bf_d." + col + " = " + snapshot + "." + col);
        }
        String sent = "bf_d." + q(OP) + " IN ('" + OP_INSERT + "', '" + OP_UPDATE + "') AND " + String.join(" AND ", notNull(k));
        try (Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE " + snapshot + " SET " + q(HASH) + " = NULL WHERE EXISTS (SELECT 1 FROM " + table + " bf_d WHERE " + sent
                    + " AND " + String.join(" AND ", joins) + ")");
            st.executeUpdate("INSERT INTO " + snapshot + " (" + String.join(", ", k) + ", " + q(HASH) + ") SELECT "
                    + String.join(", ", prefixed(k)) + ", NULL FROM " + table + " bf_d WHERE " + sent + " AND NOT EXISTS (SELECT 1 FROM "
                    + snapshot + " WHERE " + String.join(" AND ", joins) + ")");
        }
    }

    private static List<String> notNull(List<String> k) {
        List<String> out = new ArrayList<>();
        k.forEach(col -> out.add("bf_d." + col + " IS NOT NULL"));
        return out;
    }

    private static List<String> prefixed(List<String> k) {
        List<String> out = new ArrayList<>();
        k.forEach(col -> out.add("bf_d." + col));
        return out;
    }

    /** Drops a delta table that no run needs any more. */
    public void drop(Connection c, DeltaTable delta) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + delta.qualifiedTable(dialect));
        }
    }

    /** One row of the row-level log: the key as JSON, the operation, outcome, reason and attempt number. */
    public record LogEntry(String key, String operation, String status, String error, int attempts) {}

    /**
     * The delta's rows in key order, at most {@code limit}, only those with status {@code onlyStatus}
     * unless it is null. A row without a recorded outcome is {@code succeeded} once the delta is
     * {@code complete} (a run over it succeeded), {@code pending} before.
     */
    public List<LogEntry> log(Connection c, DeltaTable delta, boolean complete, String onlyStatus, int limit) throws SQLException {
        List<String> k = new ArrayList<>();
        delta.keys().forEach(name -> k.add(dialect.quoteIdentifier(name)));
        String sql = "SELECT " + String.join(", ", k) + ", " + q(OP) + ", " + q(STATUS) + ", " + q(ERROR) + ", " + q(ATTEMPTS)
                + " FROM " + delta.qualifiedTable(dialect)
                + (onlyStatus == null ? "" : SUCCEEDED.equals(onlyStatus) ? " WHERE " + q(STATUS) + " IS NULL" : " WHERE " + q(STATUS) + " = ?")
                + " ORDER BY " + String.join(", ", k);
        List<LogEntry> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (onlyStatus != null && !SUCCEEDED.equals(onlyStatus)) {
                ps.setString(1, onlyStatus);
            }
            ps.setMaxRows(limit);
            try (ResultSet rs = ps.executeQuery()) {
                int[] types = JdbcValues.columnTypes(rs.getMetaData());
                while (out.size() < limit && rs.next()) { // DuckDB's driver ignores setMaxRows
                    ObjectNode key = JSON.createObjectNode();
                    for (int i = 0; i < k.size(); i++) {
                        Object v = JdbcValues.read(rs, i + 1, types[i]);
                        key.putPOJO(delta.keys().get(i), v == null ? null : v instanceof Number || v instanceof Boolean ? v : v.toString());
                    }
                    int n = k.size();
                    String status = rs.getString(n + 2);
                    out.add(new LogEntry(key.toString(), rs.getString(n + 1), status != null ? status : complete ? SUCCEEDED : "pending", rs.getString(n + 3),
                            rs.getInt(n + 4)));
                }
            }
        }
        return out;
    }

    private String q(String name) {
        return dialect.quoteIdentifier(name);
    }
}
