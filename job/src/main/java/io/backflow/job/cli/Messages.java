package io.backflow.job.cli;

import java.util.regex.Pattern;

/** One-line, user-facing forms of the messages drivers and libraries produce. */
public final class Messages {
    /** A Java class name a driver puts in front of its message ("java.sql.SQLException: "). */
    private static final Pattern CLASS_PREFIX = Pattern.compile("^([a-z][\\w$]*\\.)+[A-Z][\\w$]*(Exception|Error): ");

    private Messages() {}

    /** The first line of {@code message}, without class names in front of it. */
    public static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "no details";
        }
        String line = message.strip().split("\\R", 2)[0];
        for (String before = null; !line.equals(before); ) {
            before = line;
            line = CLASS_PREFIX.matcher(line).replaceFirst("");
        }
        return line;
    }
}
