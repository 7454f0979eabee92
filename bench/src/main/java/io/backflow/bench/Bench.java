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
 * <p>{@code java -jar bench/target/backflow-bench.jar [--rows 1000000] [--runs 3] [--jar job/target/backflow.jar] [--jvm "-Xmx1g"]
 * [--compare other/backflow.jar] [--latency-ms 0] [--batch 500] [--in-flight 4] [--log-dir DIR] [--incremental N]}: {@code --log-dir} keeps each
 * process's output in a file there; {@code --compare} adds a second build of
 * Backflow to every run, for before/after; {@code --latency-ms} makes the receiver answer that much later, and the table then
 * also shows the bound parallelism x in-flight x batch / latency that Backflow's rate is held to. {@code --incremental N}
 * measures INCREMENTAL syncs of N changed rows instead ({@link IncrementalBench}).
 */
public final class Bench {
    /**
     * {@code delivering}: seconds from the first event's arrival to the last's; {@code machineBusy}:
     * CPU seconds the whole machine was busy during the run (the contender, PostgreSQL, the
     * receiver, anything else); {@code cpuToFirst} and {@code machineBusyToFirst}: the
     * contender's CPU seconds until the first event arrived and the machine's busy cores per second of that time (sampled within 20 ms
     * after it).
     */
    record Sample(double seconds, long events, double cpuSeconds, long peakRss, double firstEvent, double delivering, double machineBusy,
            double cpuToFirst, double machineBusyToFirst) {}

    /** Where each process's output goes (one file per process), or null to discard it. */
    private static Path logDir;
    private static int processes;

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("--rows", "1000000", "--runs", "3", "--jar", "job/target/backflow.jar", "--jvm", "",
                "--compare", "", "--latency-ms", "0", "--batch", "500", "--in-flight", "4", "--log-dir", ""));
        a.put("--incremental", "0");
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i], args[i + 1]);
        }
        logDir = a.get("--log-dir").isEmpty() ? null : Files.createDirectories(Path.of(a.get("--log-dir")));
        if (Long.parseLong(a.get("--incremental").replace("_", "")) > 0) {
            IncrementalBench.run(a);
            return;
        }
        long rows = Long.parseLong(a.get("--rows").replace("_", ""));
        int runs = Integer.parseInt(a.get("--runs"));
        Path jar = Path.of(a.get("--jar")).toAbsolutePath();
        Path compare = a.get("--compare").isEmpty() ? null : Path.of(a.get("--compare")).toAbsolutePath();
        for (Path j : compare == null ? List.of(jar) : List.of(jar, compare)) {
            if (!Files.exists(j)) {
                System.err.println("bench: " + j + " not found; build it first: mvn -B -q -DskipTests package");
                System.exit(2);
            }
        }
        String self = new File(Bench.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath();
        Path work = Files.createTempDirectory("backflow-bench");
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start(); Receiver receiver = new Receiver(Long.parseLong(a.get("--latency-ms")))) {
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
            // One untimed run of each build first: the launcher's first sync lists the classes it
            // loads and a background JVM dumps them into a class-data archive that later runs map
            // (README, "Start-up"); the timed runs are the ones a user has from then on.
            for (Path j : compare == null ? List.of(jar) : List.of(jar, compare)) {
                Path warm = work.resolve("warmup-" + Integer.toHexString(j.hashCode()) + ".yaml");
                Files.writeString(warm, connectionYaml(url, "orders", receiver.url(), a));
                System.out.println("bench: warm-up run of " + j);
                run(receiver, rows, backflowCommand(j, warm, a.get("--jvm"), 0));
                awaitArchive(j.getParent());
            }
            List<Sample> loop = new ArrayList<>();
            List<Sample> backflow = new ArrayList<>();
            List<Sample> compared = new ArrayList<>();
            for (int r = 1; r <= runs; r++) {
                loop.add(run(receiver, rows, List.of(java(), "-cp", self, HandWrittenLoop.class.getName(), url, "postgres", receiver.url())));
                Path conn = work.resolve("bench" + r + ".yaml");
                Files.writeString(conn, connectionYaml(url, "orders", receiver.url(), a));
                backflow.add(run(receiver, rows, backflowCommand(jar, conn, a.get("--jvm"), r)));
                if (compare != null) {
                    // Its own connection name: each build keeps its own ledger rows and runs FULL.
                    Path other = work.resolve("compare" + r + ".yaml");
                    Files.writeString(other, Files.readString(conn));
                    compared.add(run(receiver, rows, backflowCommand(compare, other, a.get("--jvm"), r)));
                }
                System.out.printf(Locale.ROOT, "bench: run %d: loop %.1f s, backflow %.1f s%s%n", r, loop.get(r - 1).seconds(),
                        backflow.get(r - 1).seconds(), compare == null ? "" : String.format(Locale.ROOT, ", compared %.1f s", compared.get(r - 1).seconds()));
            }
            // Stop at full speed: SIGTERM (as a scheduler sends it) once a third of the rows are in,
            // then the time until the process has written its savepoint and exited.
            double[] stopSeconds = new double[runs];
            for (int r = 1; r <= runs; r++) {
                Path conn = work.resolve("stop" + r + ".yaml");
                Files.writeString(conn, connectionYaml(url, "orders", receiver.url(), a) + "  savepoint_dir: " + work.resolve("savepoints").toUri() + "\n");
                stopSeconds[r - 1] = stopAfter(receiver, rows / 3, backflowCommand(jar, conn, a.get("--jvm"), r));
            }
            System.out.println();
            System.out.printf(Locale.ROOT, "%,d rows of about %d bytes; COPY ... TO STDOUT: %,.0f rows/s; %d runs each (min-max)%n%n", rows,
                    rowBytes, copyRate, runs);
            System.out.println("| contender | events/s | ratio to the loop | CPU-s per 1M rows | peak RSS | first event after | share of COPY rate |");
            System.out.println("|---|---|---|---|---|---|---|");
            row("hand-written loop", loop, loop, rows, copyRate);
            row("Backflow (FULL, parallelism 2)", backflow, loop, rows, copyRate);
            if (compare != null) {
                row("Backflow " + compare, compared, loop, rows, copyRate);
            }
            int cores = Runtime.getRuntime().availableProcessors();
            System.out.printf(Locale.ROOT, "%nThe machine (%d cores) during the same runs; \"everything else\" is the machine's busy time less the"
                    + " contender's: PostgreSQL, the receiver and whatever else ran:%n%n", cores);
            System.out.println("| contender | machine busy | everything else, CPU-s per 1M rows | until the first event: contender's CPU-s | machine busy |");
            System.out.println("|---|---|---|---|---|");
            machineRow("hand-written loop", loop, rows, cores);
            machineRow("Backflow (FULL, parallelism 2)", backflow, rows, cores);
            if (compare != null) {
                machineRow("Backflow " + compare, compared, rows, cores);
            }
            System.out.printf(Locale.ROOT, "%nstop at full speed (SIGTERM after %,d events) until the savepoint is written and the process exited: %s s%n",
                    rows / 3, range(stopSeconds, "%.1f"));
            long latency = Long.parseLong(a.get("--latency-ms"));
            if (latency > 0) {
                double bound = 2.0 * Integer.parseInt(a.get("--in-flight")) * Integer.parseInt(a.get("--batch")) / (latency / 1000.0);
                double[] share = backflow.stream().mapToDouble(x -> x.events() / x.delivering() / bound).toArray();
                System.out.printf(Locale.ROOT, "%nlatency %d ms: bound 2 subtasks x %s in flight x %s events / latency = %,.0f events/s;"
                        + " Backflow reached %s of it (from its first event to its last)%n", latency, a.get("--in-flight"), a.get("--batch"), bound,
                        range(share, "%.2f"));
            }

        }
    }

    static String connectionYaml(String url, String table, String receiverUrl, Map<String, String> a) {
        return String.join("\n",
                "source:",
                "  url: " + url,
                "  user: postgres",
                "  table: " + table,
                "  primary_key: id",
                "  cursor: updated_at",
                "mapping:",
                "  event_type: track",
                "  event: Order Completed",
                "  user_id: user_id",
                "  properties: {amount: '{{ amount }}'}",
                "destination:",
                "  type: http",
                "  url: " + receiverUrl,
                "  write_key: bench",
                "  batch_size: " + a.get("--batch"),
                "  max_in_flight: " + a.get("--in-flight"),
                "sync:",
                "  parallelism: 2",
                "");
    }

    /** Waits (at most two minutes) while the launcher's background class-data dump is under way next to the jar. */
    static void awaitArchive(Path dir) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            try (java.util.stream.Stream<Path> files = Files.list(dir)) {
                if (files.noneMatch(f -> f.getFileName().toString().matches("backflow-.*\\.jsa\\.(classlist|partial)-.*"))) {
                    return;
                }
            }
            Thread.sleep(200);
        }
    }

    static List<String> backflowCommand(Path jar, Path conn, String jvmFlags, int run) {
        List<String> command = new ArrayList<>(List.of(java()));
        // JVM flags for Backflow (the launcher hands them on to the JVM that runs the sync).
        for (String flag : jvmFlags.trim().split("\\s+")) {
            if (!flag.isEmpty()) {
                command.add(flag.replace("{run}", String.valueOf(run)));
            }
        }
        command.addAll(List.of("-jar", jar.toString(), "sync", "--connection", conn.toString()));
        return command;
    }

    static String java() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    static Sample run(Receiver receiver, long rows, List<String> command) throws Exception {
        receiver.reset();
        double cpu0 = ProcessStats.childrenCpuSeconds();
        double machine0 = ProcessStats.machineCpuSeconds()[0];
        long start = System.nanoTime();
        Process p = start(command);
        long peak = 0;
        double cpuToFirst = Double.NaN;
        double machineToFirst = Double.NaN;
        while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
            peak = Math.max(peak, ProcessStats.treeRssBytes(p.toHandle()));
            if (Double.isNaN(cpuToFirst) && receiver.firstEventNanos.get() != 0) {
                cpuToFirst = ProcessStats.treeCpuSeconds(p.toHandle());
                // Busy share of the cores from the start until this sample (not the first event's exact instant).
                machineToFirst = (ProcessStats.machineCpuSeconds()[0] - machine0) / ((System.nanoTime() - start) / 1e9);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double machineBusy = ProcessStats.machineCpuSeconds()[0] - machine0;
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue());
        }
        long events = receiver.events.get();
        if (events < rows) {
            throw new IllegalStateException(command.get(1) + " delivered " + events + " of " + rows + " events");
        }
        double first = (receiver.firstEventNanos.get() - start) / 1e9;
        double delivering = (receiver.lastEventNanos.get() - receiver.firstEventNanos.get()) / 1e9;
        return new Sample(seconds, events, ProcessStats.childrenCpuSeconds() - cpu0, peak, first, delivering, machineBusy, cpuToFirst,
                machineToFirst);
    }

    /** Starts {@code command}, sends it SIGTERM once {@code events} have arrived, and returns the seconds until it exited stopped. */
    private static double stopAfter(Receiver receiver, long events, List<String> command) throws Exception {
        receiver.reset();
        Process p = start(command);
        while (receiver.events.get() < events && p.isAlive()) {
            Thread.sleep(5);
        }
        long signalled = System.nanoTime();
        p.destroy();
        int exit = p.waitFor();
        double seconds = (System.nanoTime() - signalled) / 1e9;
        if (exit != 3) {
            throw new IllegalStateException(String.join(" ", command) + " exited with " + exit + " after SIGTERM, not 3 (stopped with a savepoint)");
        }
        return seconds;
    }

    private static Process start(List<String> command) throws java.io.IOException {
        ProcessBuilder.Redirect out = logDir == null ? ProcessBuilder.Redirect.DISCARD
                : ProcessBuilder.Redirect.to(logDir.resolve(String.format(Locale.ROOT, "%02d-%s.log", ++processes,
                        command.contains("-jar") ? "backflow" : "loop")).toFile());
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out).start();
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

    private static void machineRow(String name, List<Sample> s, long rows, int cores) {
        double[] busy = s.stream().mapToDouble(x -> 100 * x.machineBusy() / (cores * x.seconds())).toArray();
        double[] others = s.stream().mapToDouble(x -> (x.machineBusy() - x.cpuSeconds()) / (rows / 1e6)).toArray();
        double[] cpuToFirst = s.stream().mapToDouble(Sample::cpuToFirst).toArray();
        double[] busyToFirst = s.stream().mapToDouble(x -> 100 * x.machineBusyToFirst() / cores).toArray();
        System.out.printf(Locale.ROOT, "| %s | %s%% | %s | %s | %s%% |%n", name, range(busy, "%.0f"), range(others, "%.1f"), range(cpuToFirst, "%.2f"),
                range(busyToFirst, "%.0f"));
    }

    static String range(double[] v, String format) {
        double min = java.util.Arrays.stream(v).min().orElse(0);
        double max = java.util.Arrays.stream(v).max().orElse(0);
        String lo = String.format(Locale.ROOT, format, min);
        String hi = String.format(Locale.ROOT, format, max);
        return lo.equals(hi) ? lo : lo + "-" + hi;
    }
}
