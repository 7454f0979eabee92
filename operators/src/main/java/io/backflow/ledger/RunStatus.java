package io.backflow.ledger;

/**
 * Where a sync run stands.
 *
 * <ul>
 *   <li>{@link #SUCCEEDED}: every row read was delivered (or recorded invalid);
 *   <li>{@link #PARTIAL}: every row read was resolved, but some failed at the destination; they are
 *       owed to the next sync;
 *   <li>{@link #FAILED}: the run gave up (its job failed; the next sync resumes it), or it read
 *       everything and the destination took none of it ({@link SyncRun#completed()}; the rows are
 *       owed to the next sync);
 *   <li>{@link #CANCELLED}: stopped; the next sync resumes it.
 * </ul>
 */
public enum RunStatus {
    RUNNING,
    SUCCEEDED,
    PARTIAL,
    FAILED,
    CANCELLED;

    public boolean isFinal() {
        return this != RUNNING;
    }
}
