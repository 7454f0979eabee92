package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.HttpReceiver;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** What the command line prints is true: preview's actions, UTF-8 on any terminal, progress between checkpoints. */
class CliOutputITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(heartbeatEverySecond())
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;
    HttpReceiver receiver;

    /** As an embedded sync runs its MiniCluster: accumulators reach the client within a second. */
    private static Configuration heartbeatEverySecond() {
        Configuration conf = new Configuration();
        conf.setString("heartbeat.interval", "1 s");
        return conf;
    }

    @BeforeEach
    void start() throws Exception {
        receiver = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    private Path accounts(JdbcEndpoint db) {
        return BackflowCli.write(dir, "accounts", String.join("\n",
                "source:",
                "  url: " + db.url(),
                "  table: accounts",
                "  primary_key: id",
                "mapping:",
                "  event_type: record",
                "  fields: {name: '{{ name }}'}",
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "sync:",
                "  mode: mirror",
                "  checkpoint_interval: 200ms",
                ""));
    }

    @Test
    void previewOfAMirrorConnectionShowsTheActionTheNextSyncSends() {
        JdbcEndpoint db = Databases.duckDb(dir, "preview");
        Databases.execute(db, "CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR)",
                "INSERT INTO accounts VALUES (1, 'a'), (2, 'b'), (3, 'c')");
        Path conn = accounts(db);
        BackflowCli.Result first = BackflowCli.run("preview", "--connection", conn.toString());
        assertEquals(0, first.exitCode(), first.toString());
        assertEquals(3, count(first.out(), "\"action\" : \"insert\""), first.out());
        assertEquals(0, count(first.out(), "\"upsert\""), first.out());

        assertEquals(0, BackflowCli.sync(conn).exitCode());
        Databases.execute(db, "UPDATE accounts SET name = 'B' WHERE id = 2", "DELETE FROM accounts WHERE id = 3", "INSERT INTO accounts VALUES (4, 'd')");
        receiver.reset();
        BackflowCli.Result next = BackflowCli.run("preview", "--connection", conn.toString());
        assertEquals(0, next.exitCode(), next.toString());
        assertEquals(1, count(next.out(), "\"action\" : \"update\""), next.out());
        assertEquals(1, count(next.out(), "\"action\" : \"delete\""), next.out());
        assertEquals(1, count(next.out(), "\"action\" : \"insert\""), next.out());
        assertTrue(next.out().contains("# 3 row(s) previewed: 3 event(s), 0 invalid; nothing was sent"), next.out());
        assertEquals(0, receiver.requestCount(), "preview sends nothing");
        // And changes nothing: the sync still finds the same three changes.
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        assertEquals(3, receiver.deliveredEvents().size());
    }

    @Test
    void previewAndHistoryPrintUtf8UnderACLocale() throws Exception {
        JdbcEndpoint db = Databases.newPostgresDatabase("utf8");
        Databases.execute(db,
                "CREATE TABLE orders (id VARCHAR(40) PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMPTZ)",
                "INSERT INTO orders VALUES ('Gonçalves', 'u1', 1, TIMESTAMPTZ '2024-01-01 00:00:00+00'), ('Ærø-Straße', NULL, 2, TIMESTAMPTZ '2024-01-01 00:00:00+00')");
        Path conn = BackflowCli.write(dir, "orders", String.join("\n",
                BackflowCli.ordersSource(db),
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "sync:",
                "  checkpoint_interval: 200ms",
                ""));
        assertEquals(0, BackflowCli.sync(conn).exitCode());
        String runId = BackflowCli.history(conn).get(0).get("id").asText();

        String preview = inACLocale("preview", "--connection", conn.toString());
        assertTrue(preview.contains("\"id\" : \"Gonçalves\""), preview);
        String history = inACLocale("history", "--connection", conn.toString(), "--run", runId);
        assertTrue(history.contains("Ærø-Straße"), history);
    }

    /** Runs Backflow as its own process with LANG=C, as a bare terminal or a cron job has it, and reads its output as UTF-8. */
    private static String inACLocale(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-")) {
                command.add(arg);
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("LANG", "C");
        pb.environment().put("LC_ALL", "C");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    @Test
    void progressBetweenCheckpointsSaysHowManyRowsWereReadSoFar() {
        JdbcEndpoint db = Databases.newPostgresDatabase("progress");
        Databases.execute(db,
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), amount NUMERIC(10,2), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, 'u' || i, i, TIMESTAMP '2024-01-01' FROM generate_series(1, 100) i");
        // A slow destination and checkpoints far apart: the ledger says 0 until the end.
        receiver.respond(req -> HttpReceiver.Response.ok().delayed(Duration.ofMillis(500)));
        Path conn = BackflowCli.write(dir, "orders", String.join("\n",
                BackflowCli.ordersSource(db),
                "destination:",
                "  type: webhook",
                "  url: " + receiver.webhookUrl(),
                "  batch_size: 10",
                "  max_in_flight: 1",
                "sync:",
                "  checkpoint_interval: 10m",
                ""));
        BackflowCli.Result r = BackflowCli.sync(conn);
        assertEquals(0, r.exitCode(), r.toString());
        Matcher m = Pattern.compile("progress: read (\\d+) rows so far \\(of about 100\\); as of the last checkpoint (\\d+) delivered").matcher(r.out());
        long mostRead = 0;
        int lines = 0;
        while (m.find()) {
            lines++;
            mostRead = Math.max(mostRead, Long.parseLong(m.group(1)));
        }
        assertTrue(lines >= 1, r.out());
        assertTrue(mostRead > 0, "rows were read long before the only checkpoint: " + r.out());
        assertTrue(r.out().contains("read 100, succeeded 100"), r.out());
    }

    private static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
