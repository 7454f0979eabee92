package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every mistake a user can make on the command line gets one line on stderr that starts with
 * {@code backflow:}, names what is wrong, and exits 2; never a stack trace.
 */
class CliErrorsITCase {
    @TempDir Path dir;

    private static void badInput(BackflowCli.Result r, String expected) {
        assertEquals(2, r.exitCode(), r.toString());
        String err = r.err().strip();
        assertTrue(err.startsWith("backflow"), err);
        assertTrue(err.contains(expected), "expected '" + expected + "' in: " + err);
        assertFalse(err.contains("\tat ") || err.contains("Exception"), "no stack trace or exception names: " + err);
        assertEquals(1, err.split("\n").length, "one line: " + err);
    }

    private Path connection(String sourceUrl, String extra) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, String.join("\n",
                "source:",
                "  url: " + sourceUrl,
                "  user: postgres",
                "  password: wrong-secret",
                "  table: orders",
                "  primary_key: id",
                "  cursor: updated_at",
                "mapping: {event_type: track, event: E, user_id: u}",
                "destination: {type: webhook, url: 'http://localhost:1/x'}",
                extra,
                ""));
        return f;
    }

    private Path duckConnection() throws Exception {
        JdbcEndpoint db = Databases.duckDb(dir, "w");
        Databases.execute(db, "CREATE TABLE orders (id BIGINT PRIMARY KEY, u VARCHAR, updated_at TIMESTAMP)");
        Path f = dir.resolve("duck.yaml");
        Files.writeString(f, String.join("\n",
                "source: {url: '" + db.url() + "', table: orders, primary_key: id, cursor: updated_at}",
                "mapping: {event_type: track, event: E, user_id: u}",
                "destination: {type: webhook, url: 'http://localhost:1/x'}",
                ""));
        return f;
    }

    @Test
    void aDatabaseThatIsNotThereOrRefusesThePasswordIsNamed() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        BackflowCli.Result down = BackflowCli.sync(connection("jdbc:postgresql://127.0.0.1:" + closed + "/wh", ""));
        badInput(down, "source.table: cannot be read from jdbc:postgresql://127.0.0.1:" + closed + "/wh");
        Databases.postgres();
        BackflowCli.Result password = BackflowCli.run("preview", "--connection",
                connection(Databases.postgresEndpoint("postgres").url().replace("localhost", "127.0.0.1"), "").toString());
        assertTrue(password.exitCode() == 2, password.toString());
        assertFalse(password.err().contains("wrong-secret"), password.err());
    }

    @Test
    void aLedgerThatCannotBeOpenedIsNamedByItsField() throws Exception {
        Path duck = duckConnection();
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Path conn = dir.resolve("ledger.yaml");
        Files.writeString(conn, Files.readString(duck) + "state: {url: 'jdbc:postgresql://127.0.0.1:" + closed + "/state'}\n");
        badInput(BackflowCli.sync(conn), "state.url: cannot open the ledger at jdbc:postgresql://127.0.0.1:" + closed + "/state");
        badInput(BackflowCli.run("history", "--connection", conn.toString()), "state.url: cannot open the ledger");
    }

    @Test
    void aModelThatIsNotSqlIsNamed() throws Exception {
        Path duck = duckConnection();
        Path conn = dir.resolve("sql.yaml");
        Files.writeString(conn, Files.readString(duck).replace("table: orders", "sql: 'SELEKT * FROM orders'"));
        badInput(BackflowCli.run("preview", "--connection", conn.toString()), "source.sql: must be one query (SELECT or WITH ...), not 'selekt'");
        Files.writeString(conn, Files.readString(duck).replace("table: orders", "sql: 'SELECT * FROM orders WHERE'"));
        badInput(BackflowCli.run("sync", "--connection", conn.toString()), "source.sql: cannot be read from jdbc:duckdb:");
    }

    @Test
    void historyOfARunThatDoesNotExistAndLimitsBelowOneAreRefused() throws Exception {
        Path conn = duckConnection();
        badInput(BackflowCli.run("history", "--connection", conn.toString(), "--run", "no-such-run"), "has no run no-such-run");
        badInput(BackflowCli.run("history", "--connection", conn.toString(), "--limit", "0"), "--limit must be at least 1");
        badInput(BackflowCli.run("preview", "--connection", conn.toString(), "--limit", "-3"), "--limit must be at least 1");
        badInput(BackflowCli.run("history", "--connection", conn.toString(), "--limit", "99999999999"), "--limit must be a whole number");
    }

    @Test
    void aConnectionFileThatIsADirectoryOrMissingIsNamed() {
        badInput(BackflowCli.sync(dir), dir + ": cannot be read");
        badInput(BackflowCli.sync(dir.resolve("nope.yaml")), "nope.yaml: file not found");
    }

    @Test
    void theReceiverRefusesABadPortAndAPortInUse() throws Exception {
        Path file = dir.resolve("r.jsonl");
        badInput(BackflowCli.run("receive", "--file", file.toString(), "--port", "99999"), "--port must be between 0 and 65535");
        try (ServerSocket taken = new ServerSocket(0)) {
            badInput(BackflowCli.run("receive", "--file", file.toString(), "--host", "127.0.0.1", "--port", String.valueOf(taken.getLocalPort())),
                    "receive: cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
        badInput(BackflowCli.run("receive", "--file", dir.resolve("missing/dir/r.jsonl").toString(), "--port", "0"), "receive: cannot write");
    }

    @Test
    void theDemoRefusesADirectoryItCannotWrite() throws Exception {
        Path file = dir.resolve("a-file");
        Files.writeString(file, "x");
        badInput(BackflowCli.run("demo", "--dir", file.toString()), "demo: cannot use " + file);
    }
}
