package io.backflow.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ModelSqlTest {
    private static String refused(String sql) {
        return assertThrows(IllegalArgumentException.class, () -> ModelSql.singleQuery(sql)).getMessage();
    }

    @Test
    void oneQueryPassesWithoutItsTrailingSemicolons() {
        assertEquals("SELECT 1", ModelSql.singleQuery("  SELECT 1 ;;\n -- done\n"));
        assertEquals("with x as (select 1) select * from x", ModelSql.singleQuery("with x as (select 1) select * from x;"));
        assertEquals("(select 1) union (select 2)", ModelSql.singleQuery("(select 1) union (select 2)"));
        assertEquals("-- orders\nSELECT 1", ModelSql.singleQuery("-- orders\nSELECT 1"));
        // Semicolons inside strings, identifiers, dollar quotes and comments are text.
        for (String sql : new String[] {"SELECT 'a;b'", "SELECT 'it''s; fine'", "SELECT E'\\\\'';' AS x", "SELECT \"we;ird\" FROM t",
                "SELECT $$;$$", "SELECT $tag$ ; $ $tag$", "SELECT 1 /* ; /* nested ; */ ; */", "SELECT 1 -- ; \n", "SELECT $1::int"}) {
            assertTrue(sql.startsWith(ModelSql.singleQuery(sql)), sql);
        }
    }

    @Test
    void aSecondStatementIsRefusedWithWhereItStarts() {
        String escape = "SELECT * FROM t) m; commit; delete from t where id > 0; select * from (select 1";
        assertEquals("must be one statement: a ';' at line 1 column 19 is followed by more SQL; remove it (Backflow runs the query as a subquery, read-only)",
                refused(escape));
        assertTrue(refused("SELECT 1;\nDELETE FROM t").contains("line 1 column 9"));
        assertTrue(refused("SELECT 'x';--\n;DROP TABLE t").startsWith("must be one statement"));
    }

    @Test
    void onlyQueriesAndWellFormedTextPass() {
        assertTrue(refused("DELETE FROM t").startsWith("must be one query"));
        assertTrue(refused("COPY t TO '/tmp/x'").startsWith("must be one query"));
        assertTrue(refused("SELECT 'open").contains("never closed"));
        assertTrue(refused("SELECT $q$ open").contains("never closed"));
        assertTrue(refused("SELECT /* open").contains("never closed"));
        assertEquals("the query is empty", refused(" ;; -- nothing"));
    }
}
