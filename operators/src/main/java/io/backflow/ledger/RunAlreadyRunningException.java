package io.backflow.ledger;

/** A connection already has a RUNNING sync, so another one may not start. */
public class RunAlreadyRunningException extends LedgerException {
    private static final long serialVersionUID = 1L;

    private final String runningRun;

    public RunAlreadyRunningException(String connection, String runningRun) {
        super("connection " + connection + " already has a sync running" + (runningRun == null ? "" : ": run " + runningRun));
        this.runningRun = runningRun;
    }

    /** The run that holds the connection, or null when another sync took it at the same moment. */
    public String runningRun() {
        return runningRun;
    }
}
