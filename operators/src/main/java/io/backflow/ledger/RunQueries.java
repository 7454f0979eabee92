package io.backflow.ledger;

import io.backflow.diff.DeltaTable;
import io.backflow.model.RowError;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

/** Reading runs back: by id, a connection's newest first, its last completed one, and a run's undelivered rows. */
final class RunQueries {
    /** A run that read everything and resolved every row, whatever its status (see {@link SyncRun#completed()}). */
    static final String COMPLETED = "(status = 'SUCCEEDED' OR completed)";

    private final String runs;
    private final String errors;

    RunQueries(LedgerTables tables) {
        this.runs = tables.runs;
        this.errors = tables.errors;
    }

    List<SyncRun> runs(Connection c, String where, String arg, int limit) throws SQLException {
        List<SyncRun> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT run_id, connection, run_type, status, started_at, finished_at, start_position,"
                + " high_water_mark, rows_read, rows_succeeded, rows_failed, rows_invalid, job_id, reason, resumed_from, savepoint,"
                + " client, stop_request, planned_splits, fingerprint, delta, outcome, completed FROM " + runs + " " + where
                + " ORDER BY seq DESC")) {
            ps.setString(1, arg);
            ps.setMaxRows(limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (out.size() < limit && rs.next()) { // DuckDB's driver ignores setMaxRows
                    Timestamp finished = rs.getTimestamp(6);
                    out.add(new SyncRun(rs.getString(1), rs.getString(2), rs.getString(3), RunStatus.valueOf(rs.getString(4)),
                            rs.getTimestamp(5).toInstant(), finished == null ? null : finished.toInstant(), rs.getString(7),
                            rs.getString(8), rs.getLong(9), rs.getLong(10), rs.getLong(11), rs.getLong(12), rs.getString(13), rs.getString(14),
                            rs.getString(15), rs.getString(16), rs.getString(17), rs.getString(18), (Integer) rs.getObject(19), rs.getString(20),
                            DeltaTable.fromJson(rs.getString(21)), rs.getString(22), rs.getBoolean(23)));
                }
            }
        }
        return out;
    }

    List<RowError> rowErrors(Connection c, String runId, int limit) throws SQLException {
        List<RowError> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT kind, row_key, message_id, reason FROM " + errors
                + " WHERE run_id = ? ORDER BY recorded_at, row_key")) {
            ps.setString(1, runId);
            ps.setMaxRows(limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (out.size() < limit && rs.next()) { // DuckDB's driver ignores setMaxRows
                    out.add(new RowError(RowError.Kind.valueOf(rs.getString(1)), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
            }
        }
        return out;
    }
}
