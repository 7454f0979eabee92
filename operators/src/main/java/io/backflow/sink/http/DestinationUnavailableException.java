package io.backflow.sink.http;

/**
 * The destination kept failing for the whole retry budget ({@code retry.max_duration}): the sync
 * stops rather than wait any longer or restart into the same failure, and the next sync continues
 * from the last checkpoint.
 */
public class DestinationUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DestinationUnavailableException(String message) {
        super(message);
    }
}
