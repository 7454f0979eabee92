package io.backflow.job;

/**
 * A mistake in what the user asked for (an unknown run, a port already taken, a directory that is
 * a file): the command prints the message on one line and exits 2, like a bad connection file.
 */
public class BadInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BadInputException(String message) {
        super(message);
    }
}
