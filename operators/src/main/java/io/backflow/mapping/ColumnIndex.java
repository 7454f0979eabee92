package io.backflow.mapping;

import io.backflow.jdbc.ColumnNames;
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

    /** The rule of {@link ColumnNames#find}, failing for a column the query does not return. */
    private static int find(String name, String[] columns) {
        int found = ColumnNames.find(name, columns);
        if (found < 0) {
            throw new IllegalArgumentException("Mapping references column '" + name
                    + "' which the query does not return; available columns: " + Arrays.toString(columns));
        }
        return found;
    }
}
