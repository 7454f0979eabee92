package io.backflow.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Types;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SQL the dialects generate for keysets, placeholders and the settled-cursor bound. */
class SqlDialectTest {
    static final List<String> COLS = List.of("\"c\"", "\"k1\"", "\"k2\"");
    static final List<String> QS = List.of("?", "?", "?");

    @Test
    void ansiKeysetIsTheExpandedFormWithValueOrder() {
        KeysetPredicate p = new AnsiDialect().keysetAfter(COLS, QS);
        assertEquals("(\"c\" > ? OR (\"c\" = ? AND (\"k1\" > ? OR (\"k1\" = ? AND (\"k2\" > ?)))))", p.sql());
        assertArrayEquals(new int[] {0, 0, 1, 1, 2}, p.valueIndexes());

        KeysetPredicate single = new DuckDbDialect().keysetAfter(List.of("\"id\""), List.of("?"));
        assertEquals("(\"id\" > ?)", single.sql());
        assertArrayEquals(new int[] {0}, single.valueIndexes());
    }

    @Test
    void postgresKeysetIsARowValueComparison() {
        KeysetPredicate p = new PostgresDialect().keysetAfter(COLS, QS);
        assertEquals("((\"c\", \"k1\", \"k2\") > (?, ?, ?))", p.sql());
        assertArrayEquals(new int[] {0, 1, 2}, p.valueIndexes());
    }

    @Test
    void duckDbCastsParametersForTypesHeldAsStrings() {
        DuckDbDialect duck = new DuckDbDialect();
        assertEquals("CAST(? AS UUID)", duck.placeholder(Types.JAVA_OBJECT, "UUID"));
        assertEquals("?", duck.placeholder(Types.VARCHAR, "VARCHAR"));
        assertEquals("?", duck.placeholder(Types.JAVA_OBJECT, "ENUM('a'); DROP TABLE x"));
        assertEquals("?", new PostgresDialect().placeholder(Types.OTHER, "uuid"));
    }

    @Test
    void settledCursorPredicateUsesTheDatabaseClock() {
        SqlDialect d = new PostgresDialect();
        assertEquals("\"t\" <= (LOCALTIMESTAMP - INTERVAL '1 millisecond' * 300000)",
                d.settledCursorPredicate("\"t\"", Types.TIMESTAMP, Duration.ofMinutes(5)));
        assertEquals("\"t\" <= CURRENT_TIMESTAMP", d.settledCursorPredicate("\"t\"", Types.TIMESTAMP_WITH_TIMEZONE, Duration.ZERO));
        assertEquals("\"d\" < CAST(LOCALTIMESTAMP AS DATE)", d.settledCursorPredicate("\"d\"", Types.DATE, Duration.ZERO));
        assertNull(d.settledCursorPredicate("\"v\"", Types.BIGINT, Duration.ofHours(1)));
    }

    @Test
    void dialectIsChosenByUrl() {
        assertEquals("postgresql", SqlDialect.forUrl("jdbc:postgresql://h/db").name());
        assertEquals("duckdb", SqlDialect.forUrl("jdbc:duckdb:/tmp/x.duckdb").name());
        assertEquals("snowflake", SqlDialect.forUrl("jdbc:snowflake://acme.snowflakecomputing.com").name());
        assertEquals("mysql", SqlDialect.forUrl("jdbc:mariadb://h:3306/db").name());
        assertEquals("mysql", SqlDialect.forUrl("JDBC:MySQL://h/db").name());
        assertEquals("redshift", SqlDialect.forUrl("jdbc:redshift://c.x.redshift.amazonaws.com:5439/dev").name());
        assertEquals("bigquery", SqlDialect.forUrl("jdbc:bigquery://https://www.googleapis.com/bigquery/v2:443;ProjectId=p").name());
        assertEquals("ansi", SqlDialect.forUrl("jdbc:h2:mem:x").name());
        // Redshift through the PostgreSQL driver: the URL says postgresql, source.dialect says redshift.
        assertEquals("redshift", new JdbcEndpoint("jdbc:postgresql://c:5439/dev", null, null, "redshift").dialect().name());
        assertEquals("no dialect 'oracle' (known: postgresql, redshift, duckdb, mysql, snowflake, bigquery)",
                assertThrows(IllegalArgumentException.class, () -> Dialects.named("oracle")).getMessage());
    }

    @Test
    void onlyPostgresAndDuckDbHoldTheLedger() {
        for (SqlDialect d : Dialects.known()) {
            assertEquals(d.name().equals("postgresql") || d.name().equals("duckdb"), d.canHoldLedger(), d.name());
        }
    }

    @Test
    void mysqlQuotesWithBackticksAndTakesMysqlUrlsThroughMariaDbsDriver() {
        SqlDialect d = new MySqlDialect();
        assertEquals("`Sales`.`Order``s`", d.quoteQualified("Sales.Order`s"));
        assertEquals("jdbc:mysql://h/db?permitMysqlScheme", d.driverUrl("jdbc:mysql://h/db"));
        assertEquals("jdbc:mysql://h/db?ssl=true&permitMysqlScheme", d.driverUrl("jdbc:mysql://h/db?ssl=true"));
        assertEquals("jdbc:mariadb://h/db", d.driverUrl("jdbc:mariadb://h/db"));
        // MariaDB plans the expanded form as an index range, the row-value form as a full index scan (EXPLAIN, 11.4).
        assertEquals(new AnsiDialect().keysetAfter(COLS, QS).sql(), d.keysetAfter(COLS, QS).sql());
    }

    @Test
    void everyDialectBoundsTheCursorWithItsOwnClock() {
        Duration five = Duration.ofMinutes(5);
        assertEquals("`t` <= (NOW(6) - INTERVAL 300000000 MICROSECOND)", new MySqlDialect().settledCursorPredicate("`t`", Types.TIMESTAMP, five));
        assertEquals("`d` < CAST(NOW(6) AS DATE)", new MySqlDialect().settledCursorPredicate("`d`", Types.DATE, Duration.ZERO));
        assertEquals("\"t\" <= DATEADD(millisecond, -300000, SYSDATE)",
                new RedshiftDialect().settledCursorPredicate("\"t\"", Types.TIMESTAMP_WITH_TIMEZONE, five));
        assertEquals("\"t\" <= DATEADD(millisecond, -300000, CAST(CURRENT_TIMESTAMP() AS TIMESTAMP_NTZ))",
                new SnowflakeDialect().settledCursorPredicate("\"t\"", Types.TIMESTAMP, five));
        assertEquals("\"t\" <= CURRENT_TIMESTAMP()", new SnowflakeDialect().settledCursorPredicate("\"t\"", Types.TIMESTAMP_WITH_TIMEZONE, Duration.ZERO));
        assertEquals("`t` <= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 300000 MILLISECOND)",
                new BigQueryDialect().settledCursorPredicate("`t`", Types.TIMESTAMP_WITH_TIMEZONE, five));
        assertEquals("`d` < DATE(DATETIME_SUB(CURRENT_DATETIME(), INTERVAL 300000 MILLISECOND))",
                new BigQueryDialect().settledCursorPredicate("`d`", Types.DATE, five));
        assertNull(new BigQueryDialect().settledCursorPredicate("`v`", Types.BIGINT, five));
    }

    @Test
    void redshiftSnowflakeAndBigQueryPageWithTheExpandedKeyset() {
        // Redshift compares row values column by column (PostgreSQL 8.0), so the row form would skip rows.
        String expanded = new AnsiDialect().keysetAfter(COLS, QS).sql();
        assertEquals(expanded, new RedshiftDialect().keysetAfter(COLS, QS).sql());
        assertEquals(expanded, new SnowflakeDialect().keysetAfter(COLS, QS).sql());
        assertEquals("(`c` > ? OR (`c` = ? AND (`id` > ?)))",
                new BigQueryDialect().keysetAfter(List.of("`c`", "`id`"), List.of("?", "?")).sql());
    }

    @Test
    void bigQueryQuotesEachPartAndListsTablesPerDataset() {
        SqlDialect d = new BigQueryDialect();
        assertEquals("`my-project`.`sales`.`orders`", d.quoteQualified("my-project.sales.orders"));
        assertEquals("`a\\`b`", d.quoteIdentifier("a`b"));
        assertEquals("`sales`.INFORMATION_SCHEMA", d.informationSchema("sales"));
        assertEquals("(SELECT 1 AS id) AS `backflow_model`", d.modelRelation(null, "SELECT 1 AS id"));
        assertEquals("LIMIT 500", d.limit(500));
    }

    @Test
    void theModelIsATableOrAWrappedQueryUnderTheGivenAlias() {
        SqlDialect d = new PostgresDialect();
        assertEquals("\"shop\".\"items\"", d.modelRelation("shop.items", null));
        assertEquals("(SELECT 1 AS id) AS \"backflow_model\"", d.modelRelation(null, "SELECT 1 AS id"));
        assertEquals("\"shop\".\"items\" m", d.modelRelation("shop.items", null, "m"));
        assertEquals("(SELECT 1 AS id) m", d.modelRelation(null, "SELECT 1 AS id", "m"));
    }
}
