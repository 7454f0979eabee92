package io.backflow.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
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

/**
 * What an INCREMENTAL sync of the same delta costs as the table grows: for each size of
 * {@code --rows} (a comma-separated list), a table of that many orders with an index on
 * {@code (updated_at, id)}, one untimed FULL sync, then {@code --runs} times an update of
 * {@code --incremental} rows spread over the whole table and a timed INCREMENTAL sync of
 * exactly those rows. One table: wall seconds, CPU-seconds, peak RSS and time to first event
 * per size, and each size's mean wall time as a multiple of the smallest size's.
 *
 * <p>{@code --cursor-index false} leaves the index out, to show what a cursor without one costs.
 */
final class IncrementalBench {
    private IncrementalBench() {}

    static void run(Map<String, String> a) throws Exception {
        long delta = Long.parseLong(a.get("--incremental").replace("_", ""));
        int runs = Integer.parseInt(a.get("--runs"));
        boolean index = !"false".equals(a.getOrDefault("--cursor-index", "true"));
        Path jar = Path.of(a.get("--jar")).toAbsolutePath();
        if (!Files.exists(jar)) {
            System.err.println("bench: " + jar + " not found; build it first: mvn -B -q -DskipTests package");
            System.exit(2);
        }
        List<Long> sizes = new ArrayList<>();
        for (String s : a.get("--rows").split(",")) {
            long n = Long.parseLong(s.trim().replace("_", ""));
            if (n < delta) {
                System.err.println("bench: --rows " + n + " is smaller than --incremental " + delta);
                System.exit(2);
            }
            sizes.add(n);
        }
        Path work = Files.createTempDirectory("backflow-bench-incremental");
        Map<Long, List<Bench.Sample>> samples = new LinkedHashMap<>();
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start(); Receiver receiver = new Receiver(0)) {
            String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
            try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
                for (long rows : sizes) {
                    String table = "orders_" + rows;
                    System.out.printf(Locale.ROOT, "bench: creating %,d rows in %s%s...%n", rows, table, index ? " with an index on (updated_at, id)" : "");
                    try (Statement s = c.createStatement()) {
                        s.execute("CREATE TABLE " + table + " (id BIGINT PRIMARY KEY, user_id TEXT NOT NULL, amount NUMERIC(10,2) NOT NULL,"
                                + " updated_at TIMESTAMP NOT NULL)");
                        s.execute("INSERT INTO " + table + " SELECT i, 'user-' || (i % 100000), (i % 100000) / 100.0,"
                                + " TIMESTAMP '2024-01-01' + i * INTERVAL '1 millisecond' FROM generate_series(1, " + rows + ") i");
                        if (index) {
                            s.execute("CREATE INDEX " + table + "_cursor ON " + table + " (updated_at, id)");
                        }
                        s.execute("ANALYZE " + table);
                    }
                    Path conn = work.resolve(table + ".yaml");
                    Files.writeString(conn, Bench.connectionYaml(url, table, receiver.url(), a));
                    // The connection's first sync is FULL: untimed, it gives the ledger a committed position.
                    System.out.printf(Locale.ROOT, "bench: FULL sync of %s (untimed)%n", table);
                    Bench.run(receiver, rows, Bench.backflowCommand(jar, conn, a.get("--jvm"), 0));
                    Bench.awaitArchive(jar.getParent());
                    List<Bench.Sample> s = new ArrayList<>();
                    long step = rows / delta;
                    for (int r = 1; r <= runs; r++) {
                        try (Statement st = c.createStatement()) {
                            // Spread over the whole key range, so no split or page is cheaper than another;
                            // a second in the past, so the database clock has passed it when the sync plans.
                            int changed = st.executeUpdate("UPDATE " + table + " SET updated_at = LOCALTIMESTAMP - INTERVAL '1 second'"
                                    + " WHERE id % " + step + " = " + (r % step) + " AND id <= " + (step * delta));
                            if (changed != delta) {
                                throw new IllegalStateException("updated " + changed + " rows of " + table + ", not " + delta);
                            }
                        }
                        Thread.sleep(1_100);
                        Bench.Sample sample = Bench.run(receiver, delta, Bench.backflowCommand(jar, conn, a.get("--jvm"), r));
                        if (sample.events() != delta) {
                            throw new IllegalStateException("the INCREMENTAL sync of " + table + " delivered " + sample.events() + " events, not " + delta);
                        }
                        System.out.printf(Locale.ROOT, "bench: %s run %d: %.1f s%n", table, r, sample.seconds());
                        s.add(sample);
                    }
                    samples.put(rows, s);
                    try (Statement st = c.createStatement()) {
                        st.execute("DROP TABLE " + table);
                    }
                }
            }
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "INCREMENTAL sync of %,d changed rows (spread over the table), %s, %d runs each (min-max)%n%n", delta,
                index ? "index on (updated_at, id)" : "no index on the cursor", runs);
        System.out.println("| table rows | wall s | CPU-s | peak RSS | first event after | mean wall / smallest table's |");
        System.out.println("|---|---|---|---|---|---|");
        double base = mean(samples.get(sizes.get(0)));
        for (Map.Entry<Long, List<Bench.Sample>> e : samples.entrySet()) {
            List<Bench.Sample> s = e.getValue();
            System.out.printf(Locale.ROOT, "| %,d | %s | %s | %s MB | %s s | %.2f |%n", e.getKey(),
                    Bench.range(s.stream().mapToDouble(Bench.Sample::seconds).toArray(), "%.2f"),
                    Bench.range(s.stream().mapToDouble(Bench.Sample::cpuSeconds).toArray(), "%.1f"),
                    Bench.range(s.stream().mapToDouble(x -> x.peakRss() / 1048576.0).toArray(), "%,.0f"),
                    Bench.range(s.stream().mapToDouble(Bench.Sample::firstEvent).toArray(), "%.2f"),
                    mean(s) / base);
        }
    }

    private static double mean(List<Bench.Sample> s) {
        return s.stream().mapToDouble(Bench.Sample::seconds).average().orElse(1);
    }
}
