package io.backflow.jdbc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.testing.Databases;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import org.junit.jupiter.api.Test;

/**
 * Every Flink job on a cluster loads Backflow in a class loader of its own. Opening connections
 * must work from each one, not only from the first (DriverManager refuses the second).
 */
class JdbcDriversTest {

    @Test
    void eachJobClassLoaderCanConnect() throws Exception {
        JdbcEndpoint db = Databases.newPostgresDatabase("drivers");
        URL backflow = JdbcEndpoint.class.getProtectionDomain().getCodeSource().getLocation();
        URL driver = org.postgresql.Driver.class.getProtectionDomain().getCodeSource().getLocation();
        for (int job = 1; job <= 3; job++) {
            try (URLClassLoader loader = new URLClassLoader(new URL[] {backflow, driver}, ClassLoader.getPlatformClassLoader())) {
                Class<?> endpoint = loader.loadClass(JdbcEndpoint.class.getName());
                Object e = endpoint.getConstructor(String.class, String.class, String.class).newInstance(db.url(), db.user(), db.password());
                try (Connection c = (Connection) endpoint.getMethod("open").invoke(e)) {
                    assertTrue(c.isValid(5), "job " + job);
                }
                loader.loadClass(JdbcDrivers.class.getName()).getMethod("releaseOwnDrivers").invoke(null);
            }
        }
    }
}
