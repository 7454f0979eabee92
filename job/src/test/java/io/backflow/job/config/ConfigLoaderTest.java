package io.backflow.job.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir Path dir;

    private Path write(String yaml) throws IOException {
        Path f = dir.resolve("orders.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    private static final String GOOD = String.join("\n",
            "source:",
            "  url: jdbc:postgresql://db:5432/wh",
            "  user: reader",
            "  password: ${PG_PASSWORD}",
            "  table: analytics.orders",
            "  primary_key: [id]",
            "  cursor: updated_at",
            "  cursor_delay: 2m",
            "mapping:",
            "  event_type: track",
            "  event: Order Completed",
            "  user_id: user_id",
            "  properties:",
            "    revenue: '{{ amount }}'",
            "destination:",
            "  type: http",
            "  url: https://api.example.com",
            "  write_key: ${WRITE_KEY}",
            "  retry: {max_attempts: 3, initial_backoff: 250ms}",
            "");

    @Test
    void readsAGoodFileWithSecretsFromTheEnvironment() throws IOException {
        ConnectionConfig c = new ConfigLoader(Map.of("PG_PASSWORD", "s3cret-pg", "WRITE_KEY", "wk-123")::get).load(write(GOOD));
        assertEquals("orders", c.name());
        assertEquals("s3cret-pg", c.source().endpoint().password());
        assertEquals(List.of("id"), c.source().primaryKey());
        assertEquals(Duration.ofMinutes(2), c.source().cursorDelay());
        assertEquals("wk-123", c.destination().writeKey());
        assertEquals(3, c.destination().maxAttempts());
        assertEquals(Duration.ofMillis(250), c.destination().initialBackoff());
        assertEquals(500, c.destination().batchSize());
        assertEquals(c.source().endpoint(), c.state().endpoint());
        assertEquals("backflow", c.state().schema());
        assertFalse(c.toString().contains("s3cret-pg"), c.toString());
        assertFalse(c.toString().contains("wk-123"), c.toString());
    }

    @Test
    void reportsEveryProblemAtOnceEachNamingItsField() throws IOException {
        String bad = String.join("\n",
                "source:",
                "  url: postgresql://db/wh",
                "  tabel: orders",
                "  password: ${MISSING_SECRET}",
                "mapping:",
                "  event_type: page",
                "destination:",
                "  type: http",
                "  url: ftp://x",
                "  batch_size: many",
                "sync:",
                "  checkpoint_interval: soon",
                "");
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> null).load(write(bad)));
        List<String> p = e.problems();
        assertTrue(p.contains("source.password: environment variable MISSING_SECRET is not set"), p.toString());
        assertTrue(p.contains("source.url: must be a JDBC URL starting with jdbc: (for example jdbc:postgresql://host:5432/db)"), p.toString());
        assertTrue(p.contains("source.tabel: unknown field (did you mean table?)"), p.toString());
        assertTrue(p.contains("source.primary_key: required"), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("mapping.event_type: 'page' is not one of track, identify")), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("mapping.user_id: set mapping.user_id or mapping.anonymous_id")), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("destination.url: must be an http:// or https:// URL")), p.toString());
        assertTrue(p.contains("destination.batch_size: must be a whole number, got 'many'"), p.toString());
        assertTrue(p.contains("destination.write_key: required for an http destination (the source's write key; use ${ENV_VAR})"), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("sync.checkpoint_interval: 'soon' is not a duration")), p.toString());
        assertTrue(e.getMessage().startsWith(dir.resolve("orders.yaml") + ": "), e.getMessage());
    }

    @Test
    void trackAndIdentifyRulesAreChecked() throws IOException {
        String identifyWithEvent = GOOD.replace("event_type: track", "event_type: identify");
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> "x").load(write(identifyWithEvent)));
        assertTrue(e.problems().contains("mapping.event: identify events have no event name"), e.problems().toString());
        assertTrue(e.problems().contains("mapping.properties: identify events carry traits, not properties"), e.problems().toString());
    }

    @Test
    void tableAndSqlAreExclusive() throws IOException {
        String both = GOOD.replace("  table: analytics.orders", "  table: analytics.orders\n  sql: select 1");
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> "x").load(write(both)));
        assertEquals(List.of("source.sql: set exactly one of source.table, source.sql and source.files"), e.problems());
    }

    @Test
    void aMissingFileAndBrokenYamlAreOneLineErrors() throws IOException {
        ConfigException missing = assertThrows(ConfigException.class, () -> new ConfigLoader().load(dir.resolve("nope.yaml")));
        assertEquals(dir.resolve("nope.yaml") + ": file not found", missing.getMessage());
        ConfigException broken = assertThrows(ConfigException.class, () -> new ConfigLoader().load(write("source: [\n")));
        assertTrue(broken.getMessage().contains("not valid YAML at line"), broken.getMessage());
    }

    @Test
    void theShippedExampleConnectionsAreValid() {
        // Only the secrets the examples expect from the environment; everything else has a default.
        ConfigLoader loader = new ConfigLoader(Map.of("PG_PASSWORD", "s", "RUDDER_WRITE_KEY", "s", "PG_STATE_PASSWORD", "s")::get);
        for (String f : List.of("demo.yaml", "demo-users.yaml", "postgres-example.yaml", "compose.yaml")) {
            ConnectionConfig c = loader.load(Path.of("..", "conf", f));
            assertTrue(c.enabled(), f);
        }
    }

    @Test
    void changeDetectionDefaultsToDiffWithoutACursorAndModesAreCheckedAgainstEventsAndState() throws IOException {
        ConnectionConfig cursor = new ConfigLoader(k -> "x").load(write(GOOD));
        assertEquals(ConnectionConfig.ChangeDetection.CURSOR, cursor.source().changeDetection());
        assertEquals(io.backflow.diff.SyncMode.UPSERT, cursor.sync().mode());

        String record = String.join("\n",
                "source: {url: 'jdbc:duckdb:/tmp/w.duckdb', table: customers, primary_key: id}",
                "mapping: {event_type: record, fields: {email: '{{ email }}'}}",
                "destination: {type: webhook, url: 'https://hooks.example.com/in'}",
                "sync: {mode: mirror}", "");
        ConnectionConfig mirror = new ConfigLoader(k -> "x").load(write(record));
        assertEquals(ConnectionConfig.ChangeDetection.DIFF, mirror.source().changeDetection());
        assertEquals(io.backflow.diff.SyncMode.MIRROR, mirror.sync().mode());
        assertEquals(ConnectionConfig.EventType.RECORD, mirror.mapping().eventType());
        assertEquals("{\"email\":\"{{ email }}\"}", mirror.mapping().template().toString());

        String bad = String.join("\n",
                "source: {url: 'jdbc:duckdb:/tmp/w.duckdb', table: customers, primary_key: id, cursor: updated_at, change_detection: diff}",
                "mapping: {event_type: track, event: Seen, user_id: id, fields: {a: b}}",
                "destination: {type: webhook, url: 'https://hooks.example.com/in'}",
                "state: {url: 'jdbc:duckdb:/tmp/state.duckdb'}",
                "sync: {mode: mirror}", "");
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> "x").load(write(bad)));
        List<String> p = e.problems();
        assertTrue(p.contains("source.cursor: is only read with change_detection: cursor; remove it, or set change_detection: cursor"), p.toString());
        assertTrue(p.contains("sync.mode: mirror sends deletes, and track events cannot delete; use mapping.event_type: record"), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("mapping.fields: only record events carry fields")), p.toString());

        String cursorMirror = record.replace("primary_key: id}", "primary_key: id, cursor: updated_at}");
        ConfigException c = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> "x").load(write(cursorMirror)));
        assertTrue(c.problems().contains("sync.mode: mirror sends deletes, which a cursor cannot see; use source.change_detection: diff"),
                c.problems().toString());
    }

    @Test
    void aKeyGivenTwiceIsRefusedNamingIt() throws IOException {
        String twice = GOOD.replace("  table: analytics.orders\n", "  table: analytics.orders\n  table: analytics.refunds\n");
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of("PG_PASSWORD", "p", "WRITE_KEY", "k")::get).load(write(twice)));
        assertTrue(e.getMessage().contains("source.table: given twice at line 6; keep one"), e.getMessage());
    }

    @Test
    void aModelOfSeveralStatementsAndADestinationUrlWithCredentialsAreRefused() throws IOException {
        String bad = GOOD.replace("  table: analytics.orders\n", "  sql: \"SELECT 1) m; commit; delete from t; select * from (select 1\"\n")
                .replace("url: https://api.example.com", "url: https://me:s3cret@api.example.com");
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of("PG_PASSWORD", "p", "WRITE_KEY", "k")::get).load(write(bad)));
        assertTrue(e.getMessage().contains("source.sql: must be one statement: a ';' at line 1 column 12"), e.getMessage());
        assertTrue(e.getMessage().contains("destination.url: must not carry credentials"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }

    private ConfigException refused(String yaml) throws IOException {
        Path f = write(yaml);
        return assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of("PG_PASSWORD", "p", "WRITE_KEY", "k")::get).load(f));
    }

    @Test
    void valuesTooLargeForTheirTypeAreProblemsNamingTheField() throws IOException {
        String huge = GOOD.replace("  retry: {max_attempts: 3, initial_backoff: 250ms}\n", String.join("\n",
                "  timeout: 99999999999999999999s",
                "  batch_size: 99999999999999999999999",
                "  max_in_flight: '123456789012345678901234567890'",
                "  retry: {max_attempts: 3, initial_backoff: 250ms, max_backoff: 100ms, max_duration: 99999999999999d}",
                "state: {retention: 999999999999d}",
                "sync: {checkpoint_interval: 50ms}",
                ""));
        ConfigException e = refused(huge);
        List<String> p = e.problems();
        assertTrue(p.contains("destination.timeout: must be between 1ms and 1h, got '99999999999999999999s'"), p.toString());
        assertTrue(p.contains("destination.batch_size: must be between 1 and 100000, got 99999999999999999999999"), p.toString());
        assertTrue(p.contains("destination.max_in_flight: must be between 1 and 256, got 123456789012345678901234567890"), p.toString());
        assertTrue(p.contains("destination.retry.max_duration: must be between 0ms and 7d, got '99999999999999d'"), p.toString());
        assertTrue(p.contains("destination.retry.max_backoff: must be at least retry.initial_backoff (250ms)"), p.toString());
        assertTrue(p.contains("state.retention: must be between 1s and 36500d, got '999999999999d'"), p.toString());
        assertTrue(p.contains("sync.checkpoint_interval: must be between 100ms and 1d, got '50ms'"), p.toString());
    }

    @Test
    void requestLimitsFollowTheSinksOwnRule() throws IOException {
        String tight = GOOD.replace("  retry: {max_attempts: 3, initial_backoff: 250ms}\n",
                "  max_request_bytes: 2000\n  max_event_bytes: 1990\n");
        assertTrue(refused(tight).problems().contains("destination.max_event_bytes: must leave room for the 12-byte request wrapper inside"
                + " max_request_bytes (2000): at most 1988, got 1990"), refused(tight).problems().toString());
        // At the limit it loads, and then it builds.
        ConnectionConfig c = new ConfigLoader(Map.of("PG_PASSWORD", "p", "WRITE_KEY", "k")::get).load(write(tight.replace("1990", "1988")));
        io.backflow.sink.http.HttpDestinationSink.builder().destination(io.backflow.job.Destinations.of(c))
                .runId("r").committerFactory(() -> null).build();
    }

    private static String kafka(String... lines) {
        return GOOD.substring(0, GOOD.indexOf("destination:")) + "destination:\n  type: kafka\n" + String.join("\n", lines) + "\n";
    }

    @Test
    void aKafkaSectionLoadsAndBuildsItsSink() throws IOException {
        ConnectionConfig c = new ConfigLoader(Map.of("PG_PASSWORD", "p", "SASL", "jaas-secret")::get).load(write(kafka(
                "  bootstrap_servers: broker-1:9092,broker-2:9092",
                "  topic: orders",
                "  key: user_id",
                "  transaction_timeout: 10m",
                "  properties: {security.protocol: SASL_SSL, sasl.jaas.config: '${SASL}', linger.ms: 20}")));
        assertEquals(ConnectionConfig.DestinationType.KAFKA, c.destination().type());
        assertEquals("jaas-secret", c.destination().options().get("properties.sasl.jaas.config"));
        assertEquals("20", c.destination().options().get("properties.linger.ms"));
        io.backflow.job.Destinations.kafka(c).runId("r").committerFactory(() -> null).build();
    }

    @Test
    void aKafkaSectionWithMissingWrongOrHttpSettingsIsRefusedNamingEach() throws IOException {
        List<String> p = refused(kafka(
                "  delivery: exactly-once",
                "  key: email",
                "  transaction_timeout: 500ms",
                "  batch_size: 10",
                "  url: http://x",
                "  properties: {transactional.id: mine, acks: [1]}")).problems();
        assertTrue(p.contains("destination.bootstrap_servers: required for a kafka destination"), p.toString());
        assertTrue(p.contains("destination.topic: required for a kafka destination"), p.toString());
        assertTrue(p.contains("destination.delivery: 'exactly-once' is not one of exactly_once, at_least_once"), p.toString());
        assertTrue(p.contains("destination.key: 'email' is not one of row_key, user_id"), p.toString());
        assertTrue(p.contains("destination.transaction_timeout: must be between 1s and 7d, got '500ms'"), p.toString());
        assertTrue(p.contains("destination.batch_size: is a setting of HTTP destinations, not of kafka ones (producer settings go under properties)"),
                p.toString());
        assertTrue(p.contains("destination.url: is a setting of HTTP destinations, not of kafka ones (producer settings go under properties)"),
                p.toString());
        assertTrue(p.contains("destination.properties: transactional.id is set by Backflow (use bootstrap_servers, delivery, transaction_timeout)"),
                p.toString());
        assertTrue(p.contains("destination.properties: acks must be a single value"), p.toString());
    }

    private static final String SFMC = GOOD.replace("  type: http\n  url: https://api.example.com\n  write_key: ${WRITE_KEY}\n",
            "  type: sfmc\n  subdomain: mc563885gzs27c5t9-63k636ttgm\n  client_id: cid\n  client_secret: ${SFMC_SECRET}\n"
                    + "  account_id: '514009708'\n  data_extension: Orders DE\n");

    @Test
    void sfmcTakesItsUrlsFromTheSubdomainAndItsSecretFromTheEnvironment() throws IOException {
        assertTrue(SFMC.contains("type: sfmc"), SFMC);
        ConnectionConfig c = new ConfigLoader(Map.of("PG_PASSWORD", "p", "SFMC_SECRET", "sfmc-s3cret")::get).load(write(SFMC));
        assertEquals(io.backflow.job.config.ConnectionConfig.DestinationType.SFMC, c.destination().type());
        assertEquals("https://mc563885gzs27c5t9-63k636ttgm.rest.marketingcloudapis.com", c.destination().url());
        assertEquals(500, c.destination().batchSize());
        assertFalse(c.toString().contains("sfmc-s3cret"), c.toString());
        io.backflow.sink.Destination d = io.backflow.job.Destinations.of(c);
        assertEquals("https://mc563885gzs27c5t9-63k636ttgm.rest.marketingcloudapis.com/data/v1/async/dataextensions/key:Orders%20DE/rows",
                d.displayEndpoint());
        assertEquals("https://mc563885gzs27c5t9-63k636ttgm.auth.marketingcloudapis.com/v2/token", d.tokenEndpoint().orElseThrow().display());
        assertFalse(d.toString().contains("sfmc-s3cret"), d.toString());
        io.backflow.sink.http.HttpDestinationSink.builder().destination(d).runId("r").committerFactory(() -> null).build();
    }

    @Test
    void sfmcNamesEachMissingOrInvalidSettingAndRefusesMirror() throws IOException {
        String bare = GOOD.replace("  type: http\n  url: https://api.example.com\n  write_key: ${WRITE_KEY}\n", "  type: sfmc\n");
        List<String> p = refused(bare).problems();
        assertTrue(p.contains("destination.client_id: required for sfmc (the installed package's API integration)"), p.toString());
        assertTrue(p.contains("destination.client_secret: required for sfmc (use ${ENV_VAR})"), p.toString());
        assertTrue(p.contains("destination.data_extension: required for sfmc (the data extension's external key)"), p.toString());
        assertTrue(p.contains("destination.subdomain: set destination.subdomain (as in https://{subdomain}.auth.marketingcloudapis.com),"
                + " or both destination.url and destination.auth_url"), p.toString());
        assertFalse(p.stream().anyMatch(s -> s.startsWith("destination.url")), p.toString());

        String urlsOnly = SFMC.replace("  subdomain: mc563885gzs27c5t9-63k636ttgm\n", "  url: https://x.rest.marketingcloudapis.com\n");
        assertTrue(refused(urlsOnly).problems().contains("destination.subdomain: set destination.subdomain (as in"
                + " https://{subdomain}.auth.marketingcloudapis.com), or both destination.url and destination.auth_url"), refused(urlsOnly).problems().toString());
        ConnectionConfig both = new ConfigLoader(Map.of("PG_PASSWORD", "p", "SFMC_SECRET", "s")::get)
                .load(write(urlsOnly.replace("  url: https", "  auth_url: https://x.auth.marketingcloudapis.com\n  url: https")));
        assertEquals("https://x.rest.marketingcloudapis.com", both.destination().url());

        String bad = SFMC.replace("mc563885gzs27c5t9-63k636ttgm", "Not A.Subdomain").replace("'514009708'", "MID-1")
                + "sync: {mode: mirror}\n";
        List<String> b = refused(bad).problems();
        assertTrue(b.contains("destination.subdomain: must be your tenant's subdomain, the letters and digits before .auth.marketingcloudapis.com"),
                b.toString());
        assertTrue(b.contains("destination.account_id: must be the business unit's MID, a number"), b.toString());
        assertTrue(refused(SFMC + "  poll_interval: 10ms\n").problems().contains("destination.poll_interval: must be between 50ms and 1m, got '10ms'"),
                refused(SFMC + "  poll_interval: 10ms\n").problems().toString());
        assertTrue(b.contains("sync.mode: mirror sends deletes, and sfmc cannot take deletes; use mode: upsert"), b.toString());
        assertTrue(refused(SFMC.replace("  client_id: cid\n", "  client_id: cid\n  api_key: k\n")).problems()
                .contains("destination.api_key: is a setting of braze and iterable destinations, not of sfmc ones"));
    }

    @Test
    void filesBecomeADuckDbQueryAndTheLedgerMustLiveSomewhereThatKeepsIt() throws IOException {
        String files = String.join("\n",
                "source: {files: [lake/a.parquet, 's3://bucket/o''s/*.parquet'], primary_key: id}",
                "mapping: {event_type: identify, user_id: id}",
                "destination: {type: webhook, url: 'https://hooks.example.com/in'}",
                "state: {url: 'jdbc:duckdb:/tmp/ledger.duckdb'}", "");
        Path file = write(files);
        ConnectionConfig c = new ConfigLoader(k -> "x").load(file);
        assertEquals("jdbc:duckdb:", c.source().endpoint().url());
        assertEquals("SELECT * FROM read_parquet(['" + file.toAbsolutePath().getParent().resolve("lake/a.parquet") + "', 's3://bucket/o''s/*.parquet'])",
                c.source().sql());

        ConfigException noLedger = assertThrows(ConfigException.class,
                () -> new ConfigLoader(k -> "x").load(write(files.replace("state: {url: 'jdbc:duckdb:/tmp/ledger.duckdb'}", ""))));
        assertEquals(1, noLedger.problems().size(), noLedger.problems().toString());
        assertTrue(noLedger.problems().get(0).startsWith("state.url: the ledger needs a PostgreSQL or DuckDB database, and the source is files"
                + " read by an in-memory DuckDB; set state.url"), noLedger.problems().toString());

        ConfigException mixed = assertThrows(ConfigException.class,
                () -> new ConfigLoader(k -> "x").load(write(files.replace("lake/a.parquet", "lake/a.csv"))));
        assertEquals(List.of("source.files: 's3://bucket/o's/*.parquet' is not csv like the files before it; one source reads one format"),
                mixed.problems());
        ConfigException both = assertThrows(ConfigException.class,
                () -> new ConfigLoader(k -> "x").load(write(files.replace("primary_key: id}", "primary_key: id, table: t, format: avro}"))));
        assertEquals(List.of("source.files: set one of source.table, source.sql and source.files"), both.problems());
    }

    @Test
    void aWarehouseThatCannotHoldTheLedgerNeedsAStateUrlAndAnUnknownDialectIsNamed() throws IOException {
        String mysql = String.join("\n",
                "source: {url: 'jdbc:mysql://db:3306/shop', table: orders, primary_key: id, cursor: updated_at}",
                "mapping: {event_type: identify, user_id: id}",
                "destination: {type: webhook, url: 'https://hooks.example.com/in'}", "");
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> "x").load(write(mysql)));
        assertEquals(List.of("state.url: the ledger needs a PostgreSQL or DuckDB database, and the source is mysql; set state.url (for example"
                + " jdbc:postgresql://host:5432/backflow or jdbc:duckdb:/var/lib/backflow/ledger.duckdb)"), e.problems());
        ConnectionConfig ok = new ConfigLoader(k -> "x").load(write(mysql + "state: {url: 'jdbc:postgresql://pg/backflow'}\n"));
        assertEquals("mysql", ok.source().endpoint().dialect().name());
        // Diff works with the ledger elsewhere too: it runs on a copy of the model next to the ledger.
        ConnectionConfig diff = new ConfigLoader(k -> "x").load(write(mysql.replace(", cursor: updated_at", "")
                + "state: {url: 'jdbc:postgresql://pg/backflow'}\n"));
        assertEquals(ConnectionConfig.ChangeDetection.DIFF, diff.source().changeDetection());

        ConfigException redshiftLedger = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> "x").load(write(
                mysql + "state: {url: 'jdbc:redshift://c:5439/dev'}\n")));
        assertEquals(List.of("state.url: the ledger needs a PostgreSQL or DuckDB database (a jdbc:postgresql: or jdbc:duckdb: file URL), not redshift"),
                redshiftLedger.problems());
        ConfigException dialect = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> "x").load(write(
                mysql.replace("table: orders", "table: orders, dialect: oracle") + "state: {url: 'jdbc:postgresql://pg/backflow'}\n")));
        assertEquals(List.of("source.dialect: 'oracle' is not one of postgresql, redshift, duckdb, mysql, snowflake, bigquery"), dialect.problems());
        ConnectionConfig redshift = new ConfigLoader(k -> "x").load(write(mysql.replace("jdbc:mysql://db:3306/shop", "jdbc:postgresql://rs:5439/dev")
                .replace("table: orders", "table: orders, dialect: Redshift") + "state: {url: 'jdbc:postgresql://pg/backflow'}\n"));
        assertEquals("redshift", redshift.source().endpoint().dialect().name());
    }

    @Test
    void schedulesAreManualEveryOrCronInAZoneAndBadOnesAreNamed() throws IOException {
        String base = String.join("\n",
                "source: {url: 'jdbc:postgresql://db/w', table: orders, primary_key: id, cursor: updated_at}",
                "mapping: {event_type: identify, user_id: id}",
                "destination: {type: webhook, url: 'https://hooks.example.com/in'}", "");
        assertTrue(new ConfigLoader(k -> "x").load(write(base)).schedule().manual());
        assertTrue(new ConfigLoader(k -> "x").load(write(base + "schedule: manual\n")).schedule().manual());
        Schedule every = new ConfigLoader(k -> "x").load(write(base + "schedule: {every: 15m}\n")).schedule();
        java.time.ZonedDateTime t = java.time.ZonedDateTime.parse("2026-03-29T00:50:00Z");
        assertEquals(t.plusMinutes(15), every.nextAfter(t).orElseThrow());
        Schedule cron = new ConfigLoader(k -> "x").load(write(base + "schedule: {cron: '0 */2 * * *', time_zone: Europe/Berlin}\n")).schedule();
        // 00:50 UTC is 02:50 in Berlin in summer: the next even hour there is 04:00, 02:00 UTC.
        assertEquals(java.time.Instant.parse("2026-07-01T02:00:00Z"),
                cron.nextAfter(java.time.ZonedDateTime.parse("2026-07-01T00:50:00Z")).orElseThrow().toInstant());
        // The night clocks go forward, 02:00 does not exist there: cron-utils skips that slot to 04:00 CEST.
        assertEquals(java.time.Instant.parse("2026-03-29T02:00:00Z"), cron.nextAfter(t).orElseThrow().toInstant());
        assertEquals("cron 0 */2 * * * Europe/Berlin", cron.toString());

        String[][] bad = {
                {"schedule: hourly", "schedule: 'hourly' is not a schedule; write manual, {every: 15m} or {cron: \"0 * * * *\"}"},
                {"schedule: {every: 0s}", "schedule.every: must be between 1s and 366d, got '0s'"},
                {"schedule: {cron: '61 * * * *'}", "schedule.cron: '61 * * * *' is not a five-field cron expression"},
                {"schedule: {cron: '0 * * * *', time_zone: Mars/Olympus}", "schedule.time_zone: 'Mars/Olympus' is not a time zone"},
                {"schedule: {every: 5m, cron: '0 * * * *'}", "schedule.cron: set exactly one of schedule.every and schedule.cron"},
                {"schedule: {every: 5m, time_zone: UTC}", "schedule.time_zone: only applies to schedule.cron"},
        };
        for (String[] b : bad) {
            ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> "x").load(write(base + b[0] + "\n")));
            assertEquals(1, e.problems().size(), e.problems().toString());
            assertTrue(e.problems().get(0).startsWith(b[1]), b[0] + " -> " + e.problems());
        }
    }

    /**
     * Table names as warehouses spell them: any letters, digits, inner spaces and dashes, up to
     * three dot-separated parts (each is quoted); anything else is refused in one line that names
     * the field (a source.sql model takes the rest).
     */
    @Test
    void tableNamesWithLettersOfAnyScriptAndSpacesAreTablesAndSqlIsNot() throws IOException {
        for (String table : List.of("Sales Data.Orders 2024", "Bestellungen_Übersicht", "販売.注文", "my-project.sales.orders", "public.\"x\"")) {
            String yaml = GOOD.replace("  table: analytics.orders", "  table: '" + table + "'");
            if (table.contains("\"")) {
                ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> "x").load(write(yaml)), table);
                assertTrue(e.getMessage().contains("source.table"), e.getMessage());
            } else {
                new ConfigLoader(k -> "x").load(write(yaml));
            }
        }
        for (String table : List.of("orders; DROP TABLE x", "a.b.c.d", "orders ", "a..b", "(SELECT 1)")) {
            String yaml = GOOD.replace("  table: analytics.orders", "  table: '" + table + "'");
            ConfigException e = assertThrows(ConfigException.class, () -> new ConfigLoader(k -> "x").load(write(yaml)), table);
            assertTrue(e.getMessage().contains("source.table"), e.getMessage());
        }
    }
}
