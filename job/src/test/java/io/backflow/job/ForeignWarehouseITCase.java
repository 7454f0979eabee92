package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A warehouse nobody here designed: quoted mixed-case table and column names that the connection
 * file spells in another case, non-ASCII text, columns that are mostly NULL, and a business-date
 * cursor that many rows share, written to between syncs with new rows at the mark and changes
 * made without moving the cursor. Names resolve to the database's spelling by one rule (exact, else
 * the one case-insensitive match) or are refused before any run is written; every row's every
 * version arrives exactly once.
 */
class ForeignWarehouseITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;
    HttpReceiver receiver;
    JdbcEndpoint db;
    /** Where the ledger lives when the source cannot hold it (MariaDB), else null. */
    JdbcEndpoint ledger;

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private void open(String database) {
        switch (database) {
            case "postgresql":
                db = Databases.newPostgresDatabase("foreign");
                break;
            case "mariadb":
                db = Databases.newMariaDbDatabase("foreign");
                ledger = Databases.newPostgresDatabase("foreign_ledger");
                // A schema is a database in MariaDB: one per server, so the previous test's goes first.
                sql("DROP DATABASE IF EXISTS \"Sales\"");
                break;
            default:
                db = Databases.duckDb(dir, "foreign");
        }
        sql("CREATE SCHEMA \"Sales\"" + (mariadb() ? " CHARACTER SET utf8mb4" : ""),
                "CREATE TABLE \"Sales\".\"Invoices\" (\"InvoiceId\" BIGINT PRIMARY KEY, \"CustomerName\" VARCHAR(80), \"Region\" VARCHAR(20),"
                        + " \"Note\" VARCHAR(200), \"Amount\" NUMERIC(12,2), \"InvoiceDate\" DATE)");
    }

    private boolean mariadb() {
        return db.url().startsWith("jdbc:mariadb:");
    }

    /** Runs statements written with standard double-quoted names, in MariaDB's backticks there. */
    private void sql(String... statements) {
        String[] out = statements.clone();
        if (mariadb()) {
            for (int i = 0; i < out.length; i++) {
                out[i] = out[i].replace('"', '`');
            }
        }
        Databases.execute(db, out);
    }

    private Path connection(String table, String key, String cursor, String extraMapping) {
        return BackflowCli.write(dir, "invoices", String.join("\n",
                "source:",
                "  url: " + db.url(),
                db.user() == null ? "" : "  user: " + db.user(),
                "  table: " + table,
                "  primary_key: " + key,
                "  cursor: " + cursor,
                "  page_size: 7",
                "mapping:",
                "  event_type: track",
                "  event: Invoice Sent",
                "  user_id: customername",
                "  properties:",
                "    region: '{{ REGION }}'",
                "    amount: '{{ amount }}'",
                "    day: '{{ invoicedate }}'",
                extraMapping,
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 5",
                ledger == null ? "" : "state:\n  url: " + ledger.url() + "\n  user: " + ledger.user(),
                "sync:",
                "  checkpoint_interval: 200ms",
                ""));
    }

    private static final String[] NAMES = {"Gonçalves", "Ærø-Straße", "李小龍", "Zoë 🚀", "O'Brien", "Nguyễn", "Åsa", "x"};

    /** Inserts invoices {@code from..to} on {@code day} with mostly NULL columns; returns their expected versions. */
    private void insert(int from, int to, String day, Random random, Map<Long, String> expected) {
        StringBuilder values = new StringBuilder();
        for (int id = from; id <= to; id++) {
            String name = NAMES[random.nextInt(NAMES.length)];
            boolean sparse = random.nextInt(4) != 0;
            String region = sparse ? "NULL" : "'eu'";
            String note = sparse ? "NULL" : "'ünïcode ✓ " + id + "'";
            String amount = random.nextInt(3) == 0 ? "NULL" : String.valueOf(id) + ".50";
            values.append(values.length() == 0 ? "" : ", ").append("(").append(id).append(", '").append(name.replace("'", "''")).append("', ")
                    .append(region).append(", ").append(note).append(", ").append(amount).append(", DATE '").append(day).append("')");
            expected.put((long) id, version(name, sparse ? null : "eu", amount.equals("NULL") ? null : id + ".50"));
        }
        sql("INSERT INTO \"Sales\".\"Invoices\" VALUES " + values);
    }

    private static String version(String name, String region, String amount) {
        return name + "|" + region + "|" + (amount == null ? null : Double.parseDouble(amount));
    }

    /** Syncs, and checks every event arrived once, with the content the table has. */
    private void syncAndCheck(Path conn, Map<Long, String> changed, Map<Long, Set<String>> seen) {
        receiver.reset();
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(0, r.exitCode(), r.toString());
        Map<Long, String> got = new HashMap<>();
        for (JsonNode e : receiver.deliveredEvents()) {
            long id = e.get("context").get("backflow").get("primary_key").get("InvoiceId").asLong();
            JsonNode p = e.get("properties");
            String v = version(e.get("userId").asText(), p.get("region").isNull() ? null : p.get("region").asText(),
                    p.get("amount").isNull() ? null : String.valueOf(p.get("amount").asDouble()));
            assertEquals(null, got.put(id, v), "invoice " + id + " arrived twice in one sync");
            assertTrue(seen.computeIfAbsent(id, x -> new HashSet<>()).add(v), "invoice " + id + " version " + v + " was sent before");
        }
        assertEquals(changed, got, r.out());
        JsonNode run = BackflowCli.history(conn).get(0);
        assertEquals("SUCCEEDED", run.get("status").asText(), run.toString());
        assertEquals(run.get("read").asLong(), run.get("succeeded").asLong() + run.get("invalid").asLong());
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb", "mariadb"})
    void namesInAnotherCaseResolveAndEveryVersionArrivesOnce(String database) {
        open(database);
        Random random = new Random(42);
        Map<Long, String> changed = new HashMap<>();
        insert(1, 30, "2024-05-01", random, changed);
        insert(31, 60, "2024-05-02", random, changed);
        // Spelled as a user who never saw the DDL would: every name in another case.
        Path conn = connection("sales.invoices", "invoiceid", "INVOICEDATE", "");
        Map<Long, Set<String>> seen = new HashMap<>();
        syncAndCheck(conn, changed, seen);
        assertEquals("FULL", BackflowCli.history(conn).get(0).get("type").asText());

        for (int round = 0; round < 4; round++) {
            changed = new HashMap<>();
            // More invoices for the mark's day, keys below and above the ones already sent...
            int base = 1000 + round * 100;
            insert(base, base + 4, "2024-05-02", random, changed);
            // ...corrections that keep the date...
            long fixed = 31 + round * 7;
            String name = NAMES[random.nextInt(NAMES.length)];
            sql("UPDATE \"Sales\".\"Invoices\" SET \"CustomerName\" = '" + name.replace("'", "''") + "', \"Amount\" = 7.25,"
                    + " \"Region\" = NULL WHERE \"InvoiceId\" = " + fixed);
            changed.put(fixed, version(name, null, "7.25"));
            // ...and a change to a column the mapping does not send is no change.
            sql("UPDATE \"Sales\".\"Invoices\" SET \"Note\" = 'edited' WHERE \"InvoiceId\" = 45 AND \"InvoiceId\" <> " + fixed);
            syncAndCheck(conn, changed, seen);
            assertEquals("INCREMENTAL", BackflowCli.history(conn).get(0).get("type").asText());
        }
        // A new day moves the mark; nothing earlier is sent again.
        changed = new HashMap<>();
        insert(5000, 5002, "2024-05-03", random, changed);
        syncAndCheck(conn, changed, seen);
        syncAndCheck(conn, Map.of(), seen);
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "duckdb", "mariadb"})
    void aNameThatMatchesNothingOrSeveralIsRefusedBeforeAnyRunIsWritten(String database) {
        open(database);
        boolean pg = database.equals("postgresql");
        // DuckDB's names ignore case, and MariaDB's column names do: only PostgreSQL can hold both spellings.
        Databases.execute(db, !pg ? "SELECT 1" : "CREATE TABLE \"Sales\".\"invoices\" (\"InvoiceId\" BIGINT, \"invoiceid\" BIGINT, \"CustomerName\" VARCHAR(80),"
                + " \"Region\" VARCHAR(20), \"Note\" VARCHAR(200), \"Amount\" NUMERIC(12,2), \"InvoiceDate\" DATE)");
        String[][] cases = {
                {"sales.INVOICES", "InvoiceId", "InvoiceDate", "source.table: 'sales.INVOICES' matches tables \"Invoices\" and \"invoices\", which differ only in case; write the exact name"},
                {"Sales.nowhere", "InvoiceId", "InvoiceDate", "source.table: no table or view 'Sales.nowhere' (in any letter case) in schema Sales"},
                {"Sales.Invoices", "InvoiceId", "due_date", "source.cursor: column 'due_date' is not in Sales.Invoices (it has: InvoiceId, CustomerName, Region, Note, Amount, InvoiceDate)"},
                {"Sales.invoices", "INVOICEID", "InvoiceDate", "source.primary_key: column 'INVOICEID' matches 'InvoiceId' and 'invoiceid' in Sales.invoices, which differ only in case; write the exact name"},
        };
        for (String[] c : cases) {
            if (!pg && c[3].contains("differ only in case")) {
                continue;
            }
            Path conn = connection(c[0], c[1], c[2], "");
            for (String command : new String[] {"sync", "preview"}) {
                BackflowCli.Result r = BackflowCli.run(command, "--connection", conn.toString());
                assertEquals(2, r.exitCode(), r.toString());
                assertTrue(r.err().contains(c[3]), r.err());
                assertEquals(1, r.err().strip().split("\n").length, "one line: " + r.err());
            }
            assertEquals(0, BackflowCli.history(conn).size(), "no run was recorded");
        }
    }
}
