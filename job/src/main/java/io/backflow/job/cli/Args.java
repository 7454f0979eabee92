package io.backflow.job.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Parsed command-line options of one subcommand: {@code --name value} pairs and bare {@code --flags}. */
public final class Args {
    private final String command;
    private final Map<String, String> values = new HashMap<>();
    private final List<String> flags = new ArrayList<>();

    private Args(String command) {
        this.command = command;
    }

    /**
     * Parses {@code args[1..]} for {@code command}; {@code valued} options take a value, {@code flags}
     * take none. Anything else is a usage error naming the option.
     */
    public static Args parse(String[] args, Set<String> valued, Set<String> flagNames) {
        return parse(args, valued, flagNames, Set.of());
    }

    /**
     * @param optionallyValued options written alone or as {@code --name=value} (never with the value
     *     as the next argument); alone, their value is the empty string
     */
    public static Args parse(String[] args, Set<String> valued, Set<String> flagNames, Set<String> optionallyValued) {
        Args out = new Args(args[0]);
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            String name = a;
            String inline = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                inline = a.substring(eq + 1);
            }
            if (optionallyValued.contains(name)) {
                out.values.put(name, inline == null ? "" : inline);
            } else if (valued.contains(name)) {
                String v = inline;
                if (v == null) {
                    if (i + 1 >= args.length) {
                        throw new UsageException(args[0] + ": " + name + " needs a value");
                    }
                    v = args[++i];
                }
                out.values.put(name, v);
            } else if (flagNames.contains(name) && inline == null) {
                out.flags.add(name);
            } else {
                throw new UsageException(args[0] + ": unknown option '" + a + "'");
            }
        }
        return out;
    }

    public String command() {
        return command;
    }

    public String value(String name) {
        return values.get(name);
    }

    public String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new UsageException(command + ": " + name + " is required");
        }
        return v;
    }

    public int intValue(String name, int fallback) {
        return intValue(name, fallback, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /** A whole number in {@code [min, max]}, or {@code fallback} when the option is not given. */
    public int intValue(String name, int fallback, int min, int max) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": " + name + " must be a whole number, got '" + v + "'");
        }
        if (n < min || n > max) {
            throw new UsageException(command + ": " + name + (max == Integer.MAX_VALUE ? " must be at least " + min
                    : " must be between " + min + " and " + max) + ", got " + n);
        }
        return n;
    }

    public boolean flag(String name) {
        return flags.contains(name);
    }

    /** A mistake in how Backflow was called. */
    public static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public UsageException(String message) {
            super(message);
        }
    }
}
