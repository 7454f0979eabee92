package io.backflow.ledger;

import io.backflow.diff.DeltaTable;
import io.backflow.diff.SnapshotUpdate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/**
 * Forgets the detail of a connection's runs older than {@code state.retention}: row errors,
 * commit ids, split positions, retry keys, mark rows, staged row errors and diff delta tables that no newer run
 * reads. The runs themselves, with their counts, stay in the history. Works inside the caller's
 * transaction.
 */
final class Retention {
    private final String runs;
    private final List<String> perRunTables;
    private final SnapshotUpdate snapshots;

    Retention(LedgerTables tables, SnapshotUpdate snapshots) {
        this.runs = tables.runs;
        // Staged row errors left here belong to checkpoints that never completed.
        this.perRunTables = List.of(tables.errors, tables.commits, tables.splits, tables.retryKeys, tables.runMarkRows, tables.stagedErrors);
        this.snapshots = snapshots;
    }

    /** Purges what ended before {@code olderThan}; returns how many rows (and delta tables) went. */
    int purge(Connection c, String connectionName, Instant olderThan) throws SQLException {
        String old = "SELECT run_id FROM " + runs + " WHERE connection = ? AND status <> 'RUNNING' AND finished_at < ?"
                // The newest run may still be resumed from its split positions.
                + " AND seq < (SELECT MAX(seq) FROM " + runs + " WHERE connection = ?)"
                // A run being resumed has progress of its own in the savepoint, committed once the job
                // starts: its commit ids and staged row errors must still be there then.
                + " AND run_id NOT IN (SELECT resumed_from FROM " + runs + " WHERE connection = ? AND status = 'RUNNING'"
                + " AND resumed_from IS NOT NULL)";
        int removed = dropDeltas(c, connectionName, olderThan);
        for (String table : perRunTables) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE run_id IN (" + old + ")")) {
                ps.setString(1, connectionName);
                ps.setTimestamp(2, Timestamp.from(olderThan));
                ps.setString(3, connectionName);
                ps.setString(4, connectionName);
                removed += ps.executeUpdate();
            }
        }
        return removed;
    }

    /** Drops the delta tables (row-level logs) of runs being purged that no newer run still reads. */
    private int dropDeltas(Connection c, String connectionName, Instant olderThan) throws SQLException {
        java.util.Set<String> old = new java.util.LinkedHashSet<>();
        java.util.Set<String> kept = new java.util.HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT delta, status <> 'RUNNING' AND finished_at < ?"
                + " AND seq < (SELECT MAX(seq) FROM " + runs + " WHERE connection = ?) FROM " + runs
                + " WHERE connection = ? AND delta IS NOT NULL")) {
            ps.setTimestamp(1, Timestamp.from(olderThan));
            ps.setString(2, connectionName);
            ps.setString(3, connectionName);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    (rs.getBoolean(2) ? old : kept).add(rs.getString(1));
                }
            }
        }
        old.removeAll(kept);
        for (String delta : old) {
            snapshots.drop(c, DeltaTable.fromJson(delta));
        }
        if (!old.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + runs + " SET delta = NULL WHERE connection = ? AND delta = ?")) {
                for (String delta : old) {
                    ps.setString(1, connectionName);
                    ps.setString(2, delta);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        return old.size();
    }
}
