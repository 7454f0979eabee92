package io.backflow.job.config;

import java.util.List;

/** A connection file that cannot be used; carries every problem found, each naming its field. */
public class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ConfigException(String file, List<String> problems) {
        super(file + ": " + (problems.size() == 1 ? problems.get(0) : problems.size() + " problems:\n  " + String.join("\n  ", problems)));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
