package io.backflow.jdbc;

import java.util.Arrays;

/**
 * A keyset condition such as {@code (a, b) > (?, ?)} together with the order in which the tuple's
 * values bind to its parameters: the expanded form uses a value more than once.
 *
 * @param sql the condition, parenthesised, with one {@code ?} per entry of {@code valueIndexes}
 * @param valueIndexes for each {@code ?} in order, the index of the tuple value it binds
 */
public record KeysetPredicate(String sql, int[] valueIndexes) {

    @Override
    public boolean equals(Object o) {
        return o instanceof KeysetPredicate
                && sql.equals(((KeysetPredicate) o).sql)
                && Arrays.equals(valueIndexes, ((KeysetPredicate) o).valueIndexes);
    }

    @Override
    public int hashCode() {
        return sql.hashCode() * 31 + Arrays.hashCode(valueIndexes);
    }

    @Override
    public String toString() {
        return sql + " " + Arrays.toString(valueIndexes);
    }
}
