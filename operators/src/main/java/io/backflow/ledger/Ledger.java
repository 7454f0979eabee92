package io.backflow.ledger;

import io.backflow.sink.DeliveryCommittable;
import static io.backflow.ledger.LedgerTransactions.now;
import static io.backflow.ledger.LedgerTransactions.truncate;

import io.backflow.diff.DeltaTable;
import io.backflow.diff.SnapshotDiff;
import io.backflow.diff.SnapshotUpdate;
import io.backflow.model.RowError;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backflow's durable per-connection state, kept over JDBC: sync runs with their counts, the
 * position each run reached per split, the committed position of each connection, and the rows
 * that were invalid or failed.
 *
 * <p>Every change the running job makes goes through {@link #commit}, which applies a
 * {@link DeliveryCommittable} once, in one transaction, and marks the run SUCCEEDED when every
 * planned split has been read to its end and acknowledged. Only then does the connection's
 * committed position move to the run's high-water mark.
 */
public final class Ledger implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Ledger.class);

    private final LedgerStore store;
    private final LedgerTransactions tx;
    private final FailedRows failed;
    private final MarkRowStore marks;
    private final String runs;
    private final String splits;
    private final String commits;
    private final String errors;
    private final String connections;
    private final String retryKeys;
    private final String runMarkRows;
    private final SnapshotUpdate snapshots;

    private Ledger(LedgerStore store) {
        this.store = store;
        this.tx = new LedgerTransactions(store);
        LedgerTables tables = new LedgerTables(store);
        this.runs = tables.runs;
        this.splits = tables.splits;
        this.commits = tables.commits;
        this.errors = tables.errors;
        this.connections = tables.connections;
        this.retryKeys = tables.retryKeys;
        this.runMarkRows = tables.runMarkRows;
        this.failed = new FailedRows(tables);
        this.marks = new MarkRowStore(tables);
        this.snapshots = new SnapshotUpdate(store.endpoint().dialect());
        tables.createIfMissing(tx);
    }

    /** Opens the ledger and creates its schema and tables when they do not exist yet. */
    public static Ledger open(LedgerStore store) {
        return new Ledger(store);
    }

    // ---------------------------------------------------------------- runs, as the CLI sees them

    /** Records a new RUNNING run and returns its id. */
    public String startRun(String connectionName, String type, String startPosition, String reason) {
        return startRun(connectionName, type, startPosition, reason, null, null);
    }

    /**
     * Records a new RUNNING run that may continue {@code resumedFrom}, started by {@code client}
     * ({@code embedded:pid@host} or {@code flink:<rest url>}), and returns its id.
     */
    public String startRun(String connectionName, String type, String startPosition, String reason, String resumedFrom, String client) {
        return startRun(connectionName, type, startPosition, reason, resumedFrom, client, null);
    }

    /**
     * As above, also recording the connection's fingerprint (what its mapping, model and column
     * types were), so a later sync can tell that one of them changed.
     */
    public String startRun(String connectionName, String type, String startPosition, String reason, String resumedFrom, String client,
            String fingerprint) {
        String id = UUID.randomUUID().toString();
        tx.run(c -> {
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
            return null;
        });
        return id;
    }

    /** Frees the connection for its next run once {@code runId} is final. */
    private void release(Connection c, String runId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + connections + " SET running_run = NULL WHERE running_run = ?")) {
            ps.setString(1, runId);
            ps.executeUpdate();
        }
    }

    /** Asks a running run to stop ({@code STOP}) or to stop after delivering what it read ({@code DRAIN}). */
    public boolean requestStop(String runId, String mode) {
        return tx.update("UPDATE " + runs + " SET stop_request = ? WHERE run_id = ? AND status = 'RUNNING'", mode, runId) > 0;
    }

    /** Ends a RUNNING run as CANCELLED, remembering the savepoint it left (null after a drain). */
    public boolean markStopped(String runId, String savepoint, String reason) {
        return tx.run(c -> {
            int n;
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + runs + " SET status = 'CANCELLED', finished_at = ?, savepoint = ?, outcome = ?"
                    + " WHERE run_id = ? AND status = 'RUNNING'")) {
                ps.setTimestamp(1, now());
                ps.setString(2, savepoint);
                ps.setString(3, truncate(reason));
                ps.setString(4, runId);
                n = ps.executeUpdate();
            }
            release(c, runId);
            return n > 0;
        });
    }

    /** Records the savepoint a run left behind, whatever its status. */
    public void recordSavepoint(String runId, String savepoint) {
        tx.update("UPDATE " + runs + " SET savepoint = ? WHERE run_id = ?", savepoint, runId);
    }

    /**
     * Gives {@code toRun} the plan of {@code fromRun}: its high-water mark and every split with the
     * position it reached and whether it finished. A run resumed from a savepoint continues the
     * same splits, whose source enumerator does not plan again.
     */
    public void copyPlan(String fromRun, String toRun) {
        tx.run(c -> {
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
            return null;
        });
    }

    /**
     * Computes a fresh run's delta against the connection's snapshot (see {@link SnapshotDiff}) and
     * records it on the run, in one transaction: a run either has its whole delta or none. Keys
     * that earlier syncs failed to deliver carry their attempt number.
     */
    public SnapshotDiff.Result planDelta(String runId, String connectionName, SnapshotDiff diff) {
        return tx.run(c -> {
            List<SnapshotDiff.Retry> retries = failed.retries(c, connectionName);
            SnapshotDiff.Result result = diff.materialize(c, runId, retries);
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + runs + " SET delta = ? WHERE run_id = ?")) {
                ps.setString(1, result.delta().toJson());
                ps.setString(2, runId);
                ps.executeUpdate();
            }
            return result;
        });
    }

    /**
     * The snapshot table the connection's last completed diff run left, or null before the first:
     * a diff against no snapshot (or another key's) must send every row.
     */
    public String snapshotOf(String connectionName) {
        return tx.run(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT snapshot FROM " + connections + " WHERE connection = ?")) {
                ps.setString(1, connectionName);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    /** A run that resumes {@code fromRun} reads the same delta, so its rows are resolved once across both. */
    public void shareDelta(String fromRun, String toRun) {
        tx.update("UPDATE " + runs + " SET delta = (SELECT delta FROM " + runs + " WHERE run_id = ?) WHERE run_id = ?", fromRun, toRun);
    }

    /**
     * The row-level log of a diff run: per key of its delta, the operation, outcome, reason and
     * attempt; null for a cursor run, which has no delta, or when its delta was purged.
     */
    public List<SnapshotUpdate.LogEntry> rowLog(String runId, String onlyStatus, int limit) {
        SyncRun run = run(runId);
        if (run == null || run.delta() == null) {
            return null;
        }
        return tx.run(c -> {
            if (!tableExists(c, run.delta().schema(), run.delta().table())) {
                return null;
            }
            boolean complete;
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + runs + " WHERE delta = ? AND " + COMPLETED)) {
                ps.setString(1, run.delta().toJson());
                try (ResultSet rs = ps.executeQuery()) {
                    complete = rs.next();
                }
            }
            return snapshots.log(c, run.delta(), complete, onlyStatus, limit);
        });
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

    /** The splits of a run as it left them: descriptor, committed position, finished. */
    public List<SplitProgress> splitProgress(String runId) {
        return tx.run(c -> {
            List<SplitProgress> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT split_id, descriptor, position, finished FROM " + splits
                    + " WHERE run_id = ? ORDER BY split_id")) {
                ps.setString(1, runId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new SplitProgress(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4)));
                    }
                }
            }
            return out;
        });
    }

    /** One split of a run: how it was planned (an encoded split), where it got to, and whether it ended. */
    public record SplitProgress(String splitId, String descriptor, String position, boolean finished) {}

    /** Split id of the source split that reads failed rows again by key. */
    public static final String RETRY_SPLIT = io.backflow.source.split.WarehouseSplit.RETRY_KEYS_ID;

    /** Keys (PositionCodec strings) of rows the destination refused, oldest first: what the next sync retries. */
    public List<String> failedKeys(String connectionName, int limit) {
        return tx.run(c -> failed.keys(c, connectionName, limit));
    }

    /** How many rows of a connection wait to be retried. */
    public long failedRowCount(String connectionName) {
        return tx.run(c -> failed.count(c, connectionName));
    }

    /** Records which failed keys a run retries, in the order its retry split reads them. */
    public void recordRetryKeys(String runId, List<String> keys) {
        if (!keys.isEmpty()) {
            tx.run(c -> failed.recordRetryKeys(c, runId, keys));
        }
    }

    /** A resumed run retries the keys of the run it resumes. */
    public void copyRetryKeys(String fromRun, String toRun) {
        tx.run(c -> failed.copyRetryKeys(c, fromRun, toRun));
    }

    /**
     * Forgets the detail of a connection's runs that ended before {@code olderThan}: their
     * undelivered-row log, commit ids, split positions and retry keys. The runs themselves, with
     * their counts, stay in the history. Returns how many rows were removed.
     */
    public int purge(String connectionName, Instant olderThan) {
        return tx.run(c -> {
            String old = "SELECT run_id FROM " + runs + " WHERE connection = ? AND status <> 'RUNNING' AND finished_at < ?"
                    // The newest run may still be resumed from its split positions.
                    + " AND seq < (SELECT MAX(seq) FROM " + runs + " WHERE connection = ?)";
            int removed = dropDeltas(c, connectionName, olderThan);
            for (String table : List.of(errors, commits, splits, retryKeys, runMarkRows)) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE run_id IN (" + old + ")")) {
                    ps.setString(1, connectionName);
                    ps.setTimestamp(2, Timestamp.from(olderThan));
                    ps.setString(3, connectionName);
                    removed += ps.executeUpdate();
                }
            }
            return removed;
        });
    }

    /** Drops the delta tables (row-level logs) of runs being purged that no newer run still reads. */
    private int dropDeltas(Connection c, String connectionName, Instant olderThan) throws SQLException {
        java.util.Set<String> old = new java.util.LinkedHashSet<>();
        java.util.Set<String> kept = new java.util.HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT delta, status <> 'RUNNING' AND finished_at < ?"
                + " AND seq < (SELECT MAX(seq) FROM " + runs + " WHERE connection = ?) FROM " + runs
                + " WHERE connection = ? AND delta IS NOT NULL")) {
            ps.setTimestamp(1, Timestamp.from(olderThan));
            ps.setString(2, connectionName);
            ps.setString(3, connectionName);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    (rs.getBoolean(2) ? old : kept).add(rs.getString(1));
                }
            }
        }
        old.removeAll(kept);
        for (String delta : old) {
            snapshots.drop(c, DeltaTable.fromJson(delta));
        }
        if (!old.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + runs + " SET delta = NULL WHERE connection = ? AND delta = ?")) {
                for (String delta : old) {
                    ps.setString(1, connectionName);
                    ps.setString(2, delta);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        return old.size();
    }

    /** Whether {@code disable} switched the connection off. */
    public boolean isDisabled(String connectionName) {
        return Boolean.TRUE.equals(tx.run(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT disabled FROM " + connections + " WHERE connection = ?")) {
                ps.setString(1, connectionName);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                }
            }
        }));
    }

    public void setDisabled(String connectionName, boolean disabled) {
        tx.run(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + connections + " (connection, position, disabled, updated_at) VALUES (?, NULL, ?, ?)"
                    + " ON CONFLICT (connection) DO UPDATE SET disabled = EXCLUDED.disabled, updated_at = EXCLUDED.updated_at")) {
                ps.setString(1, connectionName);
                ps.setBoolean(2, disabled);
                ps.setTimestamp(3, now());
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Remembers which Flink job runs a run, so a stop can find it. */
    public void attachJob(String runId, String jobId) {
        tx.update("UPDATE " + runs + " SET job_id = ? WHERE run_id = ?", jobId, runId);
    }

    /** Ends a run that is still RUNNING with the given status; a run already final is left alone. */
    public boolean finishRun(String runId, RunStatus status, String reason) {
        return tx.run(c -> {
            int n;
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + runs + " SET status = ?, finished_at = ?, outcome = COALESCE(?, outcome)"
                    + " WHERE run_id = ? AND status = 'RUNNING'")) {
                ps.setString(1, status.name());
                ps.setTimestamp(2, now());
                ps.setString(3, truncate(reason));
                ps.setString(4, runId);
                n = ps.executeUpdate();
            }
            release(c, runId);
            return n > 0;
        });
    }

    public SyncRun run(String runId) {
        List<SyncRun> found = queryRuns("WHERE run_id = ?", runId, 1);
        return found.isEmpty() ? null : found.get(0);
    }

    /** A run that read everything and resolved every row, whatever its status (see {@link SyncRun#completed()}). */
    private static final String COMPLETED = "(status = 'SUCCEEDED' OR completed)";

    /** The connection's newest completed run ({@link SyncRun#completed()}), or null. */
    public SyncRun lastCompleted(String connectionName) {
        List<SyncRun> found = queryRuns("WHERE connection = ? AND " + COMPLETED, connectionName, 1);
        return found.isEmpty() ? null : found.get(0);
    }

    /** A connection's runs, newest first. */
    public List<SyncRun> runs(String connectionName, int limit) {
        return queryRuns("WHERE connection = ?", connectionName, limit);
    }

    /** The committed position of a connection: the cursor everything up to which was acknowledged. */
    public String committedPosition(String connectionName) {
        return tx.run(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT position FROM " + connections + " WHERE connection = ?")) {
                ps.setString(1, connectionName);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    /** Forgets a connection's committed position, so the next sync reads everything again. */
    public void resetPosition(String connectionName) {
        tx.run(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + connections + " SET position = NULL WHERE connection = ?")) {
                ps.setString(1, connectionName);
                ps.executeUpdate();
            }
            marks.clear(c, connectionName);
            return null;
        });
    }

    /**
     * Streams the rows the connection resolved at its committed high-water mark {@code mark} to
     * {@code each}, oldest first (a later row with the same key replaces an earlier one), and
     * returns how many there were.
     */
    public long forEachRowAtMark(String connectionName, String mark, java.util.function.Consumer<io.backflow.model.MarkRow> each) {
        return tx.run(c -> marks.forEach(c, connectionName, mark, each));
    }

    /** The rows of a run that were not delivered. */
    public List<RowError> rowErrors(String runId, int limit) {
        return tx.run(c -> {
            List<RowError> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT kind, row_key, message_id, reason FROM " + errors
                    + " WHERE run_id = ? ORDER BY recorded_at, row_key")) {
                ps.setString(1, runId);
                ps.setMaxRows(limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new RowError(RowError.Kind.valueOf(rs.getString(1)), rs.getString(2), rs.getString(3), rs.getString(4)));
                    }
                }
            }
            return out;
        });
    }

    /** Positions reached per split by a run: where a run without its savepoint resumes. */
    public Map<String, String> splitPositions(String runId) {
        return tx.run(c -> {
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
        });
    }

    // ---------------------------------------------------------------- what the job writes

    /**
     * Records the enumerator's plan: the high-water mark and every split with its descriptor,
     * start position and whether it is already finished (a resumed run's splits can be). A run
     * with nothing left to read is finished right away. Planning again (the enumerator does after
     * a failure before its first checkpoint) keeps what was recorded.
     */
    public void planned(String runId, String highWaterMark, List<SplitProgress> plannedSplits) {
        boolean done = tx.run(c -> {
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
                for (SplitProgress split : plannedSplits) {
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
            return completeIfDone(c, runId);
        });
        LOG.info("Sync run {} planned {} split(s) up to high-water mark {}{}", runId, plannedSplits.size(), highWaterMark,
                done ? "; nothing left to read" : "");
    }

    /** Applies one committable exactly once; returns false when it had been applied before. */
    public boolean commit(DeliveryCommittable c) {
        return tx.run(conn -> {
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
            try (PreparedStatement ps = conn.prepareStatement("SELECT 1 FROM " + commits + " WHERE run_id = ? AND subtask = ? AND checkpoint_id = ?")) {
                ps.setString(1, c.runId());
                ps.setInt(2, c.subtask());
                ps.setLong(3, c.checkpointId());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return false;
                    }
                }
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
            if (!c.errors().isEmpty()) {
                try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + errors
                        + " (run_id, kind, row_key, message_id, reason, recorded_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                    Timestamp at = now();
                    for (RowError e : c.errors()) {
                        ps.setString(1, c.runId());
                        ps.setString(2, e.kind().name());
                        ps.setString(3, truncate(e.key()));
                        ps.setString(4, e.messageId());
                        ps.setString(5, truncate(e.reason()));
                        ps.setTimestamp(6, at);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            }
            if (delta != null && !c.errors().isEmpty()) {
                snapshots.recordErrors(conn, delta, c.errors());
            }
            failed.record(conn, c);
            marks.record(conn, c);
            completeIfDone(conn, c.runId());
            finishSplitsOfResumers(conn, c);
            return true;
        });
    }

    /**
     * A stopped run's last progress can reach the ledger after a run resumed it from its savepoint
     * and copied its plan (the committer retried it). Splits that progress finished are finished
     * for the resuming run too: its restored readers will not announce them again. Positions are
     * left alone, since the resuming run may already be further.
     */
    private void finishSplitsOfResumers(Connection conn, DeliveryCommittable c) throws SQLException {
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

    /** Marks a RUNNING run SUCCEEDED once every planned split is finished, and moves the connection's position. */
    private boolean completeIfDone(Connection c, String runId) throws SQLException {
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
        release(c, runId);
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
                || hwm[0].getClass() != start[0].getClass() || !(hwm[0] instanceof Comparable)) {
            return false;
        }
        return ((Comparable) hwm[0]).compareTo(start[0]) < 0;
    }

    // ---------------------------------------------------------------- plumbing

    private List<SyncRun> queryRuns(String where, String arg, int limit) {
        return tx.run(c -> {
            List<SyncRun> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT run_id, connection, run_type, status, started_at, finished_at, start_position,"
                    + " high_water_mark, rows_read, rows_succeeded, rows_failed, rows_invalid, job_id, reason, resumed_from, savepoint,"
                    + " client, stop_request, planned_splits, fingerprint, delta, outcome, completed FROM " + runs + " " + where
                    + " ORDER BY seq DESC")) {
                ps.setString(1, arg);
                ps.setMaxRows(limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
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
        });
    }

    @Override
    public void close() {
        tx.close();
    }
}
