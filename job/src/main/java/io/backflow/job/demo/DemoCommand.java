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
 * runs a FULL sync of its three connections, adds, changes and deletes rows, and runs the next
 * syncs, which deliver only those: INCREMENTAL for the two with a cursor, a DIFF for the accounts.
 */
public final class DemoCommand {
    private DemoCommand() {}

    public static int run(Path dir, PrintStream out) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new io.backflow.job.BadInputException("demo: cannot use " + dir + " as its directory: " + e.getClass().getSimpleName()
                    .replace("Exception", "").replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(java.util.Locale.ROOT) + " " + e.getMessage());
        }
        try {
            Path warehouse = dir.resolve("warehouse.duckdb").toAbsolutePath();
            Files.deleteIfExists(warehouse);
            Files.deleteIfExists(dir.resolve("warehouse.duckdb.wal"));
            Path received = dir.resolve("received.jsonl").toAbsolutePath();
            Files.deleteIfExists(received);
            String url = "jdbc:duckdb:" + warehouse;
            seed(url);
            out.println("Demo warehouse: " + warehouse + " (1000 users, 5000 orders, 500 accounts)");

            try (FileReceiver receiver = FileReceiver.start(received)) {
                Map<String, String> env = Map.of("BACKFLOW_DEMO_WAREHOUSE", url, "BACKFLOW_DEMO_RECEIVER", receiver.url());
                ConfigLoader loader = new ConfigLoader(name -> env.getOrDefault(name, System.getenv(name)));
                ConnectionConfig users = loader.load(config(dir, "demo-users.yaml"));
                ConnectionConfig orders = loader.load(config(dir, "demo.yaml"));
                ConnectionConfig accounts = loader.load(config(dir, "demo-accounts.yaml"));
                out.println("Destination: a local receiver at " + receiver.url() + " writing to " + received);

                out.println("\n== 1. First syncs: FULL, every row ==");
                int code = SyncCommand.run(users, false, out) | SyncCommand.run(orders, false, out) | SyncCommand.run(accounts, false, out);
                out.println("Receiver has " + receiver.events() + " events.");

                out.println("\n== 2. New orders, changed users, and accounts added, changed and removed ==");
                change(url);
                out.println("Inserted 25 orders, updated 3 users; inserted 3 accounts, changed 4, deleted 2.");

                out.println("\n== 3. Next syncs: only what changed (INCREMENTAL by cursor, DIFF against the last delivered snapshot) ==");
                long before = receiver.events();
                code |= SyncCommand.run(users, false, out) | SyncCommand.run(orders, false, out);
                out.println("Receiver got " + (receiver.events() - before) + " more events (expected 28).");
                before = receiver.events();
                code |= SyncCommand.run(accounts, false, out);
                out.println("Receiver got " + (receiver.events() - before) + " record events from the diff (expected 9: 3 inserts, 4 updates, 2 deletes).");

                out.println("\n== History of " + orders.name() + " ==");
                HistoryCommand.run(orders, false, 10, out);
                out.println("\nWhere to look:");
                out.println("  events received:  " + received);
                out.println("  warehouse+ledger: " + warehouse + " (tables users, orders, accounts; ledger in schema backflow)");
                boolean defaultDir = warehouse.equals(Path.of("demo-output", "warehouse.duckdb").toAbsolutePath());
                out.println("  try:              " + (defaultDir ? "" : "BACKFLOW_DEMO_WAREHOUSE=" + url + " ")
                        + "java -jar job/target/backflow.jar preview --connection conf/demo.yaml");
                out.println("                    " + (defaultDir ? "" : "BACKFLOW_DEMO_WAREHOUSE=" + url + " ")
                        + "java -jar job/target/backflow.jar history --connection conf/demo.yaml");
                String diffRun;
                try (io.backflow.ledger.Ledger ledger = new io.backflow.ledger.LedgerStore(accounts.state().endpoint(),
                        accounts.state().schema()).open()) {
                    diffRun = ledger.runs(accounts.name(), 1).get(0).id();
                }
                out.println("                    " + (defaultDir ? "" : "BACKFLOW_DEMO_WAREHOUSE=" + url + " ")
                        + "java -jar job/target/backflow.jar history --connection conf/demo-accounts.yaml --run " + diffRun + "   (the diff's row log)");
                return code == 0 ? 0 : 1;
            }
        } catch (IOException | SQLException e) {
            throw new io.backflow.job.SyncFailedException("demo failed: " + e.getMessage(), e);
        }
    }

    /** {@code receive}: runs a {@link FileReceiver} until the process is stopped. */
    public static int receive(Path file, String host, int port, PrintStream out) {
        FileReceiver receiver;
        try {
            receiver = FileReceiver.start(file, host, port);
        } catch (java.net.BindException e) {
            throw new io.backflow.job.BadInputException("receive: cannot listen on " + host + ":" + port + ": " + e.getMessage());
        } catch (IOException e) {
            throw new io.backflow.job.BadInputException("receive: cannot write " + file + ": " + e.getMessage());
        }
        try {
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
            st.execute("CREATE TABLE accounts AS SELECT i AS id, 'Account ' || i AS name, CASE WHEN i % 4 = 0 THEN 'team' ELSE 'starter' END AS plan,"
                    + " 1 + i % 20 AS seats FROM range(1, 501) t(i)");
        }
    }

    private static void change(String url) throws SQLException {
        try (Connection c = new JdbcEndpoint(url, null, null).open(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO orders SELECT i, 1 + i % 1000, 42.00, 'EUR', '{\"sku\": \"SKU-NEW\", \"qty\": 1}',"
                    + " TIMESTAMP '2024-06-01 00:00:00' + to_minutes(i), TIMESTAMP '2024-06-01 00:00:00' + to_minutes(i) FROM range(5001, 5026) t(i)");
            st.execute("UPDATE users SET plan = 'enterprise', updated_at = TIMESTAMP '2024-06-01 12:00:00' WHERE id IN (7, 77, 777)");
            st.execute("INSERT INTO accounts SELECT i, 'Account ' || i, 'starter', 1 FROM range(501, 504) t(i)");
            st.execute("UPDATE accounts SET plan = 'enterprise' WHERE id IN (10, 20, 30, 40)");
            st.execute("DELETE FROM accounts WHERE id IN (5, 6)");
        }
    }
}
