package io.backflow.job;

/** A sync could not run or did not finish; the message is one line for the user. */
public class SyncFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SyncFailedException(String message) {
        super(message);
    }

    public SyncFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
