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

    /** A bit string is its bits, not a boolean (PostgreSQL bit(4), DuckDB's BIT, MariaDB BIT(4)); bit(1) and boolean stay booleans. */
    @Test
    void bitStringsAreNotBooleans(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        JdbcEndpoint pg = Databases.newPostgresDatabase("odd_bits");
        Databases.execute(pg, "CREATE TABLE b (bits BIT(4), one BIT(1), flag BOOLEAN)", "INSERT INTO b VALUES (B'0101', B'1', true)");
        JdbcEndpoint duck = new JdbcEndpoint("jdbc:duckdb:" + dir.resolve("bits.duckdb"), null, null);
        Databases.execute(duck, "CREATE TABLE b (bits BIT, one BOOLEAN, flag BOOLEAN)", "INSERT INTO b VALUES ('0101'::BIT, true, true)");
        JdbcEndpoint maria = Databases.newMariaDbDatabase("odd_bits");
        Databases.execute(maria, "CREATE TABLE b (bits BIT(4), one BIT(1), flag BOOLEAN)", "INSERT INTO b VALUES (b'0101', b'1', true)");
        for (JdbcEndpoint db : java.util.List.of(pg, duck, maria)) {
            try (Connection c = db.open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT bits, one, flag FROM b")) {
                int[] types = JdbcValues.columnTypes(rs.getMetaData());
                rs.next();
                Object bits = JdbcValues.read(rs, 1, types[0]);
                // MariaDB's driver gives a bit string's bytes: 0101 is the byte 5.
                assertEquals("0101", bits instanceof byte[] ? Integer.toBinaryString(0x10 | ((byte[]) bits)[0]).substring(1) : bits, db.url());
                assertEquals(true, JdbcValues.read(rs, 2, types[1]), db.url());
                assertEquals(true, JdbcValues.read(rs, 3, types[2]), db.url());
            }
        }
    }

    /**
     * DuckDB's nested values are read as their JSON, which tells apart what their Java text does
     * not: ['a, b'] and ['a', 'b'] both printed [a, b], a struct printed {k=x, n=1}.
     */
    @Test
    void duckDbNestedValuesAreTheirJson(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        JdbcEndpoint duck = new JdbcEndpoint("jdbc:duckdb:" + dir.resolve("nested.duckdb"), null, null);
        Databases.execute(duck, "CREATE TABLE n (l VARCHAR[], s STRUCT(k VARCHAR, n INTEGER, t TIMESTAMP), m MAP(VARCHAR, INTEGER),"
                        + " a INTEGER[2], deep STRUCT(xs STRUCT(v DOUBLE)[]))",
                "INSERT INTO n VALUES (['a, b', NULL], {'k': 'x', 'n': 1, 't': '2024-01-02 03:04:05.123456'}, MAP {'one': 1, 'two': NULL},"
                        + " [1, 2], {'xs': [{'v': 1.5}, NULL]})",
                "INSERT INTO n VALUES (['a', 'b'], {'k': NULL, 'n': NULL, 't': NULL}, MAP {}, NULL, {'xs': []})");
        try (Connection c = duck.open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM n")) {
            int[] types = JdbcValues.columnTypes(rs.getMetaData());
            java.util.List<java.util.List<Object>> rows = new java.util.ArrayList<>();
            while (rs.next()) {
                java.util.List<Object> row = new java.util.ArrayList<>();
                for (int i = 0; i < types.length; i++) {
                    row.add(JdbcValues.read(rs, i + 1, types[i]));
                }
                rows.add(row);
            }
            assertEquals(java.util.List.of("[\"a, b\",null]", "{\"k\":\"x\",\"n\":1,\"t\":\"2024-01-02T03:04:05.123456\"}",
                    "{\"one\":1,\"two\":null}", "[1,2]", "{\"xs\":[{\"v\":1.5},null]}"), rows.get(0));
            assertEquals(java.util.Arrays.asList("[\"a\",\"b\"]", "{\"k\":null,\"n\":null,\"t\":null}", "{}", null, "{\"xs\":[]}"), rows.get(1));
        }
        // Keys that are lists (the driver's HashMap orders them by identity): both entries, sorted by
        // their JSON, the same at every read; bytes inside a list as base64.
        for (int read = 0; read < 3; read++) {
            try (Connection c = duck.open(); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT MAP {['a, b']: 1, ['a', 'b']: 2, ['c']: 3}, ['\\x01\\xff'::BLOB]")) {
                int[] types = JdbcValues.columnTypes(rs.getMetaData());
                rs.next();
                assertEquals("{\"[\\\"a\\\",\\\"b\\\"]\":2,\"[\\\"a, b\\\"]\":1,\"[\\\"c\\\"]\":3}", JdbcValues.read(rs, 1, types[0]));
                assertEquals("[\"Af8=\"]", JdbcValues.read(rs, 2, types[1]));
            }
        }
    }
}
