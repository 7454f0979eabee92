package io.backflow.job.cli;

import io.backflow.jdbc.ColumnNames;
import io.backflow.jdbc.SqlDialect;
import io.backflow.job.SyncPipeline;
import io.backflow.job.config.ConfigException;
import io.backflow.job.config.ConnectionConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks a connection against its warehouse before any run is recorded or any job starts, and
 * resolves every name it configures to the database's own spelling: the table (and its schema),
 * the primary-key columns, the cursor and every column the mapping reads. One rule for all of
 * them, the one {@link ColumnNames#find} applies: the exact name, else the one name that matches
 * ignoring case. A name that matches nothing, or several names that differ only in case, is a
 * config error naming the field and the candidates.
 */
public final class SourceCheck {
    private static final java.util.Set<Integer> TIME_TYPES = java.util.Set.of(java.sql.Types.DATE, java.sql.Types.TIMESTAMP,
            java.sql.Types.TIMESTAMP_WITH_TIMEZONE);

    private SourceCheck() {}

    /**
     * What the check found: the connection with the database's names, and the model's columns with
     * their database type names.
     */
    public record Result(ConnectionConfig config, Map<String, String> columnTypes) {}

    /** Checks the connection, and returns it with resolved names and the model's column types. */
    public static Result verify(ConnectionConfig config) {
        ConnectionConfig.Source source = config.source();
        SqlDialect dialect = source.endpoint().dialect();
        List<String> problems = new ArrayList<>();
        String table = source.table();
        Map<String, String> types = new LinkedHashMap<>();
        Map<String, Integer> jdbcTypes = new LinkedHashMap<>();
        try (Connection c = source.endpoint().open()) {
            dialect.beginStreamingRead(c);
            try {
                if (table != null) {
                    table = TableNames.resolve(c, dialect, table);
                }
                String model = dialect.modelRelation(table, source.sql());
                try (PreparedStatement ps = c.prepareStatement("SELECT * FROM " + model + " WHERE 1 = 0");
                        ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData md = rs.getMetaData();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        types.put(md.getColumnLabel(i), md.getColumnTypeName(i));
                        jdbcTypes.put(md.getColumnLabel(i), md.getColumnType(i));
                    }
                }
            } finally {
                c.rollback();
            }
        } catch (TableNames.NotFoundException e) {
            throw new ConfigException(config.file().toString(), List.of("source.table: " + e.getMessage()));
        } catch (SQLException e) {
            String field = source.table() != null ? "source.table" : "source.sql";
            throw new ConfigException(config.file().toString(), List.of(field + ": cannot be read from "
                    + source.endpoint().redactedUrl() + ": " + Messages.oneLine(e.getMessage())));
        }
        String[] columns = types.keySet().toArray(new String[0]);
        String where = table != null ? table : "the query";
        List<String> key = new ArrayList<>();
        for (String k : source.primaryKey()) {
            key.add(column("source.primary_key", k, columns, where, problems));
        }
        String cursor = source.cursor() == null ? null : column("source.cursor", source.cursor(), columns, where, problems);
        if (cursor != null && jdbcTypes.containsKey(cursor) && !TIME_TYPES.contains(jdbcTypes.get(cursor)) && !source.cursorDelay().isZero()) {
            problems.add("source.cursor_delay: only works with a date or time cursor, and column '" + cursor + "' is "
                    + types.get(cursor) + "; remove cursor_delay, or use a timestamp column as the cursor");
        }
        java.util.Set<String> checked = new java.util.HashSet<>(source.primaryKey());
        if (source.cursor() != null) {
            checked.add(source.cursor());
        }
        for (String referenced : SyncPipeline.mappingSpec(config).referencedColumns()) {
            if (checked.add(referenced)) {
                column("mapping", referenced, columns, where, problems);
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(config.file().toString(), problems);
        }
        return new Result(config.withSource(source.withNames(table, key, cursor)), types);
    }

    /** The model's spelling of a configured column, or (adding a problem) the name as given. */
    private static String column(String field, String name, String[] columns, String where, List<String> problems) {
        int found;
        try {
            found = ColumnNames.find(name, columns);
        } catch (IllegalArgumentException ambiguous) {
            List<String> same = new ArrayList<>();
            for (String c : columns) {
                if (c.equalsIgnoreCase(name)) {
                    same.add("'" + c + "'");
                }
            }
            problems.add(field + ": column '" + name + "' matches " + String.join(" and ", same) + " in " + where
                    + ", which differ only in case; write the exact name");
            return name;
        }
        if (found < 0) {
            problems.add(field + ": column '" + name + "' is not in " + where + " (it has: " + String.join(", ", columns) + ")");
            return name;
        }
        return columns[found];
    }

    /** Finds a configured table in the database's catalog by the same rule as columns. */
    static final class TableNames {
        private TableNames() {}

        /** No table matches, or several differ only in case; the message names the candidates. */
        static final class NotFoundException extends RuntimeException {
            private static final long serialVersionUID = 1L;

            NotFoundException(String message) {
                super(message);
            }
        }

        /**
         * The table as the database spells it: {@code schema.table} (with a catalog part kept as
         * given); an unqualified name is looked up in the schemas the session searches, in order.
         */
        static String resolve(Connection c, SqlDialect dialect, String configured) throws SQLException {
            String[] parts = configured.split("\\.");
            String name = parts[parts.length - 1];
            String prefix = parts.length == 3 ? parts[0] + "." : "";
            List<String> schemas;
            if (parts.length >= 2) {
                schemas = List.of(pick("schema", parts[parts.length - 2], schemasLike(c, dialect, parts[parts.length - 2]), configured));
            } else {
                schemas = dialect.searchedSchemas(c);
            }
            for (String schema : schemas) {
                List<String> tables = tablesLike(c, dialect, schema, name);
                if (!tables.isEmpty()) {
                    String table = pick("table", name, tables, configured);
                    // Unqualified names stay unqualified when they are exact: the search path finds them.
                    return parts.length == 1 && table.equals(name) ? name : prefix + schema + "." + table;
                }
            }
            throw new NotFoundException("no table or view '" + configured + "' (in any letter case) in schema "
                    + String.join(", ", schemas) + (parts.length == 1 ? "; qualify it as schema.table if it is elsewhere" : ""));
        }

        private static String pick(String what, String name, List<String> candidates, String configured) {
            if (candidates.contains(name)) {
                return name;
            }
            if (candidates.size() == 1) {
                return candidates.get(0);
            }
            if (candidates.isEmpty()) {
                throw new NotFoundException("no " + what + " '" + name + "' (in any letter case) for '" + configured + "'");
            }
            throw new NotFoundException("'" + configured + "' matches " + what + "s " + String.join(" and ", quoted(candidates))
                    + ", which differ only in case; write the exact name");
        }

        private static List<String> quoted(List<String> names) {
            List<String> out = new ArrayList<>();
            names.forEach(n -> out.add("\"" + n + "\""));
            return out;
        }

        /** Schemas (MySQL: databases) whose name matches ignoring case. */
        private static List<String> schemasLike(Connection c, SqlDialect dialect, String schema) throws SQLException {
            String info = dialect.informationSchema(schema);
            if (!info.equals("information_schema")) {
                // A per-schema catalog (BigQuery's datasets) cannot list other schemas: the name is taken as written.
                return List.of(schema);
            }
            return strings(c, "SELECT DISTINCT schema_name FROM information_schema.schemata WHERE lower(schema_name) = ?",
                    schema.toLowerCase(Locale.ROOT));
        }

        private static List<String> tablesLike(Connection c, SqlDialect dialect, String schema, String table) throws SQLException {
            return strings(c, "SELECT DISTINCT table_name FROM " + dialect.informationSchema(schema) + ".tables WHERE table_schema = ?"
                    + " AND lower(table_name) = ?", schema, table.toLowerCase(Locale.ROOT));
        }

        private static List<String> strings(Connection c, String sql, String... args) throws SQLException {
            List<String> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setString(i + 1, args[i]);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
            }
            return out;
        }
    }
}
