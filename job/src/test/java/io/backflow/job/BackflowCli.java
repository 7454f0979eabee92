package io.backflow.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs Backflow's command line in-process for tests and keeps what it printed. */
final class BackflowCli {
    private BackflowCli() {}

    /** What one command printed and returned. */
    record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- out\n" + out + "\n--- err\n" + err;
        }
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(args, o, e);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Result sync(Path connection, String... extra) {
        String[] args = new String[2 + extra.length + 1];
        args[0] = "sync";
        args[1] = "--connection";
        args[2] = connection.toString();
        System.arraycopy(extra, 0, args, 3, extra.length);
        return run(args);
    }

    /** The connection's runs as {@code history --json} prints them, newest first. */
    static JsonNode history(Path connection) {
        Result r = run("history", "--connection", connection.toString(), "--json");
        if (r.exitCode() != 0) {
            throw new AssertionError("history failed: " + r);
        }
        try {
            return new ObjectMapper().readTree(r.out());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The command line that runs Backflow's {@code Main} with {@code args} as its own JVM, on the tests' class path. */
    static java.util.List<String> processCommand(String... args) {
        java.util.List<String> command = new java.util.ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-") || arg.startsWith("-Dsun.net")) {
                command.add(arg);
            }
        }
        command.addAll(java.util.List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(java.util.List.of(args));
        return command;
    }

    static Path write(Path dir, String name, String yaml) {
        try {
            Path f = dir.resolve(name + ".yaml");
            Files.writeString(f, yaml);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The YAML lines of an {@code orders} source (key {@code id}, cursor {@code updated_at}) in
     * {@code db}, mapped to "Order Completed" track events, as most sync tests use it; each test
     * adds its own source options ({@code sourceExtra}, already indented) and destination.
     */
    static String ordersSource(io.backflow.jdbc.JdbcEndpoint db, String... sourceExtra) {
        StringBuilder yaml = new StringBuilder(String.join("\n",
                "source:",
                "  url: " + db.url(),
                "  user: " + db.user(),
                "  password: " + db.password(),
                "  table: orders",
                "  primary_key: id",
                "  cursor: updated_at"));
        for (String line : sourceExtra) {
            yaml.append("\n").append(line);
        }
        return yaml.append("\n").append(String.join("\n",
                "mapping:",
                "  event_type: track",
                "  event: Order Completed",
                "  user_id: user_id",
                "  properties: {amount: '{{ amount }}'}")).toString();
    }

    /** Deletes {@code root} and everything under it, if it exists (a savepoint directory, so the next sync resumes from the ledger alone). */
    static void deleteTree(Path root) throws java.io.IOException {
        if (java.nio.file.Files.exists(root)) {
            try (java.util.stream.Stream<Path> walk = java.nio.file.Files.walk(root)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    java.nio.file.Files.delete(p);
                }
            }
        }
    }
}
