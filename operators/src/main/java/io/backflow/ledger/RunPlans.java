package io.backflow.ledger;

import static io.backflow.ledger.LedgerTransactions.now;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a run reads: the plan the source's enumerator reported (high-water mark and splits with
 * their descriptors), how far each split got, and the copy a resumed run takes. Works inside the
 * caller's transaction.
 */
final class RunPlans {
    private final String runs;
    private final String splits;
    private final String commits;
    private final RunCompletion completion;

    RunPlans(LedgerTables tables, RunCompletion completion) {
        this.runs = tables.runs;
        this.splits = tables.splits;
        this.commits = tables.commits;
        this.completion = completion;
    }

    /** Records the plan; true when the run had nothing left to read and is now complete. */
    boolean planned(Connection c, String runId, String highWaterMark, List<Ledger.SplitProgress> plannedSplits) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + runs + " SET high_water_mark = ?, planned_splits = ? WHERE run_id = ?")) {
            ps.setString(1, highWaterMark);
            ps.setInt(2, plannedSplits.size());
            ps.setString(3, runId);
            ps.executeUpdate();
        }
        // Planning again (after a failure before the first checkpoint) may cut other ranges; while
        // nothing was committed the new plan replaces the old one, after that the first plan stands.
        boolean committed;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + commits + " WHERE run_id = ?")) {
            ps.setString(1, runId);
            ps.setMaxRows(1);
            try (ResultSet rs = ps.executeQuery()) {
                committed = rs.next();
            }
        }
        if (!committed) {
            // Delete only the splits the new plan lacks and upsert the rest: DuckDB cannot
            // delete and re-insert one key inside a transaction.
            StringBuilder keep = new StringBuilder();
            for (int i = 0; i < plannedSplits.size(); i++) {
                keep.append(i == 0 ? "?" : ", ?");
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + splits + " WHERE run_id = ?"
                    + (plannedSplits.isEmpty() ? "" : " AND split_id NOT IN (" + keep + ")"))) {
                ps.setString(1, runId);
                for (int i = 0; i < plannedSplits.size(); i++) {
                    ps.setString(i + 2, plannedSplits.get(i).splitId());
                }
                ps.executeUpdate();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + splits
                + " (run_id, split_id, position, finished, last_checkpoint, descriptor) VALUES (?, ?, ?, ?, -1, ?)"
                + (committed ? " ON CONFLICT DO NOTHING" : " ON CONFLICT (run_id, split_id) DO UPDATE SET position = EXCLUDED.position,"
                        + " finished = EXCLUDED.finished, descriptor = EXCLUDED.descriptor"))) {
            for (Ledger.SplitProgress split : plannedSplits) {
                ps.setString(1, runId);
                ps.setString(2, split.splitId());
                ps.setString(3, split.position());
                ps.setBoolean(4, split.finished());
                ps.setString(5, split.descriptor());
                ps.addBatch();
            }
            if (!plannedSplits.isEmpty()) {
                ps.executeBatch();
            }
        }
        return completion.completeIfDone(c, runId);
    }

    /** Gives {@code toRun} the plan of {@code fromRun}. */
    void copyPlan(Connection c, String fromRun, String toRun) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + runs + " SET high_water_mark = (SELECT high_water_mark FROM " + runs
                + " WHERE run_id = ?), planned_splits = (SELECT planned_splits FROM " + runs + " WHERE run_id = ?) WHERE run_id = ?")) {
            ps.setString(1, fromRun);
            ps.setString(2, fromRun);
            ps.setString(3, toRun);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + splits + " (run_id, split_id, position, finished, last_checkpoint, descriptor)"
                + " SELECT ?, split_id, position, finished, last_checkpoint, descriptor FROM " + splits + " WHERE run_id = ?")) {
            ps.setString(1, toRun);
            ps.setString(2, fromRun);
            ps.executeUpdate();
        }
    }

    List<Ledger.SplitProgress> splitProgress(Connection c, String runId) throws SQLException {
        List<Ledger.SplitProgress> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT split_id, descriptor, position, finished FROM " + splits
                + " WHERE run_id = ? ORDER BY split_id")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Ledger.SplitProgress(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4)));
                }
            }
        }
        return out;
    }

    Map<String, String> splitPositions(Connection c, String runId) throws SQLException {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT split_id, position FROM " + splits + " WHERE run_id = ? ORDER BY split_id")) {
            ps.setString(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return out;
    }
}
