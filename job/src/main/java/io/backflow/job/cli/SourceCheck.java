package io.backflow.job.cli;

import io.backflow.jdbc.SqlDialect;
import io.backflow.job.SyncPipeline;
import io.backflow.job.config.ConfigException;
import io.backflow.job.config.ConnectionConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Checks a connection against its warehouse before any job starts: the model can be queried and
 * has every column the key, cursor and mapping name. A problem here is a config error.
 */
public final class SourceCheck {
    private static final java.util.Set<Integer> TIME_TYPES = java.util.Set.of(java.sql.Types.DATE, java.sql.Types.TIMESTAMP,
            java.sql.Types.TIMESTAMP_WITH_TIMEZONE);

    private SourceCheck() {}

    /** Checks the connection and returns the model's columns with their database type names. */
    public static Map<String, String> verify(ConnectionConfig config) {
        ConnectionConfig.Source source = config.source();
        SqlDialect dialect = source.endpoint().dialect();
        String model = dialect.modelRelation(source.table(), source.sql());
        List<String> columns = new ArrayList<>();
        Map<String, String> types = new LinkedHashMap<>();
        boolean cursorIsTime = true;
        try (Connection c = source.endpoint().open()) {
            dialect.beginStreamingRead(c);
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM " + model + " WHERE 1 = 0")) {
                ResultSetMetaData md = ps.executeQuery().getMetaData();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    columns.add(md.getColumnLabel(i));
                    types.put(md.getColumnLabel(i), md.getColumnTypeName(i));
                    if (source.cursor() != null && md.getColumnLabel(i).equalsIgnoreCase(source.cursor())) {
                        cursorIsTime = TIME_TYPES.contains(md.getColumnType(i));
                    }
                }
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            String field = source.table() != null ? "source.table" : "source.sql";
            throw new ConfigException(config.file().toString(), List.of(field + ": cannot be read from "
                    + source.endpoint().redactedUrl() + ": " + String.valueOf(e.getMessage()).split("\n")[0]));
        }
        List<String> problems = new ArrayList<>();
        for (String key : source.primaryKey()) {
            if (!has(columns, key)) {
                problems.add("source.primary_key: column '" + key + "' is not in the source (it has " + columns + ")");
            }
        }
        if (source.cursor() != null && !has(columns, source.cursor())) {
            problems.add("source.cursor: column '" + source.cursor() + "' is not in the source (it has " + columns + ")");
        }
        if (!cursorIsTime && !source.cursorDelay().isZero()) {
            problems.add("source.cursor_delay: only works with a date or time cursor, and column '" + source.cursor() + "' is "
                    + types.get(source.cursor()) + "; remove cursor_delay, or use a timestamp column as the cursor");
        }
        for (String missing : SyncPipeline.mappingSpec(config).missingColumns(columns)) {
            problems.add("mapping: column '" + missing + "' is not in the source (it has " + columns + ")");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(config.file().toString(), problems);
        }
        return types;
    }

    private static boolean has(List<String> columns, String name) {
        return columns.contains(name) || columns.stream().anyMatch(c -> c.toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT)));
    }
}
