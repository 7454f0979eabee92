package io.backflow.ledger;

import io.backflow.source.RunSequence;
import io.backflow.source.SyncType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Records the next run of a continuous job, in one transaction, as {@code sync} would record it:
 * the connection's lock ({@link RunLock}), INCREMENTAL from the committed position (FULL when
 * there is none yet), the refused rows it retries, and the job, client and fingerprint of the
 * run before it. Works inside the caller's transaction.
 */
final class ContinuousRuns {
    private final String runs;
    private final String connections;
    private final String retryKeys;
    private final RunLock lock;
    private final FailedRows failed;
    private final RunQueries queries;

    ContinuousRuns(LedgerTables tables, RunLock lock, FailedRows failed, RunQueries queries) {
        this.runs = tables.runs;
        this.connections = tables.connections;
        this.retryKeys = tables.retryKeys;
        this.lock = lock;
        this.failed = failed;
        this.queries = queries;
    }

    /** The run after {@code previousRunId}, or null while another sync holds the connection. */
    RunSequence.NextRun next(Connection c, String previousRunId, int maxRetryKeys) throws SQLException {
        List<SyncRun> found = queries.runs(c, "WHERE run_id = ?", previousRunId, 1);
        if (found.isEmpty()) {
            throw new LedgerException("sync run " + previousRunId + " is not in the ledger");
        }
        SyncRun previous = found.get(0);
        if (previous.stopRequest() != null) {
            // The job is asked to stop (between runs the request lands on the last run): no new run.
            return null;
        }
        String connection = previous.connection();
        String holder = null;
        String position = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT running_run, position FROM " + connections + " WHERE connection = ?")) {
            ps.setString(1, connection);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    holder = rs.getString(1);
                    position = rs.getString(2);
                }
            }
        }
        if (holder != null && !holder.equals(previousRunId)) {
            List<SyncRun> held = queries.runs(c, "WHERE run_id = ?", holder, 1);
            if (!held.isEmpty() && held.get(0).status() == RunStatus.RUNNING) {
                SyncRun running = held.get(0);
                // Asked again after a failover: the run this job recorded then is the next run.
                return previous.jobId() != null && previous.jobId().equals(running.jobId()) && running.resumedFrom() == null
                        ? new RunSequence.NextRun(running.id(), SyncType.valueOf(running.type()), running.startPosition(), keysOf(c, running.id()))
                        : null;
            }
        }
        SyncType type = position == null ? SyncType.FULL : SyncType.INCREMENTAL;
        List<String> keys = type == SyncType.INCREMENTAL ? failed.keys(c, connection, maxRetryKeys) : List.of();
        String reason = "continuous: " + (type == SyncType.FULL ? "no committed position yet" : "rows changed since run " + previousRunId)
                + (keys.isEmpty() ? "" : ", and " + keys.size() + " refused row(s) again");
        String id = UUID.randomUUID().toString();
        lock.take(c, id, connection, type.name(), position, reason, null, previous.client(), previous.fingerprint());
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + runs + " SET job_id = ? WHERE run_id = ?")) {
            ps.setString(1, previous.jobId());
            ps.setString(2, id);
            ps.executeUpdate();
        }
        if (!keys.isEmpty()) {
            failed.recordRetryKeys(c, id, keys);
        }
        return new RunSequence.NextRun(id, type, position, keys);
    }

    private List<String> keysOf(Connection c, String runId) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT key_position FROM " + retryKeys + " WHERE run_id = ? ORDER BY idx")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }
}
