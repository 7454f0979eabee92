package io.backflow.ledger;

import io.backflow.sink.DeliveryCommittable;
import io.backflow.model.MarkRow;
import io.backflow.model.MarkRows;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * The rows resolved at a connection's committed high-water mark: which rows with
 * {@code cursor = mark} the destination has seen, and in what form. The next INCREMENTAL run reads
 * {@code cursor >= mark} and skips only those.
 *
 * <ul>
 *   <li>{@code run_mark_rows}: per run, what each commit resolved at the run's own high-water mark,
 *       one packed blob ({@link MarkRows}) per commit, written in the commit's transaction;
 *   <li>{@code mark_rows}: per connection, the blobs of its committed mark. When a run completes and
 *       the connection's position moves to the run's high-water mark, blobs of other marks go and
 *       the run's (with those of the runs it resumed at the same mark) are added. Read in
 *       (run, checkpoint) order, a later version of a key replaces an earlier one.
 * </ul>
 *
 * Bounded by the rows that share one cursor value, 24 bytes each. Every method works in the
 * caller's transaction.
 */
final class MarkRowStore {
    private final String runs;
    private final String runMarkRows;
    private final String markRows;

    MarkRowStore(LedgerTables tables) {
        this.runs = tables.runs;
        this.runMarkRows = tables.runMarkRows;
        this.markRows = tables.markRows;
    }

    /** Records what a commit resolved at the run's high-water mark. */
    void record(Connection c, DeliveryCommittable committable) throws SQLException {
        MarkRows rows = committable.markRows();
        if (rows.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + runMarkRows
                + " (run_id, checkpoint_id, subtask, row_count, packed) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, committable.runId());
            ps.setLong(2, committable.checkpointId());
            ps.setInt(3, committable.subtask());
            ps.setInt(4, rows.size());
            ps.setBytes(5, rows.bytes());
            ps.executeUpdate();
        }
    }

    /**
     * The connection's position moves to {@code mark}, the high-water mark of {@code chain} (a run
     * and the runs it resumed, newest first): keep only this mark's rows and add the chain's.
     */
    void moveTo(Connection c, String connectionName, String mark, List<String> chain) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + markRows + " WHERE connection = ? AND mark <> ?")) {
            ps.setString(1, connectionName);
            ps.setString(2, mark);
            ps.executeUpdate();
        }
        List<String> oldestFirst = new ArrayList<>(chain);
        Collections.reverse(oldestFirst);
        try (PreparedStatement run = c.prepareStatement("SELECT high_water_mark, seq FROM " + runs + " WHERE run_id = ?");
                PreparedStatement add = c.prepareStatement("INSERT INTO " + markRows
                        + " (connection, mark, run_seq, checkpoint_id, subtask, row_count, packed)"
                        + " SELECT ?, ?, ?, checkpoint_id, subtask, row_count, packed FROM " + runMarkRows + " WHERE run_id = ?")) {
            for (String runId : oldestFirst) {
                long seq;
                run.setString(1, runId);
                try (ResultSet rs = run.executeQuery()) {
                    // A run restarted from the start planned again, possibly up to another mark.
                    if (!rs.next() || !mark.equals(rs.getString(1))) {
                        continue;
                    }
                    seq = rs.getLong(2);
                }
                add.setString(1, connectionName);
                add.setString(2, mark);
                add.setLong(3, seq);
                add.setString(4, runId);
                add.executeUpdate();
            }
        }
    }

    /** Forgets the connection's mark rows: its position was reset. */
    void clear(Connection c, String connectionName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + markRows + " WHERE connection = ?")) {
            ps.setString(1, connectionName);
            ps.executeUpdate();
        }
    }

    /** Streams the rows resolved at {@code mark}, oldest first, and returns how many there were. */
    long forEach(Connection c, String connectionName, String mark, Consumer<MarkRow> each) throws SQLException {
        long[] n = {0};
        try (PreparedStatement ps = c.prepareStatement("SELECT packed FROM " + markRows + " WHERE connection = ? AND mark = ?"
                + " ORDER BY run_seq, checkpoint_id, subtask")) {
            ps.setFetchSize(16);
            ps.setString(1, connectionName);
            ps.setString(2, mark);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    MarkRows.fromBytes(rs.getBytes(1)).forEach(row -> {
                        each.accept(row);
                        n[0]++;
                    });
                }
            }
        }
        return n[0];
    }
}
