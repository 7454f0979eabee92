package io.backflow.ledger;

import static io.backflow.ledger.LedgerTransactions.now;
import static io.backflow.ledger.LedgerTransactions.truncate;

import io.backflow.diff.SnapshotDiff;
import io.backflow.diff.SnapshotUpdate;
import io.backflow.model.RowError;
import io.backflow.sink.DeliveryCommittable;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backflow's durable per-connection state, kept over JDBC: sync runs with their counts, the
 * position each run reached per split, the committed position of each connection, and the rows
 * that were invalid or failed. Each of its concepts is a class of this package that works inside
 * one transaction ({@link RunLock}, {@link RunPlans}, {@link CommitApplier} and
 * {@link RunCompletion}, {@link Deltas}, {@link FailedRows}, {@link MarkRowStore},
 * {@link Retention}, {@link RunQueries}); this class runs each in its transaction.
 *
 * <p>Every change the running job makes goes through {@link #commit}, which applies a
 * {@link DeliveryCommittable} once, in one transaction, and completes the run when every planned
 * split has been read to its end and acknowledged. Only then does the connection's committed
 * position move to the run's high-water mark.
 */
public final class Ledger implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Ledger.class);

    private final LedgerTransactions tx;
    private final String runs;
    private final String connections;
    private final RunLock lock;
    private final FailedRows failed;
    private final MarkRowStore marks;
    private final RunPlans plans;
    private final CommitApplier commits;
    private final Deltas deltas;
    private final Retention retention;
    private final RunQueries queries;
    private final ContinuousRuns continuous;

    private Ledger(LedgerStore store) {
        this.tx = new LedgerTransactions(store);
        LedgerTables tables = new LedgerTables(store);
        this.runs = tables.runs;
        this.connections = tables.connections;
        SnapshotUpdate snapshots = new SnapshotUpdate(store.endpoint().dialect());
        this.lock = new RunLock(tables);
        this.failed = new FailedRows(tables);
        this.marks = new MarkRowStore(tables);
        RunCompletion completion = new RunCompletion(store, tables, lock, failed, marks, snapshots);
        this.plans = new RunPlans(tables, completion);
        this.commits = new CommitApplier(store, tables, failed, marks, snapshots, completion);
        this.deltas = new Deltas(tables, failed, snapshots);
        this.retention = new Retention(tables, snapshots);
        this.queries = new RunQueries(tables);
        this.continuous = new ContinuousRuns(tables, lock, failed, queries);
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
            lock.take(c, id, connectionName, type, startPosition, reason, resumedFrom, client, fingerprint);
            return null;
        });
        return id;
    }

    /**
     * Records the run of a continuous job that follows {@code previousRunId} (which completed):
     * INCREMENTAL from the committed position, retrying up to {@code maxRetryKeys} refused rows,
     * with the previous run's job, client and fingerprint. Returns null while another sync holds
     * the connection; asked again after a failover, returns the run it recorded then.
     */
    public io.backflow.source.RunSequence.NextRun startNextRun(String previousRunId, int maxRetryKeys) {
        try {
            return tx.run(c -> continuous.next(c, previousRunId, maxRetryKeys));
        } catch (RunAlreadyRunningException e) {
            // Another sync took the connection at the same moment.
            return null;
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
            lock.release(c, runId);
            return n > 0;
        });
    }

    /**
     * Asks the continuous job that ran {@code runId} to stop ({@code STOP} or {@code DRAIN}), even
     * when that run has completed: between two runs the job has no RUNNING run.
     */
    public void requestJobStop(String runId, String mode) {
        tx.update("UPDATE " + runs + " SET stop_request = ? WHERE run_id = ?", mode, runId);
    }

    /**
     * Records that the continuous job {@code jobId} ended: its runs' client no longer carries
     * {@code marker}, the sign that it may still run.
     */
    public void endContinuousJob(String jobId, String marker) {
        tx.update("UPDATE " + runs + " SET client = REPLACE(client, ?, '') WHERE job_id = ?", marker, jobId);
    }

    /** Records the savepoint a run left behind, whatever its status. */
    public void recordSavepoint(String runId, String savepoint) {
        tx.update("UPDATE " + runs + " SET savepoint = ? WHERE run_id = ?", savepoint, runId);
    }

    /**
     * Keys (PositionCodec strings) of rows the destination refused, least recently refused first:
     * what the next sync retries. A key refused again goes to the back, so with more than
     * {@code limit} owed every key gets its turn, rather than the same oldest keys every sync.
     */
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
            lock.release(c, runId);
            return n > 0;
        });
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

    public SyncRun run(String runId) {
        List<SyncRun> found = tx.run(c -> queries.runs(c, "WHERE run_id = ?", runId, 1));
        return found.isEmpty() ? null : found.get(0);
    }

    /** When the connection's newest SUCCEEDED run finished, or null when none did. */
    public java.time.Instant lastSucceededAt(String connectionName) {
        List<SyncRun> found = tx.run(c -> queries.runs(c, "WHERE connection = ? AND status = 'SUCCEEDED'", connectionName, 1));
        return found.isEmpty() ? null : found.get(0).finishedAt();
    }

    /** The connection's newest completed run ({@link SyncRun#completed()}), or null. */
    public SyncRun lastCompleted(String connectionName) {
        List<SyncRun> found = tx.run(c -> queries.runs(c, "WHERE connection = ? AND " + RunQueries.COMPLETED, connectionName, 1));
        return found.isEmpty() ? null : found.get(0);
    }

    /** A connection's runs, newest first. */
    public List<SyncRun> runs(String connectionName, int limit) {
        return tx.run(c -> queries.runs(c, "WHERE connection = ?", connectionName, limit));
    }

    /** The rows of a run that were not delivered. */
    public List<RowError> rowErrors(String runId, int limit) {
        return tx.run(c -> queries.rowErrors(c, runId, limit));
    }

    // ---------------------------------------------------------------- plans

    /** One split of a run: how it was planned (an encoded split), where it got to, and whether it ended. */
    public record SplitProgress(String splitId, String descriptor, String position, boolean finished) {}

    /** Split id of the source split that reads failed rows again by key. */
    public static final String RETRY_SPLIT = io.backflow.source.split.WarehouseSplit.RETRY_KEYS_ID;

    /**
     * Gives {@code toRun} the plan of {@code fromRun}: its high-water mark and every split with the
     * position it reached and whether it finished. A run resumed from a savepoint continues the
     * same splits, whose source enumerator does not plan again.
     */
    public void copyPlan(String fromRun, String toRun) {
        tx.run(c -> {
            plans.copyPlan(c, fromRun, toRun);
            return null;
        });
    }

    /** The splits of a run as it left them: descriptor, committed position, finished. */
    public List<SplitProgress> splitProgress(String runId) {
        return tx.run(c -> plans.splitProgress(c, runId));
    }

    /** Positions reached per split by a run: where a run without its savepoint resumes. */
    public Map<String, String> splitPositions(String runId) {
        return tx.run(c -> plans.splitPositions(c, runId));
    }

    /**
     * Records the enumerator's plan: the high-water mark and every split with its descriptor,
     * start position and whether it is already finished (a resumed run's splits can be). A run
     * with nothing left to read is finished right away. Planning again (the enumerator does after
     * a failure before its first checkpoint) keeps what was recorded.
     */
    public void planned(String runId, String highWaterMark, List<SplitProgress> plannedSplits) {
        boolean done = tx.run(c -> plans.planned(c, runId, highWaterMark, plannedSplits));
        LOG.info("Sync run {} planned {} split(s) up to high-water mark {}{}", runId, plannedSplits.size(), highWaterMark,
                done ? "; nothing left to read" : "");
    }

    // ---------------------------------------------------------------- what the job writes

    /** Applies one committable exactly once; returns false when it had been applied before. */
    public boolean commit(DeliveryCommittable c) {
        return tx.run(conn -> commits.apply(conn, c));
    }

    /** True when {@code c} was applied before. */
    public boolean isCommitted(DeliveryCommittable c) {
        return tx.run(conn -> commits.applied(conn, c));
    }

    /** True when a run's high-water mark lies below the cursor it started after: the position never moves back. */
    static boolean movesBack(String highWaterMark, String startPosition) {
        return RunCompletion.movesBack(highWaterMark, startPosition);
    }

    // ---------------------------------------------------------------- diff runs

    /**
     * Computes a fresh run's delta against the connection's snapshot (see {@link SnapshotDiff}) and
     * records it on the run, in one transaction: a run either has its whole delta or none. Keys
     * that earlier syncs failed to deliver carry their attempt number.
     */
    public SnapshotDiff.Result planDelta(String runId, String connectionName, SnapshotDiff diff) {
        return tx.run(c -> deltas.plan(c, runId, connectionName, diff));
    }

    /**
     * The snapshot table the connection's last completed diff run left, or null before the first:
     * a diff against no snapshot (or another key's) must send every row.
     */
    public String snapshotOf(String connectionName) {
        return tx.run(c -> deltas.snapshotOf(c, connectionName));
    }

    /**
     * A stopped or failed diff run that will not be resumed (a full resync, a mapping change): the
     * keys its delta inserted or updated may have reached the destination although the snapshot never
     * took them. They enter the snapshot without a hash, so the next diff sends them again, or (in
     * mirror mode) deletes them when the model no longer has them.
     */
    public void abandonDelta(String runId) {
        SyncRun run = run(runId);
        if (run != null && run.delta() != null) {
            tx.run(c -> {
                deltas.abandon(c, run.delta());
                return null;
            });
        }
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
        return tx.run(c -> deltas.rowLog(c, run, onlyStatus, limit));
    }

    // ---------------------------------------------------------------- retention

    /**
     * Forgets the detail of a connection's runs that ended before {@code olderThan}: their
     * undelivered-row log, commit ids, split positions, retry keys, mark rows and delta tables. The
     * runs themselves, with their counts, stay in the history. Returns how many rows were removed.
     */
    public int purge(String connectionName, Instant olderThan) {
        return tx.run(c -> retention.purge(c, connectionName, olderThan));
    }

    @Override
    public void close() {
        tx.close();
    }
}
