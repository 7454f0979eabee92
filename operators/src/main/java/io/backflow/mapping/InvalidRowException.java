package io.backflow.mapping;

/** Thrown while building an event to reject the row; the message is the one-line reason. */
final class InvalidRowException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidRowException(String reason) {
        // No stack trace: this is an expected per-row outcome, not a bug, and can be frequent.
        super(reason, null, false, false);
    }
}
