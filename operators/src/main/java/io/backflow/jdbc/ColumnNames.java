package io.backflow.jdbc;

import java.util.Arrays;

/**
 * How a configured column name finds its column in a query's result: the exact name first,
 * otherwise the one column that matches ignoring case (PostgreSQL folds unquoted names to lower
 * case, so users write {@code ID} for {@code id}). The mapping, the mapping operator and the diff
 * all resolve names by this one rule.
 */
public final class ColumnNames {
    private ColumnNames() {}

    /**
     * The index of {@code name} among {@code columns}, or -1 when no column matches.
     *
     * @throws IllegalArgumentException when several columns match, differing only in case
     */
    public static int find(String name, String[] columns) {
        for (int i = 0; i < columns.length; i++) {
            if (columns[i].equals(name)) {
                return i;
            }
        }
        int found = -1;
        for (int i = 0; i < columns.length; i++) {
            if (columns[i].equalsIgnoreCase(name)) {
                if (found >= 0) {
                    throw new IllegalArgumentException("Column '" + name + "' matches several query columns that differ only in case;"
                            + " available columns: " + Arrays.toString(columns));
                }
                found = i;
            }
        }
        return found;
    }
}
