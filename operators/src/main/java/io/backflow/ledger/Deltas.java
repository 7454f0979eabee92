package io.backflow.ledger;

import io.backflow.diff.SnapshotDiff;
import io.backflow.diff.SnapshotUpdate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * The delta tables of diff runs: creating a run's delta against the connection's snapshot, the
 * snapshot a connection has, sharing a delta with the run that resumes it, and reading a delta as
 * the run's row-level log. Works inside the caller's transaction.
 */
final class Deltas {
    private final String runs;
    private final String connections;
    private final FailedRows failed;
    private final SnapshotUpdate snapshots;

    Deltas(LedgerTables tables, FailedRows failed, SnapshotUpdate snapshots) {
        this.runs = tables.runs;
        this.connections = tables.connections;
        this.failed = failed;
        this.snapshots = snapshots;
    }

    SnapshotDiff.Result plan(Connection c, String runId, String connectionName, SnapshotDiff diff) throws SQLException {
        List<SnapshotDiff.Retry> retries = failed.retries(c, connectionName);
        SnapshotDiff.Result result = diff.materialize(c, runId, retries);
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + runs + " SET delta = ? WHERE run_id = ?")) {
            ps.setString(1, result.delta().toJson());
            ps.setString(2, runId);
            ps.executeUpdate();
        }
        return result;
    }

    String snapshotOf(Connection c, String connectionName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT snapshot FROM " + connections + " WHERE connection = ?")) {
            ps.setString(1, connectionName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** See {@link Ledger#abandonDelta}; nothing when the delta or its snapshot is gone. */
    void abandon(Connection c, io.backflow.diff.DeltaTable delta) throws SQLException {
        if (tableExists(c, delta.schema(), delta.table()) && tableExists(c, delta.schema(), delta.snapshot())) {
            snapshots.forgetUnfinished(c, delta);
        }
    }

    /** The row log of {@code run} (a diff run), or null when its delta table is gone. */
    List<SnapshotUpdate.LogEntry> rowLog(Connection c, SyncRun run, String onlyStatus, int limit) throws SQLException {
        if (!tableExists(c, run.delta().schema(), run.delta().table())) {
            return null;
        }
        boolean complete;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + runs + " WHERE delta = ? AND " + RunQueries.COMPLETED)) {
            ps.setString(1, run.delta().toJson());
            try (ResultSet rs = ps.executeQuery()) {
                complete = rs.next();
            }
        }
        return snapshots.log(c, run.delta(), complete, onlyStatus, limit);
    }

    private static boolean tableExists(Connection c, String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
