package io.backflow.ledger;

import static io.backflow.ledger.LedgerTransactions.now;
import static io.backflow.ledger.LedgerTransactions.truncate;

import io.backflow.diff.DeltaTable;
import io.backflow.diff.SnapshotUpdate;
import io.backflow.model.RowError;
import io.backflow.sink.DeliveryCommittable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies one {@link DeliveryCommittable} to the ledger exactly once, keyed by (run, subtask,
 * checkpoint): counts, split positions, row errors, refused rows, rows resolved at the mark; then
 * completes the run if that was its last piece. Works inside the caller's transaction.
 */
final class CommitApplier {
    /** Staged row errors moved per query: the commit holds no more of them at once. */
    static final int STAGED_PAGE = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(Ledger.class);

    private final LedgerStore store;
    private final String runs;
    private final String splits;
    private final String commits;
    private final String errors;
    private final String stagedErrors;
    private final FailedRows failed;
    private final MarkRowStore marks;
    private final SnapshotUpdate snapshots;
    private final RunCompletion completion;

    CommitApplier(LedgerStore store, LedgerTables tables, FailedRows failed, MarkRowStore marks, SnapshotUpdate snapshots, RunCompletion completion) {
        this.store = store;
        this.runs = tables.runs;
        this.splits = tables.splits;
        this.commits = tables.commits;
        this.errors = tables.errors;
        this.stagedErrors = tables.stagedErrors;
        this.failed = failed;
        this.marks = marks;
        this.snapshots = snapshots;
        this.completion = completion;
    }

    /** Applies {@code c}; false when it had been applied before. */
    boolean apply(Connection conn, DeliveryCommittable c) throws SQLException {
        DeltaTable delta;
        try (PreparedStatement ps = conn.prepareStatement("SELECT delta FROM " + runs + " WHERE run_id = ?")) {
            ps.setString(1, c.runId());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    // A savepoint restored against another ledger carries its runs' pending work.
                    LOG.warn("Ignoring progress of sync run {}, which this ledger ({}) does not know", c.runId(), store);
                    return false;
                }
                delta = DeltaTable.fromJson(rs.getString(1));
            }
        }
        if (applied(conn, c)) {
            return false;
        }
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + commits + " (run_id, subtask, checkpoint_id, committed_at) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, c.runId());
            ps.setInt(2, c.subtask());
            ps.setLong(3, c.checkpointId());
            ps.setTimestamp(4, now());
            ps.executeUpdate();
        }
        // Always written, even with nothing to add: the run row is the lock that serializes the
        // commits of one run, so the last split to finish sees every other split finished
        // (PostgreSQL waits on the row; DuckDB reports a conflict and the commit is retried).
        try (PreparedStatement ps = conn.prepareStatement("UPDATE " + runs + " SET rows_read = rows_read + ?, rows_succeeded = rows_succeeded + ?,"
                + " rows_failed = rows_failed + ?, rows_invalid = rows_invalid + ? WHERE run_id = ?")) {
            ps.setLong(1, c.read());
            ps.setLong(2, c.succeeded());
            ps.setLong(3, c.failed());
            ps.setLong(4, c.invalid());
            ps.setString(5, c.runId());
            ps.executeUpdate();
        }
        if (!c.positions().isEmpty() || !c.finishedSplits().isEmpty()) {
            // A split is read by one reader at a time, so checkpoint order is position order.
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + splits
                    + " (run_id, split_id, position, finished, last_checkpoint) VALUES (?, ?, ?, ?, ?)"
                    + " ON CONFLICT (run_id, split_id) DO UPDATE SET position = COALESCE(EXCLUDED.position, " + splits + ".position),"
                    + " finished = (EXCLUDED.finished OR " + splits + ".finished), last_checkpoint = EXCLUDED.last_checkpoint")) {
                java.util.Set<String> ids = new java.util.LinkedHashSet<>(c.positions().keySet());
                ids.addAll(c.finishedSplits());
                for (String split : ids) {
                    ps.setString(1, c.runId());
                    ps.setString(2, split);
                    ps.setString(3, c.positions().get(split));
                    ps.setBoolean(4, c.finishedSplits().contains(split));
                    ps.setLong(5, c.checkpointId());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        recordErrors(conn, c.runId(), delta, c.errors());
        if (c.errorStage() != null) {
            // Before failed.record: a retried key that failed again must carry this run when
            // the retried keys it resolved are forgotten.
            applyStaged(conn, c, delta);
        }
        failed.record(conn, c);
        marks.record(conn, c);
        completion.completeIfDone(conn, c.runId());
        completion.finishSplitsOfResumers(conn, c);
        return true;
    }

    /** Row errors of run {@code runId} that the committable carries: into the error table and the delta's outcomes. */
    private void recordErrors(Connection conn, String runId, DeltaTable delta, List<RowError> list) throws SQLException {
        if (list.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + errors
                + " (run_id, kind, row_key, message_id, reason, recorded_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            Timestamp at = now();
            for (RowError e : list) {
                ps.setString(1, runId);
                ps.setString(2, e.kind().name());
                ps.setString(3, truncate(e.key()));
                ps.setString(4, e.messageId());
                ps.setString(5, truncate(e.reason()));
                ps.setTimestamp(6, at);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        if (delta != null) {
            snapshots.recordErrors(conn, delta, list);
        }
    }

    /**
     * Moves the row errors the writer staged for {@code c} into the ledger (those the delta's
     * outcomes or the refused rows need, a page at a time), and deletes them from the stage. Fewer
     * staged rows than the committable counts refuse the commit rather than lose a row's outcome.
     */
    private void applyStaged(Connection conn, DeliveryCommittable c, DeltaTable delta) throws SQLException {
        long moved;
        // The error table takes them in one statement; only the delta's outcomes and the refused
        // rows need each row's key in Java.
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + errors + " (run_id, kind, row_key, message_id, reason, recorded_at)"
                + " SELECT ?, kind, row_key, message_id, reason, ? FROM " + stagedErrors + " WHERE stage = ? AND seq < ?")) {
            ps.setString(1, c.runId());
            ps.setTimestamp(2, now());
            ps.setString(3, c.errorStage());
            ps.setLong(4, c.stagedErrors());
            moved = ps.executeUpdate();
        }
        if (moved != c.stagedErrors()) {
            // Refused, and retried by Flink's committer: a run is never completed with outcomes missing.
            throw new SQLException("stage " + c.errorStage() + " of sync run " + c.runId() + " holds " + moved + " of its "
                    + c.stagedErrors() + " row errors", "55000");
        }
        if (delta != null) {
            try (PreparedStatement ps = conn.prepareStatement("SELECT kind, row_key, message_id, reason, key_position FROM " + stagedErrors
                    + " WHERE stage = ? AND seq >= ? AND seq < ? ORDER BY seq")) {
                for (long from = 0; from < c.stagedErrors(); from += STAGED_PAGE) {
                    ps.setString(1, c.errorStage());
                    ps.setLong(2, from);
                    ps.setLong(3, Math.min(from + STAGED_PAGE, c.stagedErrors()));
                    snapshots.recordErrors(conn, delta, staged(ps));
                }
            }
        }
        // Refused rows by key, each key once per committable as when they ride in it: in key order,
        // a page after the last key of the one before.
        String connection = failed.connectionOf(conn, c.runId());
        String last = null;
        while (true) {
            try (PreparedStatement ps = conn.prepareStatement("SELECT kind, row_key, message_id, reason, key_position FROM " + stagedErrors
                    + " WHERE stage = ? AND kind = 'FAILED' AND key_position IS NOT NULL" + (last == null ? "" : " AND key_position > ?")
                    + " ORDER BY key_position, seq LIMIT " + STAGED_PAGE)) {
                ps.setString(1, c.errorStage());
                if (last != null) {
                    ps.setString(2, last);
                }
                List<RowError> page = staged(ps);
                failed.recordFailures(conn, connection, c.runId(), page);
                if (page.size() < STAGED_PAGE) {
                    break;
                }
                last = page.get(page.size() - 1).keyPosition();
            }
        }
        try (PreparedStatement ps = conn.prepareStatement("DELETE FROM " + stagedErrors + " WHERE stage = ?")) {
            ps.setString(1, c.errorStage());
            ps.executeUpdate();
        }
    }

    private static List<RowError> staged(PreparedStatement ps) throws SQLException {
        List<RowError> page = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                page.add(new RowError(RowError.Kind.valueOf(rs.getString(1)), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5)));
            }
        }
        return page;
    }

    /** Whether {@code c} was applied before. */
    boolean applied(Connection conn, DeliveryCommittable c) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT 1 FROM " + commits + " WHERE run_id = ? AND subtask = ? AND checkpoint_id = ?")) {
            ps.setString(1, c.runId());
            ps.setInt(2, c.subtask());
            ps.setLong(3, c.checkpointId());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
