package io.backflow.diff;

import io.backflow.jdbc.JdbcValues;
import io.backflow.jdbc.PositionCodec;
import io.backflow.jdbc.SqlDialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The condition "this row has that primary key" on a table with the model's key columns, and the
 * binding of a key encoded by {@link PositionCodec} into it, with the placeholders the database
 * needs for the columns' types.
 */
final class KeyMatch {
    private final SqlDialect dialect;
    private final String condition;
    private final int columns;

    private KeyMatch(SqlDialect dialect, String condition, int columns) {
        this.dialect = dialect;
        this.condition = condition;
        this.columns = columns;
    }

    /** Reads the key columns' types from {@code qualifiedTable}, which must have every key column. */
    static KeyMatch on(Connection c, SqlDialect dialect, String qualifiedTable, List<String> keys) throws SQLException {
        List<String> quoted = new ArrayList<>();
        keys.forEach(k -> quoted.add(dialect.quoteIdentifier(k)));
        List<String> parts = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + String.join(", ", quoted) + " FROM " + qualifiedTable + " WHERE 1 = 0");
                ResultSet rs = ps.executeQuery()) {
            int[] types = JdbcValues.columnTypes(rs.getMetaData());
            for (int i = 0; i < keys.size(); i++) {
                parts.add(quoted.get(i) + " = " + dialect.placeholder(types[i], rs.getMetaData().getColumnTypeName(i + 1)));
            }
        }
        return new KeyMatch(dialect, String.join(" AND ", parts), keys.size());
    }

    String condition() {
        return condition;
    }

    /**
     * Binds the key {@code position} from parameter {@code first} on; false when it does not fit
     * the key (another column count, or a null value: such rows are never in a delta by key).
     */
    boolean bind(PreparedStatement ps, int first, String position) throws SQLException {
        Object[] values = PositionCodec.decode(position);
        if (values == null || values.length != columns) {
            return false;
        }
        for (Object v : values) {
            if (v == null) {
                return false;
            }
        }
        for (int i = 0; i < values.length; i++) {
            dialect.bind(ps, first + i, values[i]);
        }
        return true;
    }
}
