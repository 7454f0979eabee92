package io.backflow.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;

/**
 * Backflow against the hand-written loop, side by side in one run: an embedded PostgreSQL table of
 * {@code --rows} orders, one local receiver, each contender started as its own process
 * {@code --runs} times in turn, and one table of events/s, CPU-seconds per million rows, peak RSS
 * and time to first event, with the raw {@code COPY ... TO STDOUT} rate for scale.
 *
 * <p>{@code java -jar bench/target/backflow-bench.jar [--rows 1000000] [--runs 3] [--jar job/target/backflow.jar] [--jvm "-Xmx1g"]}
 */
public final class Bench {
    private record Sample(double seconds, long events, double cpuSeconds, long peakRss, double firstEvent) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("--rows", "1000000", "--runs", "3", "--jar", "job/target/backflow.jar", "--jvm", ""));
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i], args[i + 1]);
        }
        long rows = Long.parseLong(a.get("--rows").replace("_", ""));
        int runs = Integer.parseInt(a.get("--runs"));
        Path jar = Path.of(a.get("--jar")).toAbsolutePath();
        if (!Files.exists(jar)) {
            System.err.println("bench: " + jar + " not found; build it first: mvn -B -q -DskipTests package");
            System.exit(2);
        }
        String self = new File(Bench.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath();
        Path work = Files.createTempDirectory("backflow-bench");
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start(); Receiver receiver = new Receiver()) {
            String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
            System.out.printf(Locale.ROOT, "bench: creating %,d rows in PostgreSQL %s...%n", rows, url);
            double copyRate;
            long rowBytes;
            try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id TEXT NOT NULL, amount NUMERIC(10,2) NOT NULL,"
                            + " updated_at TIMESTAMP NOT NULL)");
                    s.execute("INSERT INTO orders SELECT i, 'user-' || (i % 100000), (i % 100000) / 100.0,"
                            + " TIMESTAMP '2024-01-01' + i * INTERVAL '1 millisecond' FROM generate_series(1, " + rows + ") i");
                    s.execute("ANALYZE orders");
                }
                try (Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery("SELECT avg(pg_column_size(o.*))::bigint FROM orders o")) {
                    rs.next();
                    rowBytes = rs.getLong(1);
                }
                long t0 = System.nanoTime();
                ((PGConnection) c).getCopyAPI().copyOut("COPY orders TO STDOUT", OutputStream.nullOutputStream());
                copyRate = rows / ((System.nanoTime() - t0) / 1e9);
            }
            List<Sample> loop = new ArrayList<>();
            List<Sample> backflow = new ArrayList<>();
            for (int r = 1; r <= runs; r++) {
                loop.add(run(receiver, rows, List.of(java(), "-cp", self, HandWrittenLoop.class.getName(), url, "postgres", receiver.url())));
                Path conn = work.resolve("bench" + r + ".yaml");
                Files.writeString(conn, String.join("\n",
                        "source:",
                        "  url: " + url,
                        "  user: postgres",
                        "  table: orders",
                        "  primary_key: id",
                        "  cursor: updated_at",
                        "mapping:",
                        "  event_type: track",
                        "  event: Order Completed",
                        "  user_id: user_id",
                        "  properties: {amount: '{{ amount }}'}",
                        "destination:",
                        "  type: http",
                        "  url: " + receiver.url(),
                        "  write_key: bench",
                        "  batch_size: 500",
                        "sync:",
                        "  parallelism: 2",
                        ""));
                List<String> command = new ArrayList<>(List.of(java()));
                // JVM flags for Backflow (the launcher hands them on to the JVM that runs the sync).
                for (String flag : a.get("--jvm").trim().split("\\s+")) {
                    if (!flag.isEmpty()) {
                        command.add(flag.replace("{run}", String.valueOf(r)));
                    }
                }
                command.addAll(List.of("-jar", jar.toString(), "sync", "--connection", conn.toString()));
                backflow.add(run(receiver, rows, command));
                System.out.printf(Locale.ROOT, "bench: run %d: loop %.1f s, backflow %.1f s%n", r, loop.get(r - 1).seconds(), backflow.get(r - 1).seconds());
            }
            System.out.println();
            System.out.printf(Locale.ROOT, "%,d rows of about %d bytes; COPY ... TO STDOUT: %,.0f rows/s; %d runs each (min-max)%n%n", rows,
                    rowBytes, copyRate, runs);
            System.out.println("| contender | events/s | ratio to the loop | CPU-s per 1M rows | peak RSS | first event after | share of COPY rate |");
            System.out.println("|---|---|---|---|---|---|---|");
            row("hand-written loop", loop, loop, rows, copyRate);
            row("Backflow (FULL, parallelism 2)", backflow, loop, rows, copyRate);
        }
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static Sample run(Receiver receiver, long rows, List<String> command) throws Exception {
        receiver.reset();
        double cpu0 = ProcessStats.childrenCpuSeconds();
        long start = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long peak = 0;
        while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
            peak = Math.max(peak, ProcessStats.treeRssBytes(p.toHandle()));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue());
        }
        long events = receiver.events.get();
        if (events < rows) {
            throw new IllegalStateException(command.get(1) + " delivered " + events + " of " + rows + " events");
        }
        double first = (receiver.firstEventNanos.get() - start) / 1e9;
        return new Sample(seconds, events, ProcessStats.childrenCpuSeconds() - cpu0, peak, first);
    }

    private static void row(String name, List<Sample> s, List<Sample> loop, long rows, double copyRate) {
        double[] eps = s.stream().mapToDouble(x -> rows / x.seconds()).toArray();
        double loopMean = loop.stream().mapToDouble(x -> rows / x.seconds()).average().orElse(1);
        double[] cpu = s.stream().mapToDouble(x -> x.cpuSeconds() / (rows / 1e6)).toArray();
        double[] rss = s.stream().mapToDouble(x -> x.peakRss() / 1048576.0).toArray();
        double[] first = s.stream().mapToDouble(Sample::firstEvent).toArray();
        System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s MB | %s s | %s |%n", name, range(eps, "%,.0f"),
                range(java.util.Arrays.stream(eps).map(e -> e / loopMean).toArray(), "%.2f"), range(cpu, "%.1f"), range(rss, "%,.0f"),
                range(first, "%.1f"), range(java.util.Arrays.stream(eps).map(e -> e / copyRate).toArray(), "%.2f"));
    }

    private static String range(double[] v, String format) {
        double min = java.util.Arrays.stream(v).min().orElse(0);
        double max = java.util.Arrays.stream(v).max().orElse(0);
        String lo = String.format(Locale.ROOT, format, min);
        String hi = String.format(Locale.ROOT, format, max);
        return lo.equals(hi) ? lo : lo + "-" + hi;
    }
}
