package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.testing.Databases;
import io.backflow.testing.FakeSfmc;
import io.backflow.testing.HttpReceiver;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sync with a database password and a write key, Flink and Backflow logging at INFO (Backflow
 * at DEBUG): neither secret, nor a row's payload, appears in any log line or in the output; nor,
 * in a sync to SFMC whose refusals echo them, its client secret and access tokens.
 */
class SecretsNotLoggedITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir Path dir;

    @Test
    void secretsAndPayloadsStayOutOfLogs() throws Exception {
        JdbcEndpoint db = Databases.newPostgresDatabase("secrets");
        String password = "pw-Zq81-never-log-me";
        Databases.execute(db,
                "CREATE ROLE secret_reader LOGIN PASSWORD '" + password + "'",
                "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR(20), email VARCHAR(80), updated_at TIMESTAMP)",
                "INSERT INTO orders SELECT i, 'u' || i, 'person' || i || '@private.example', TIMESTAMP '2024-01-01' FROM generate_series(1, 50) i",
                "INSERT INTO orders VALUES (51, NULL, 'nobody@private.example', TIMESTAMP '2024-01-01')",
                "GRANT ALL ON SCHEMA public TO secret_reader",
                "DO $$ BEGIN EXECUTE 'GRANT CREATE ON DATABASE ' || quote_ident(current_database()) || ' TO secret_reader'; END $$",
                "GRANT ALL ON ALL TABLES IN SCHEMA public TO secret_reader");
        String writeKey = "wk-Hq72-never-log-me";

        StringWriter captured = new StringWriter();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration cfg = ctx.getConfiguration();
        WriterAppender appender = WriterAppender.newBuilder().setName("capture").setTarget(captured)
                .setLayout(PatternLayout.newBuilder().withPattern("%p %c - %m %ex%n").build()).build();
        appender.start();
        cfg.addAppender(appender);
        Map<String, Level> levels = Map.of("", Level.INFO, "org.apache.flink", Level.INFO, "io.backflow", Level.DEBUG);
        Map<String, Level> before = new java.util.HashMap<>();
        for (Map.Entry<String, Level> e : levels.entrySet()) {
            LoggerConfig lc = cfg.getLoggerConfig(e.getKey());
            before.put(e.getKey(), lc.getLevel());
            lc.setLevel(e.getValue());
            lc.addAppender(appender, e.getValue(), null);
        }
        ctx.updateLoggers();
        try (HttpReceiver receiver = HttpReceiver.start()) {
            java.util.function.BiFunction<String, String, Path> connection = (name, destination) -> BackflowCli.write(dir, name, String.join("\n",
                    "source:",
                    "  url: " + db.url(),
                    "  user: secret_reader",
                    "  password: " + password,
                    "  table: orders",
                    "  primary_key: id",
                    "  cursor: updated_at",
                    "mapping:",
                    "  event_type: identify",
                    "  user_id: user_id",
                    "  traits: {email: '{{ email }}'}",
                    destination,
                    "sync:",
                    "  checkpoint_interval: 300ms",
                    ""));
            Path conn = connection.apply("secret-orders", "destination: {type: http, url: '" + receiver.baseUrl() + "', write_key: " + writeKey + "}");
            BackflowCli.Result r = BackflowCli.sync(conn);
            assertEquals(0, r.exitCode(), r.toString());
            assertEquals(50, receiver.deliveredEvents().size());
            String all = captured + r.out() + r.err();
            assertTrue(all.length() > 1000, "logging was captured: " + all.length() + " chars");
            assertFalse(all.contains(password), "the database password was logged");
            assertFalse(all.contains(writeKey), "the write key was logged");
            assertFalse(all.contains("@private.example"), "a row's payload was logged");

            // SFMC: the client secret and the access tokens, even when a refusal echoes them.
            String clientSecret = "cs-Vw39-never-log-me";
            FakeSfmc sfmc = new FakeSfmc("cid", clientSecret, "Orders", "SubscriberKey", o -> o.path("SubscriberKey").asText().equals("u7"))
                    .echoCredentials(true);
            receiver.respond(sfmc);
            BackflowCli.Result s = BackflowCli.sync(connection.apply("secret-sfmc", "destination: {type: sfmc, url: '" + receiver.baseUrl()
                    + "', auth_url: '" + receiver.baseUrl() + "', client_id: cid, client_secret: " + clientSecret
                    + ", data_extension: Orders, poll_interval: 50ms}"));
            assertEquals(4, s.exitCode(), s.toString());
            assertEquals(49, sfmc.rows().size());
            String sfmcLogs = captured + s.out() + s.err();
            assertTrue(sfmcLogs.contains("Violation of PRIMARY KEY"), "the refusal was logged");
            assertFalse(sfmcLogs.contains(clientSecret), "the client secret was logged");
            assertFalse(sfmc.issued.isEmpty());
            for (String token : sfmc.issued) {
                assertFalse(sfmcLogs.contains(token), "an access token was logged");
            }
        } finally {
            for (Map.Entry<String, Level> e : before.entrySet()) {
                LoggerConfig lc = cfg.getLoggerConfig(e.getKey());
                lc.removeAppender("capture");
                lc.setLevel(e.getValue());
            }
            ctx.updateLoggers();
            appender.stop();
        }
    }
}
