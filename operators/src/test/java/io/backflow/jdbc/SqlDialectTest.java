package io.backflow.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
        assertEquals("ansi", SqlDialect.forUrl("jdbc:snowflake://x").name());
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
