package io.backflow.source.sql;

import io.backflow.jdbc.JdbcValues;
import io.backflow.source.WarehouseSourceSettings;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;

/**
 * The columns of a model as the database describes them: labels, JDBC types, type names, and
 * whether the database guarantees a column is never NULL.
 */
public final class ModelColumns {
    private final String[] names;
    private final int[] types;
    private final String[] typeNames;
    private final boolean[] notNull;

    private ModelColumns(String[] names, int[] types, String[] typeNames, boolean[] notNull) {
        this.names = names;
        this.types = types;
        this.typeNames = typeNames;
        this.notNull = notNull;
    }

    /** Asks the database for the model's columns without reading a row. */
    public static ModelColumns describe(Connection connection, WarehouseSourceSettings settings) throws SQLException {
        try (Statement st = connection.createStatement();
                ResultSet rs = st.executeQuery("SELECT * FROM " + settings.fromClause() + " WHERE 1 = 0")) {
            return of(rs.getMetaData());
        }
    }

    /** The columns of a result set, types normalised by {@link JdbcValues#columnTypes}. */
    public static ModelColumns of(ResultSetMetaData metaData) throws SQLException {
        int n = metaData.getColumnCount();
        String[] names = new String[n];
        String[] typeNames = new String[n];
        boolean[] notNull = new boolean[n];
        for (int i = 0; i < n; i++) {
            names[i] = metaData.getColumnLabel(i + 1);
            typeNames[i] = metaData.getColumnTypeName(i + 1);
            // Only a definite "no nulls" counts: views, expressions and drivers that do not know say otherwise.
            notNull[i] = metaData.isNullable(i + 1) == ResultSetMetaData.columnNoNulls;
        }
        return new ModelColumns(names, JdbcValues.columnTypes(metaData), typeNames, notNull);
    }

    /** The labels; callers must not modify the array. */
    public String[] names() {
        return names;
    }

    public int size() {
        return names.length;
    }

    public int type(int index) {
        return types[index];
    }

    public int[] types() {
        return types;
    }

    public String typeName(int index) {
        return typeNames[index];
    }

    /** True when the database guarantees the column holds no NULL (a NOT NULL table column). */
    public boolean neverNull(int index) {
        return notNull[index];
    }

    /** The index of a column by exact label, or -1. */
    public int indexOf(String column) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(column)) {
                return i;
            }
        }
        return -1;
    }

    /** The index of a column the configuration names, or an error saying which setting is wrong. */
    public int require(String column, String role) {
        int index = indexOf(column);
        if (index >= 0) {
            return index;
        }
        String hint = "";
        for (String name : names) {
            if (name.equalsIgnoreCase(column)) {
                hint = " (names are case-sensitive: did you mean '" + name + "'?)";
            }
        }
        throw new IllegalArgumentException(role + " column '" + column + "' is not in the model" + hint
                + "; its columns are " + Arrays.toString(names));
    }

    /** True when both describe the same columns in the same order. */
    public boolean sameNames(ModelColumns other) {
        return Arrays.equals(names, other.names);
    }
}
