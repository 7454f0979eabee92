package io.backflow.job.demo;

import io.backflow.job.cli.HistoryCommand;
import io.backflow.job.cli.SyncCommand;
import io.backflow.job.config.ConfigLoader;
import io.backflow.job.config.ConnectionConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import io.backflow.jdbc.JdbcEndpoint;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/**
 * {@code demo}: a complete reverse-ETL round trip on embedded parts only. Seeds a DuckDB
 * warehouse with users and orders, starts a local receiver that writes what it gets to a file,
 * runs a FULL sync of both connections, adds and changes rows, and runs an INCREMENTAL sync that
 * delivers only those.
 */
public final class DemoCommand {
    private DemoCommand() {}

    public static int run(Path dir, PrintStream out) {
        try {
            Files.createDirectories(dir);
            Path warehouse = dir.resolve("warehouse.duckdb").toAbsolutePath();
            Files.deleteIfExists(warehouse);
            Files.deleteIfExists(dir.resolve("warehouse.duckdb.wal"));
            Path received = dir.resolve("received.jsonl").toAbsolutePath();
            Files.deleteIfExists(received);
            String url = "jdbc:duckdb:" + warehouse;
            seed(url);
            out.println("Demo warehouse: " + warehouse + " (1000 users, 5000 orders)");

            try (FileReceiver receiver = FileReceiver.start(received)) {
                Map<String, String> env = Map.of("BACKFLOW_DEMO_WAREHOUSE", url, "BACKFLOW_DEMO_RECEIVER", receiver.url());
                ConfigLoader loader = new ConfigLoader(name -> env.getOrDefault(name, System.getenv(name)));
                ConnectionConfig users = loader.load(config(dir, "demo-users.yaml"));
                ConnectionConfig orders = loader.load(config(dir, "demo.yaml"));
                out.println("Destination: a local receiver at " + receiver.url() + " writing to " + received);

                out.println("\n== 1. First syncs: FULL, every row ==");
                int code = SyncCommand.run(users, false, out) | SyncCommand.run(orders, false, out);
                out.println("Receiver has " + receiver.events() + " events.");

                out.println("\n== 2. New orders and a changed user in the warehouse ==");
                change(url);
                out.println("Inserted 25 orders, updated 3 users.");

                out.println("\n== 3. Next syncs: INCREMENTAL, only what changed ==");
                long before = receiver.events();
                code |= SyncCommand.run(users, false, out) | SyncCommand.run(orders, false, out);
                out.println("Receiver got " + (receiver.events() - before) + " more events (expected 28).");

                out.println("\n== History of " + orders.name() + " ==");
                HistoryCommand.run(orders, false, 10, out);
                out.println("\nWhere to look:");
                out.println("  events received:  " + received);
                out.println("  warehouse+ledger: " + warehouse + " (tables users, orders; ledger in schema backflow)");
                boolean defaultDir = warehouse.equals(Path.of("demo-output", "warehouse.duckdb").toAbsolutePath());
                out.println("  try:              " + (defaultDir ? "" : "BACKFLOW_DEMO_WAREHOUSE=" + url + " ")
                        + "java -jar job/target/backflow.jar preview --connection conf/demo.yaml");
                out.println("                    java -jar job/target/backflow.jar history --connection conf/demo.yaml");
                return code == 0 ? 0 : 1;
            }
        } catch (IOException | SQLException e) {
            out.println("demo failed: " + e.getMessage());
            return 1;
        }
    }

    /** {@code receive}: runs a {@link FileReceiver} until the process is stopped. */
    public static int receive(Path file, String host, int port, PrintStream out) {
        try {
            FileReceiver receiver = FileReceiver.start(file, host, port);
            out.println("Receiving on " + host + ":" + port + " (POST a JSON array, or {\"batch\": [...]} to /v1/batch); appending to " + file);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    receiver.close();
                } catch (IOException ignored) {
                    // Shutting down; nothing left to tell anyone.
                }
            }));
            new java.util.concurrent.CountDownLatch(1).await();
            return 0;
        } catch (IOException e) {
            out.println("receive: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** The connection file from conf/ when run from a checkout, else the copy inside the jar. */
    private static Path config(Path dir, String name) throws IOException {
        Path local = Path.of("conf", name);
        if (Files.isRegularFile(local)) {
            return local;
        }
        Path copy = dir.resolve(name);
        try (InputStream in = DemoCommand.class.getResourceAsStream("/conf/" + name)) {
            if (in == null) {
                throw new IOException("conf/" + name + " is neither in the working directory nor in the jar");
            }
            Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
        }
        return copy;
    }

    private static void seed(String url) throws SQLException {
        try (Connection c = new JdbcEndpoint(url, null, null).open(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE users AS SELECT i AS id, 'user' || i || '@example.com' AS email,"
                    + " CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END AS plan, 'City ' || (i % 17) AS city,"
                    + " TIMESTAMP '2024-01-01 00:00:00' + to_minutes(i) AS updated_at FROM range(1, 1001) t(i)");
            st.execute("CREATE TABLE orders AS SELECT i AS id, 1 + (i * 7) % 1000 AS user_id,"
                    + " round(5 + (i * 37) % 500 + (i % 100) / 100.0, 2)::DECIMAL(10,2) AS amount, 'EUR' AS currency,"
                    + " '{\"sku\": \"SKU-' || (i % 50) || '\", \"qty\": ' || (1 + i % 3) || '}' AS item_json,"
                    + " TIMESTAMP '2024-01-01 00:00:00' + to_minutes(i) AS created_at,"
                    + " TIMESTAMP '2024-01-01 00:00:00' + to_minutes(i) AS updated_at FROM range(1, 5001) t(i)");
        }
    }

    private static void change(String url) throws SQLException {
        try (Connection c = new JdbcEndpoint(url, null, null).open(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO orders SELECT i, 1 + i % 1000, 42.00, 'EUR', '{\"sku\": \"SKU-NEW\", \"qty\": 1}',"
                    + " TIMESTAMP '2024-06-01 00:00:00' + to_minutes(i), TIMESTAMP '2024-06-01 00:00:00' + to_minutes(i) FROM range(5001, 5026) t(i)");
            st.execute("UPDATE users SET plan = 'enterprise', updated_at = TIMESTAMP '2024-06-01 12:00:00' WHERE id IN (7, 77, 777)");
        }
    }
}
