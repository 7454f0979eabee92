package io.backflow.sink.http;

/**
 * The destination refused Backflow itself rather than an event (wrong write key, unknown URL):
 * retrying or restarting cannot help, so the sync fails at once with a message naming the setting
 * to fix.
 */
public class DestinationConfigurationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DestinationConfigurationException(String message) {
        super(message);
    }
}
