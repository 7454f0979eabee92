package io.backflow.ledger;

import static io.backflow.ledger.LedgerTransactions.now;
import static io.backflow.ledger.LedgerTransactions.truncate;

import io.backflow.diff.DeltaTable;
import io.backflow.diff.SnapshotUpdate;
import io.backflow.sink.DeliveryCommittable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * When a run is done: every planned split read to its end and acknowledged. Then, in the same
 * transaction, the run gets its status (SUCCEEDED, PARTIAL or FAILED by what the destination
 * took), frees its connection, and the connection's position (and mark rows, or a diff's
 * snapshot) moves to what the run and the runs it resumed delivered. Works inside the caller's
 * transaction.
 */
final class RunCompletion {
    private final LedgerStore store;
    private final String runs;
    private final String splits;
    private final String errors;
    private final String stagedErrors;
    private final String connections;
    private final RunLock lock;
    private final FailedRows failed;
    private final MarkRowStore marks;
    private final SnapshotUpdate snapshots;

    RunCompletion(LedgerStore store, LedgerTables tables, RunLock lock, FailedRows failed, MarkRowStore marks, SnapshotUpdate snapshots) {
        this.store = store;
        this.runs = tables.runs;
        this.splits = tables.splits;
        this.errors = tables.errors;
        this.stagedErrors = tables.stagedErrors;
        this.connections = tables.connections;
        this.lock = lock;
        this.failed = failed;
        this.marks = marks;
        this.snapshots = snapshots;
    }

    /** Marks a RUNNING run SUCCEEDED once every planned split is finished, and moves the connection's position. */
    boolean completeIfDone(Connection c, String runId) throws SQLException {
        String connectionName;
        String hwm;
        int planned;
        String startPosition;
        String runType;
        String deltaJson;
        try (PreparedStatement ps = c.prepareStatement("SELECT connection, high_water_mark, planned_splits, status, start_position, run_type, delta FROM "
                + runs + " WHERE run_id = ?")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new LedgerException("sync run " + runId + " is not in the ledger " + store);
                }
                connectionName = rs.getString(1);
                hwm = rs.getString(2);
                startPosition = rs.getString(5);
                runType = rs.getString(6);
                deltaJson = rs.getString(7);
                planned = rs.getInt(3);
                if (rs.wasNull() || !"RUNNING".equals(rs.getString(4))) {
                    return false;
                }
            }
        }
        long finished;
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + splits + " WHERE run_id = ? AND finished")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                finished = rs.getLong(1);
            }
        }
        if (finished < planned) {
            return false;
        }
        Outcome outcome = outcome(c, runId);
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + runs + " SET status = ?, outcome = ?, completed = TRUE, finished_at = ?"
                + " WHERE run_id = ?")) {
            ps.setString(1, outcome.status().name());
            ps.setString(2, truncate(outcome.why()));
            ps.setTimestamp(3, now());
            ps.setString(4, runId);
            ps.executeUpdate();
        }
        lock.release(c, runId);
        // Staged row errors left for this run were staged for checkpoints that never completed;
        // their rows were read again. (Every committable of the run has been applied by now: a
        // split's errors ride in a committable no later than the one that finishes it.)
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + stagedErrors + " WHERE run_id = ?")) {
            ps.setString(1, runId);
            ps.executeUpdate();
        }
        if (deltaJson != null) {
            DeltaTable delta = DeltaTable.fromJson(deltaJson);
            snapshots.applyDelivered(c, delta);
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + connections + " SET snapshot = ? WHERE connection = ?")) {
                ps.setString(1, delta.snapshot());
                ps.setString(2, connectionName);
                ps.executeUpdate();
            }
            // Every earlier failure was in this delta (its key was not in the snapshot as it is) or
            // is gone from the model: only the failures of this delta's own runs are still owed.
            failed.settleExcept(c, connectionName, runsSharing(c, deltaJson));
        } else if ("FULL".equals(runType)) {
            // The FULL run, with the runs it resumed, read every row again.
            failed.settleExcept(c, connectionName, resumeChain(c, runId));
        }
        if (hwm != null && !movesBack(hwm, startPosition)) {
            marks.moveTo(c, connectionName, hwm, resumeChain(c, runId));
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + connections + " (connection, position, updated_at) VALUES (?, ?, ?)"
                    + " ON CONFLICT (connection) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at")) {
                ps.setString(1, connectionName);
                ps.setString(2, hwm);
                ps.setTimestamp(3, now());
                ps.executeUpdate();
            }
        }
        return true;
    }

    /** How a run that resolved every row ended. */
    private record Outcome(RunStatus status, String why) {}

    /**
     * SUCCEEDED when no row failed at the destination; PARTIAL when some did; FAILED when rows
     * failed and none was delivered, which a scheduler must see as a failure. Failed rows are owed
     * to the next sync either way.
     */
    private Outcome outcome(Connection c, String runId) throws SQLException {
        long succeeded;
        long failedRows;
        try (PreparedStatement ps = c.prepareStatement("SELECT rows_succeeded, rows_failed FROM " + runs + " WHERE run_id = ?")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                succeeded = rs.getLong(1);
                failedRows = rs.getLong(2);
            }
        }
        if (failedRows == 0) {
            return new Outcome(RunStatus.SUCCEEDED, null);
        }
        String first = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT reason FROM " + errors + " WHERE run_id = ? AND kind = 'FAILED' ORDER BY recorded_at")) {
            ps.setString(1, runId);
            ps.setMaxRows(1);
            try (ResultSet rs = ps.executeQuery()) {
                first = rs.next() ? rs.getString(1) : null;
            }
        }
        String owed = "; they are retried by the next sync" + (first == null ? "" : " (first failure: " + first + ")");
        return succeeded == 0
                ? new Outcome(RunStatus.FAILED, "the destination took none of the " + failedRows + " row(s) it was sent" + owed)
                : new Outcome(RunStatus.PARTIAL, failedRows + " row(s) failed at the destination" + owed);
    }

    /** {@code runId} and the runs it resumes, directly or through others. */
    private List<String> resumeChain(Connection c, String runId) throws SQLException {
        List<String> chain = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT resumed_from FROM " + runs + " WHERE run_id = ?")) {
            for (String at = runId; at != null && chain.size() < 1000 && !chain.contains(at); ) {
                chain.add(at);
                ps.setString(1, at);
                try (ResultSet rs = ps.executeQuery()) {
                    at = rs.next() ? rs.getString(1) : null;
                }
            }
        }
        return chain;
    }

    /** The runs that read the delta {@code deltaJson} (a run and those that resumed it). */
    private List<String> runsSharing(Connection c, String deltaJson) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT run_id FROM " + runs + " WHERE delta = ?")) {
            ps.setString(1, deltaJson);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /**
     * True when a run's high-water mark lies below the cursor it started after (a raised
     * cursor_delay, or the newest rows deleted): the connection's position never moves back.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static boolean movesBack(String highWaterMark, String startPosition) {
        Object[] hwm = io.backflow.jdbc.PositionCodec.decode(highWaterMark);
        Object[] start = io.backflow.jdbc.PositionCodec.decode(startPosition);
        if (hwm == null || start == null || hwm.length == 0 || start.length == 0 || hwm[0] == null || start[0] == null
                || hwm[0].getClass() != start[0].getClass() || !orderedAlikeEverywhere(hwm[0])) {
            return false;
        }
        return ((Comparable) hwm[0]).compareTo(start[0]) < 0;
    }

    /**
     * True for values that Java orders as every database does: numbers and times. Text is ordered
     * by the database's collation ('B' after 'a' in MariaDB's and ICU's, before it in Java's), so a
     * text mark is never judged here; the planner takes the high-water mark among values at or
     * after the start mark, so in the database's order it does not move back.
     */
    private static boolean orderedAlikeEverywhere(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof java.math.BigDecimal || v instanceof java.time.LocalDate
                || v instanceof java.time.LocalDateTime || v instanceof java.time.Instant;
    }

    /**
     * A stopped run's last progress can reach the ledger after a run resumed it from its savepoint
     * and copied its plan (the committer retried it). Splits that progress finished are finished
     * for the resuming run too: its restored readers will not announce them again. Positions are
     * left alone, since the resuming run may already be further.
     */
    void finishSplitsOfResumers(Connection conn, DeliveryCommittable c) throws SQLException {
        if (c.finishedSplits().isEmpty()) {
            return;
        }
        List<String> resumers = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("SELECT run_id FROM " + runs + " WHERE resumed_from = ? AND status = 'RUNNING'")) {
            ps.setString(1, c.runId());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    resumers.add(rs.getString(1));
                }
            }
        }
        for (String resumer : resumers) {
            // Take the resuming run's row first, like its own commits do.
            try (PreparedStatement ps = conn.prepareStatement("UPDATE " + runs + " SET rows_read = rows_read WHERE run_id = ?")) {
                ps.setString(1, resumer);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = conn.prepareStatement("UPDATE " + splits + " SET finished = TRUE WHERE run_id = ? AND split_id = ?")) {
                for (String split : c.finishedSplits()) {
                    ps.setString(1, resumer);
                    ps.setString(2, split);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            completeIfDone(conn, resumer);
        }
    }
}
