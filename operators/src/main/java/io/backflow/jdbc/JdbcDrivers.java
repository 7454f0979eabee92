package io.backflow.jdbc;

import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Finds JDBC drivers through Backflow's own class loader instead of {@link DriverManager}.
 *
 * <p>On a Flink cluster every job has its own class loader, and DriverManager refuses a driver
 * that a previous job's loader registered ("No suitable driver found"), while the registration
 * pins that job's loader in memory. So connections are opened through the drivers this loader
 * provides, and {@link #releaseOwnDrivers()} undoes their self-registration when a job's tasks end.
 */
public final class JdbcDrivers {
    private static volatile List<Driver> drivers;

    private JdbcDrivers() {}

    /** The driver that accepts {@code url}; the error names only the redacted URL. */
    static Driver forUrl(String url, String redactedUrl) throws SQLException {
        for (Driver d : drivers()) {
            if (d.acceptsURL(url)) {
                return d;
            }
        }
        throw new SQLException("no JDBC driver in Backflow accepts " + redactedUrl + " (bundled: PostgreSQL, DuckDB, MariaDB/MySQL, Redshift; put another driver's jar in lib/)");
    }

    private static List<Driver> drivers() {
        List<Driver> found = drivers;
        if (found == null) {
            found = new ArrayList<>();
            for (Driver d : ServiceLoader.load(Driver.class, JdbcDrivers.class.getClassLoader())) {
                found.add(d);
            }
            drivers = found;
        }
        return found;
    }

    /**
     * Deregisters from DriverManager the drivers Backflow's class loader registered, so a finished
     * job's class loader can be collected. Harmless where Backflow shares the application class
     * loader, since Backflow never asks DriverManager for a connection.
     */
    public static void releaseOwnDrivers() {
        ClassLoader own = JdbcDrivers.class.getClassLoader();
        if (own == ClassLoader.getSystemClassLoader()) {
            return;
        }
        Enumeration<Driver> registered = DriverManager.getDrivers();
        while (registered.hasMoreElements()) {
            Driver d = registered.nextElement();
            if (d.getClass().getClassLoader() == own) {
                try {
                    DriverManager.deregisterDriver(d);
                } catch (SQLException e) {
                    // Nothing to undo: the driver was not registered after all.
                }
            }
        }
    }
}
