package io.backflow.ledger;

import io.backflow.source.RunSequence;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger as a continuous job's {@link RunSequence}: reads whether a run completed, and records
 * the next one ({@link Ledger#startNextRun}) unless the connection was disabled. It also forgets
 * old runs' detail after {@code retention}, as each {@code sync} does, at most every ten minutes.
 */
public final class LedgerRunSequence implements RunSequence {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LedgerRunSequence.class);
    private static final Duration PURGE_EVERY = Duration.ofMinutes(10);

    private final LedgerStore store;
    private final String connectionName;
    private final int maxRetryKeys;
    private final Duration retention;
    private transient Ledger ledger;
    private transient Instant nextPurge;
    private transient String waitingFor;
    private transient boolean disposed;

    public LedgerRunSequence(LedgerStore store, String connectionName, int maxRetryKeys, Duration retention) {
        this.store = store;
        this.connectionName = connectionName;
        this.maxRetryKeys = maxRetryKeys;
        this.retention = retention;
    }

    // Callers hold the lock, so close() and dispose() wait for a call under way instead of closing
    // the ledger under it, and a disposed sequence never opens a connection again.
    private synchronized Ledger ledger() {
        if (disposed) {
            throw new IllegalStateException("the run sequence of connection " + connectionName + " was disposed with its enumerator");
        }
        if (ledger == null) {
            ledger = store.open();
        }
        return ledger;
    }

    @Override
    public synchronized Progress progress(String runId) {
        SyncRun run = ledger().run(runId);
        if (run == null) {
            return new Progress(State.ENDED, -1, "unknown to the ledger");
        }
        if (run.status() == RunStatus.RUNNING) {
            return new Progress(State.RUNNING, -1, run.status().name());
        }
        long succeededAt = run.status() == RunStatus.SUCCEEDED && run.finishedAt() != null ? run.finishedAt().toEpochMilli() : -1;
        return new Progress(run.completed() || run.status() == RunStatus.SUCCEEDED ? State.COMPLETED : State.ENDED, succeededAt,
                run.status().name());
    }

    @Override
    public synchronized NextRun startAfter(String previousRunId) {
        Ledger l = ledger();
        if (l.isDisabled(connectionName)) {
            waiting("connection " + connectionName + " is disabled; no run starts until it is enabled");
            return null;
        }
        NextRun next = l.startNextRun(previousRunId, maxRetryKeys);
        if (next == null) {
            waiting("the next run of connection " + connectionName + " waits: another sync holds it, or this job is stopping");
            return null;
        }
        waitingFor = null;
        Instant now = Instant.now();
        if (nextPurge == null || now.isAfter(nextPurge)) {
            nextPurge = now.plus(PURGE_EVERY);
            l.purge(connectionName, now.minus(retention));
        }
        return next;
    }

    /** Logs why no run starts, once per reason. */
    private void waiting(String why) {
        if (!why.equals(waitingFor)) {
            waitingFor = why;
            LOG.info("Continuous sync: {}", why);
        }
    }

    @Override
    public synchronized void close() {
        if (ledger != null) {
            ledger.close();
            ledger = null;
        }
    }

    @Override
    public LedgerRunSequence copy() {
        return new LedgerRunSequence(store, connectionName, maxRetryKeys, retention);
    }

    @Override
    public synchronized void dispose() {
        disposed = true;
        close();
    }
}
