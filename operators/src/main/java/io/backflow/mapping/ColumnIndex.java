package io.backflow.mapping;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The columns a mapping reads, each given a slot number at compile time, and their positions in
 * the rows' column array. Rows of one query share a single {@code String[]}, so the positions are
 * resolved once and reused for as long as the same array instance arrives.
 */
final class ColumnIndex {
    private final List<String> names = new ArrayList<>();
    private String[] boundTo;
    private int[] positions;

    /** The slot of {@code column}, registering it on first use. */
    int slot(String column) {
        int i = names.indexOf(column);
        if (i >= 0) {
            return i;
        }
        names.add(column);
        return names.size() - 1;
    }

    String name(int slot) {
        return names.get(slot);
    }

    Set<String> names() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(names));
    }

    /**
     * Positions (indexed by slot) of the mapped columns in {@code columns}.
     *
     * @throws IllegalArgumentException naming the first mapped column the row does not have
     */
    int[] bind(String[] columns) {
        if (columns == boundTo) {
            return positions;
        }
        int[] resolved = new int[names.size()];
        for (int slot = 0; slot < resolved.length; slot++) {
            resolved[slot] = find(names.get(slot), columns);
        }
        positions = resolved;
        boundTo = columns;
        return resolved;
    }

    /** True when {@code name} resolves among {@code columns} by the rule of {@link #bind}. */
    static boolean resolves(String name, String[] columns) {
        try {
            find(name, columns);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Exact name first; otherwise a unique case-insensitive match (PostgreSQL folds unquoted names to lower case). */
    private static int find(String name, String[] columns) {
        for (int i = 0; i < columns.length; i++) {
            if (columns[i].equals(name)) {
                return i;
            }
        }
        int found = -1;
        for (int i = 0; i < columns.length; i++) {
            if (columns[i].equalsIgnoreCase(name)) {
                if (found >= 0) {
                    throw new IllegalArgumentException("Mapping column '" + name + "' matches several query columns "
                            + "that differ only in case; available columns: " + Arrays.toString(columns));
                }
                found = i;
            }
        }
        if (found < 0) {
            throw new IllegalArgumentException("Mapping references column '" + name
                    + "' which the query does not return; available columns: " + Arrays.toString(columns));
        }
        return found;
    }
}
