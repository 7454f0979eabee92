package io.backflow.source;

import java.io.Serializable;
import java.util.List;

/**
 * The ledger's side of a continuous job, asked by the split enumerator: whether a run is done
 * (every split read and acknowledged, which only the ledger knows), and the recording of the run
 * that follows it. The ledger implements it, so runs, their locks and their retry keys are kept
 * exactly as for runs started from the command line.
 *
 * <p>Called off the coordinator thread; it travels with the source to the JobManager.
 */
public interface RunSequence extends Serializable {

    /** Where a run stands. */
    enum State {
        /** Splits are still being read or acknowledged. */
        RUNNING,
        /** Every split was read and acknowledged: the next run may start. */
        COMPLETED,
        /** Ended without completing (stopped, failed, or unknown to the ledger): no run follows it. */
        ENDED
    }

    /**
     * @param state where the run stands
     * @param succeededAtMillis when it finished SUCCEEDED (epoch ms), or -1
     * @param status the ledger's status, for logs
     */
    record Progress(State state, long succeededAtMillis, String status) {}

    /**
     * A run the ledger recorded: what the enumerator plans next.
     *
     * @param type INCREMENTAL from the committed position, or FULL when the connection has none yet
     * @param startMark the committed high-water mark an INCREMENTAL run continues from (one value), or null
     * @param retryKeys the refused rows the run reads again by key (INCREMENTAL only)
     */
    record NextRun(String runId, SyncType type, String startMark, List<String> retryKeys) {}

    Progress progress(String runId) throws Exception;

    /**
     * Records the run that follows {@code previousRunId}, which has completed, or returns null
     * when none can start now (the connection is disabled, or another sync holds it). Asked again
     * after a failover, it returns the run it recorded before rather than a second one.
     */
    NextRun startAfter(String previousRunId) throws Exception;

    /** Releases what the calls opened; the next call opens it again. */
    void close();

    /**
     * A sequence of its own for one split enumerator: Flink reuses the source, and so its
     * sequence, when it recreates a coordinator, while the old enumerator's calls may still run.
     */
    default RunSequence copy() {
        return this;
    }

    /** Releases what the calls opened, for good: a later call fails instead of opening it again. */
    default void dispose() {
        close();
    }
}
