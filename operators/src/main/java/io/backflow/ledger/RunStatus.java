package io.backflow.ledger;

/** Where a sync run stands. */
public enum RunStatus {
    RUNNING,
    SUCCEEDED,
    FAILED,
    CANCELLED;

    public boolean isFinal() {
        return this != RUNNING;
    }
}
