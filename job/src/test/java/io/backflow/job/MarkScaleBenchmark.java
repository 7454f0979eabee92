package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What it costs when {@code backflow.bench.rows} rows (default 1,000,000) share the committed
 * high-water mark, measured, not asserted: the FULL sync that records every one of them as resolved
 * at the mark, then an INCREMENTAL sync that reads them all again to find 10 new ones, with the
 * peak heap of each step. Run with
 * {@code mvn -pl job verify -Dtest=MarkScaleBenchmark -Dbackflow.bench=true}.
 */
@EnabledIfSystemProperty(named = "backflow.bench", matches = "true")
class MarkScaleBenchmark {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb"})
    void rowsSharingTheMark(String database) throws Exception {
        int rows = Integer.getInteger("backflow.bench.rows", 1_000_000);
        JdbcEndpoint db = database.equals("postgresql") ? Databases.newPostgresDatabase("markbench") : Databases.duckDb(dir, "markbench");
        String series = database.equals("postgresql") ? "generate_series(1, " + rows + ") g(i)" : "range(1, " + (rows + 1) + ") g(i)";
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i * 2, 'u' || (i % 1000), i % 500, TIMESTAMP '2024-06-01 00:00:00'"
                        // For comparison: every row with its own cursor value, so only one is at the mark.
                        + (Boolean.getBoolean("backflow.bench.distinct") ? " - i * INTERVAL '1 second'" : "") + " FROM " + series);
        AtomicLong events = new AtomicLong();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                events.addAndGet(count(new String(in.readAllBytes(), StandardCharsets.UTF_8), "\"messageId\""));
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
        try {
            Path conn = BackflowCli.write(dir, "bench", String.join("\n",
                    BackflowCli.ordersSource(db),
                    "destination:",
                    "  type: webhook",
                    "  url: http://127.0.0.1:" + server.getAddress().getPort() + "/hook",
                    "sync:",
                    "  parallelism: 2",
                    ""));
            step(database, rows, "FULL, every row at the mark", conn, events, rows);
            Databases.execute(db, "INSERT INTO orders SELECT i * 2 + 1, 'n', 1, TIMESTAMP '2024-06-01 00:00:00' FROM "
                    + (database.equals("postgresql") ? "generate_series(1, 10) g(i)" : "range(1, 11) g(i)"));
            step(database, rows, "INCREMENTAL, 10 new rows at the mark", conn, events, 10);
            step(database, rows, "INCREMENTAL, nothing new", conn, events, 0);
        } finally {
            server.stop(0);
        }
    }

    private static void step(String database, int rows, String what, Path conn, AtomicLong events, long expected) {
        events.set(0);
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            pool.resetPeakUsage();
        }
        long t0 = System.nanoTime();
        BackflowCli.Result r = BackflowCli.sync(conn);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(expected, events.get(), r.toString());
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.out.printf("MarkScaleBenchmark %-10s %,d rows at the mark  %-40s %7d ms  peak heap %5d MB%n", database, rows, what, ms,
                peak / (1024 * 1024));
    }

    private static long count(String s, String needle) {
        long n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length())) {
            n++;
        }
        return n;
    }
}
