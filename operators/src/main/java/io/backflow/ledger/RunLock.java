package io.backflow.ledger;

import static io.backflow.ledger.LedgerTransactions.now;
import static io.backflow.ledger.LedgerTransactions.truncate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * One running sync per connection: the connection row names its running run, and taking it is
 * one conditional update, so two syncs started together cannot both win. Recording the run
 * happens in the same transaction. Every method works inside the caller's transaction.
 */
final class RunLock {
    private final String runs;
    private final String connections;

    RunLock(LedgerTables tables) {
        this.runs = tables.runs;
        this.connections = tables.connections;
    }

    /** Takes the connection for run {@code id} and records the run as RUNNING. */
    void take(Connection c, String id, String connectionName, String type, String startPosition, String reason, String resumedFrom,
            String client, String fingerprint) throws SQLException {

        // One run per connection at a time: the connection row names its running run, and
        // taking it is one conditional update, so two syncs started together cannot both win.
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + connections
                + " (connection, position, disabled, running_run, updated_at) VALUES (?, NULL, FALSE, NULL, ?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, connectionName);
            ps.setTimestamp(2, now());
            ps.executeUpdate();
        }
        String holder;
        try (PreparedStatement ps = c.prepareStatement("SELECT running_run FROM " + connections + " WHERE connection = ?")) {
            ps.setString(1, connectionName);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    // DuckDB: another transaction inserted the row and has not committed yet.
                    throw new SQLException("connection row of " + connectionName + " is being created by another sync", "40001");
                }
                holder = rs.getString(1);
            }
        }
        if (holder != null) {
            try (PreparedStatement ps = c.prepareStatement("SELECT status FROM " + runs + " WHERE run_id = ?")) {
                ps.setString(1, holder);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && "RUNNING".equals(rs.getString(1))) {
                        throw new RunAlreadyRunningException(connectionName, holder);
                    }
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + connections + " SET running_run = ? WHERE connection = ?"
                + (holder == null ? " AND running_run IS NULL" : " AND running_run = ?"))) {
            ps.setString(1, id);
            ps.setString(2, connectionName);
            if (holder != null) {
                ps.setString(3, holder);
            }
            if (ps.executeUpdate() == 0) {
                throw new RunAlreadyRunningException(connectionName, null);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + runs
                + " (run_id, connection, seq, run_type, status, started_at, start_position, rows_read, rows_succeeded,"
                + " rows_failed, rows_invalid, reason, resumed_from, client, fingerprint)"
                + " VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM " + runs + " WHERE connection = ?), ?, 'RUNNING', ?, ?, 0, 0, 0, 0, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, connectionName);
            ps.setString(3, connectionName);
            ps.setString(4, type);
            ps.setTimestamp(5, now());
            ps.setString(6, startPosition);
            ps.setString(7, truncate(reason));
            ps.setString(8, resumedFrom);
            ps.setString(9, client);
            ps.setString(10, fingerprint);
            ps.executeUpdate();
        }
    }

    /** Frees the connection for its next run once {@code runId} is final. */
    void release(Connection c, String runId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + connections + " SET running_run = NULL WHERE running_run = ?")) {
            ps.setString(1, runId);
            ps.executeUpdate();
        }
    }
}
