package io.backflow.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.backflow.testing.Databases;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Values PostgreSQL holds that a driver's usual conversion refuses or garbles: a numeric NaN or
 * infinity (one such row failed every sync of its table, "Bad value for type BigDecimal : NaN"), an
 * XML document, a value no Java type fits. Each is read as something an event can carry.
 */
class OddValuesTest {
    @Test
    void postgresNumericNanAndInfinityXmlAndUnconvertibleValuesAreRead() throws Exception {
        JdbcEndpoint db = Databases.newPostgresDatabase("odd_values");
        Databases.execute(db, "CREATE TABLE odd (n NUMERIC, x XML, d DATE)",
                "INSERT INTO odd VALUES ('NaN', '<a>b</a>', '2024-02-29'), ('Infinity', NULL, 'infinity'), ('-Infinity', NULL, NULL), (1.50, NULL, NULL)");
        try (Connection c = db.open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT n, x FROM odd ORDER BY n")) {
            int[] types = JdbcValues.columnTypes(rs.getMetaData());
            java.util.List<Object> numbers = new java.util.ArrayList<>();
            String xml = null;
            while (rs.next()) {
                numbers.add(JdbcValues.read(rs, 1, types[0]));
                Object x = JdbcValues.read(rs, 2, types[1]);
                xml = x != null ? (String) x : xml;
            }
            // PostgreSQL sorts NaN above every number, infinity included.
            assertEquals(java.util.List.of(Double.NEGATIVE_INFINITY, new java.math.BigDecimal("1.50"), Double.POSITIVE_INFINITY, Double.NaN), numbers);
            assertEquals("<a>b</a>", xml);
        }
        // A value whose typed read fails is taken as the database's text where it only feeds events.
        try (Connection c = db.open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 'not a date'::text AS d")) {
            rs.next();
            assertThrows(SQLException.class, () -> JdbcValues.read(rs, 1, java.sql.Types.DATE));
            assertEquals("not a date", JdbcValues.readOrText(rs, 1, java.sql.Types.DATE));
        }
    }
}
