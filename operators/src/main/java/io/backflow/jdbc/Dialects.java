package io.backflow.jdbc;

import java.util.List;
import java.util.Locale;

/**
 * The warehouses Backflow knows, each picked by its JDBC URL's prefix: a new warehouse is one more
 * entry here and one {@link SqlDialect} class. An unknown URL gets {@link AnsiDialect}: standard
 * SQL with double-quoted identifiers.
 */
public final class Dialects {
    private static final List<SqlDialect> KNOWN = List.of(new PostgresDialect(), new RedshiftDialect(), new DuckDbDialect(),
            new MySqlDialect(), new SnowflakeDialect(), new BigQueryDialect());

    private Dialects() {}

    /** The dialect whose prefix the URL starts with (ignoring case), else ANSI. */
    public static SqlDialect forUrl(String url) {
        String u = url.toLowerCase(Locale.ROOT);
        for (SqlDialect d : KNOWN) {
            for (String prefix : d.urlPrefixes()) {
                if (u.startsWith(prefix)) {
                    return d;
                }
            }
        }
        return new AnsiDialect();
    }

    /** The dialect called {@code name} (its {@link SqlDialect#name}, ignoring case). */
    public static SqlDialect named(String name) {
        for (SqlDialect d : KNOWN) {
            if (d.name().equalsIgnoreCase(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("no dialect '" + name + "' (known: " + String.join(", ", names()) + ")");
    }

    /** The known dialects' names. */
    public static List<String> names() {
        return KNOWN.stream().map(SqlDialect::name).toList();
    }

    /** Every known dialect, for messages and tests. */
    public static List<SqlDialect> known() {
        return KNOWN;
    }
}
