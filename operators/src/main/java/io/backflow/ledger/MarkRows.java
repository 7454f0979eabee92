package io.backflow.ledger;

import io.backflow.model.MarkRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The rows resolved at a connection's committed high-water mark, which is the exact answer to
 * "which rows with cursor = mark has the destination seen, and in what form": the next INCREMENTAL
 * run reads {@code cursor >= mark}, and skips only those.
 *
 * <ul>
 *   <li>{@code run_mark_rows}: per run, each row it resolved (delivered or invalid) at its own
 *       high-water mark, written with the run's commits;
 *   <li>{@code mark_rows}: per connection, the rows of its committed mark. When a run completes and
 *       the connection's position moves to the run's high-water mark, the rows of other marks go,
 *       and the run's rows (with those of the runs it resumed at the same mark) are added, a later
 *       version of a key replacing an earlier one.
 * </ul>
 *
 * Bounded by the rows that share one cursor value. Every method works in the caller's transaction.
 */
final class MarkRows {
    private final String runs;
    private final String runMarkRows;
    private final String markRows;

    MarkRows(LedgerTables tables) {
        this.runs = tables.runs;
        this.runMarkRows = tables.runMarkRows;
        this.markRows = tables.markRows;
    }

    /** Records what a commit resolved at the run's high-water mark; the last version of a key wins. */
    void record(Connection c, String runId, List<MarkRow> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        // One statement may not update a key twice (DuckDB), and a restored split re-reads rows.
        Map<String, String> latest = new LinkedHashMap<>();
        for (MarkRow row : rows) {
            latest.put(row.key(), row.version());
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + runMarkRows + " (run_id, row_key, version) VALUES (?, ?, ?)"
                + " ON CONFLICT (run_id, row_key) DO UPDATE SET version = EXCLUDED.version")) {
            for (Map.Entry<String, String> e : latest.entrySet()) {
                ps.setString(1, runId);
                ps.setString(2, e.getKey());
                ps.setString(3, e.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
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
        try (PreparedStatement sameMark = c.prepareStatement("SELECT high_water_mark FROM " + runs + " WHERE run_id = ?");
                PreparedStatement add = c.prepareStatement("INSERT INTO " + markRows + " (connection, mark, row_key, version)"
                        + " SELECT ?, ?, row_key, version FROM " + runMarkRows + " WHERE run_id = ?"
                        + " ON CONFLICT (connection, mark, row_key) DO UPDATE SET version = EXCLUDED.version")) {
            for (String run : oldestFirst) {
                sameMark.setString(1, run);
                try (ResultSet rs = sameMark.executeQuery()) {
                    // A run restarted from the start planned again, possibly up to another mark.
                    if (!rs.next() || !mark.equals(rs.getString(1))) {
                        continue;
                    }
                }
                add.setString(1, connectionName);
                add.setString(2, mark);
                add.setString(3, run);
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

    /** Streams the rows resolved at {@code mark} to {@code each} as (key, version). */
    long forEach(Connection c, String connectionName, String mark, BiConsumer<String, String> each) throws SQLException {
        long n = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT row_key, version FROM " + markRows + " WHERE connection = ? AND mark = ?")) {
            ps.setFetchSize(10_000);
            ps.setString(1, connectionName);
            ps.setString(2, mark);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    each.accept(rs.getString(1), rs.getString(2));
                    n++;
                }
            }
        }
        return n;
    }
}
