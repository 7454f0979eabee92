package io.backflow.ledger;

import io.backflow.sink.DeliveryCommittable;
import static io.backflow.ledger.LedgerTransactions.now;
import static io.backflow.ledger.LedgerTransactions.truncate;

import io.backflow.model.RowError;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

/**
 * Rows the destination refused, kept by key until a later sync delivers them: which keys wait,
 * which keys a run retries (its retry split reads them in that order), and how a commit records
 * new failures and forgets delivered retries. Every method works inside the caller's transaction.
 */
final class FailedRows {
    private final String runs;
    private final String failedRows;
    private final String retryKeys;

    FailedRows(LedgerTables tables) {
        this.runs = tables.runs;
        this.failedRows = tables.failedRows;
        this.retryKeys = tables.retryKeys;
    }

    List<String> keys(Connection c, String connectionName, int limit) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT key_position FROM " + failedRows
                + " WHERE connection = ? ORDER BY last_failed_at, key_position LIMIT ?")) {
            // LIMIT, not setMaxRows: DuckDB's driver ignores the latter and returned every key.
            ps.setString(1, connectionName);
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    long count(Connection c, String connectionName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + failedRows + " WHERE connection = ?")) {
            ps.setString(1, connectionName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    Void recordRetryKeys(Connection c, String runId, List<String> keys) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + retryKeys + " (run_id, idx, key_position) VALUES (?, ?, ?)")) {
            for (int i = 0; i < keys.size(); i++) {
                ps.setString(1, runId);
                ps.setInt(2, i);
                ps.setString(3, keys.get(i));
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return null;
    }

    Void copyRetryKeys(Connection c, String fromRun, String toRun) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + retryKeys + " (run_id, idx, key_position) SELECT ?, idx, key_position FROM "
                + retryKeys + " WHERE run_id = ?")) {
            ps.setString(1, toRun);
            ps.setString(2, fromRun);
            ps.executeUpdate();
        }
        return null;
    }

    /**
     * A run that read every row owed (a FULL run, or a diff run) settled the failures from before
     * it; those of {@code ownRuns} (the run and the runs it continued) stay.
     */
    void settleExcept(Connection c, String connectionName, List<String> ownRuns) throws SQLException {
        String placeholders = String.join(", ", java.util.Collections.nCopies(ownRuns.size(), "?"));
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + failedRows + " WHERE connection = ? AND last_run NOT IN ("
                + placeholders + ")")) {
            ps.setString(1, connectionName);
            for (int i = 0; i < ownRuns.size(); i++) {
                ps.setString(i + 2, ownRuns.get(i));
            }
            ps.executeUpdate();
        }
    }

    /** Every key of a connection that waits to be delivered, with how many syncs failed it. */
    List<io.backflow.diff.SnapshotDiff.Retry> retries(Connection c, String connectionName) throws SQLException {
        List<io.backflow.diff.SnapshotDiff.Retry> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT key_position, attempts FROM " + failedRows + " WHERE connection = ?")) {
            ps.setString(1, connectionName);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new io.backflow.diff.SnapshotDiff.Retry(rs.getString(1), rs.getInt(2)));
                }
            }
        }
        return out;
    }

    /**
     * Keeps the rows the destination refused for the next sync, and forgets the retried ones it
     * took. A retry split's position is the number of its keys already resolved; a key that
     * failed again in this run was just re-recorded with this run and stays.
     */
    void record(Connection conn, DeliveryCommittable c) throws SQLException {
        String connectionName = connectionOf(conn, c.runId());
        recordFailures(conn, connectionName, c.runId(), c.errors());
        String retried = c.positions().get(Ledger.RETRY_SPLIT);
        if (retried != null) {
            Object[] done = io.backflow.jdbc.PositionCodec.decode(retried);
            long resolved = done.length == 1 && done[0] instanceof Long ? (Long) done[0] : 0;
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM " + failedRows + " WHERE connection = ? AND last_run <> ?"
                    + " AND key_position IN (SELECT key_position FROM " + retryKeys + " WHERE run_id = ? AND idx < ?)")) {
                ps.setString(1, connectionName);
                ps.setString(2, c.runId());
                ps.setString(3, c.runId());
                ps.setLong(4, resolved);
                ps.executeUpdate();
            }
        }
    }

    String connectionOf(Connection conn, String runId) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT connection FROM " + runs + " WHERE run_id = ?")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Keeps the refused rows among {@code errors} (of run {@code runId}) for the next sync. */
    void recordFailures(Connection conn, String connectionName, String runId, List<RowError> errors) throws SQLException {
        boolean anyFailed = errors.stream().anyMatch(e -> e.kind() == RowError.Kind.FAILED && e.keyPosition() != null);
        if (!anyFailed) {
            return;
        }
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + failedRows
                + " (connection, key_position, row_key, reason, attempts, first_failed_at, last_failed_at, last_run) VALUES (?, ?, ?, ?, 1, ?, ?, ?)"
                + " ON CONFLICT (connection, key_position) DO UPDATE SET attempts = " + failedRows + ".attempts + 1,"
                + " reason = EXCLUDED.reason, last_failed_at = EXCLUDED.last_failed_at, last_run = EXCLUDED.last_run")) {
            java.util.Set<String> seen = new java.util.HashSet<>();
            Timestamp at = now();
            for (RowError e : errors) {
                if (e.kind() != RowError.Kind.FAILED || e.keyPosition() == null || !seen.add(e.keyPosition())) {
                    continue;
                }
                ps.setString(1, connectionName);
                ps.setString(2, e.keyPosition());
                ps.setString(3, truncate(e.key()));
                ps.setString(4, truncate(e.reason()));
                ps.setTimestamp(5, at);
                ps.setTimestamp(6, at);
                ps.setString(7, runId);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
