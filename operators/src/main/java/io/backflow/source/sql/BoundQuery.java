package io.backflow.source.sql;

import io.backflow.jdbc.SqlDialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/** A SQL statement and the values for its parameters, in order. */
public final class BoundQuery {
    private final String sql;
    private final List<Object> parameters;

    BoundQuery(String sql, List<Object> parameters) {
        this.sql = sql;
        this.parameters = List.copyOf(parameters);
    }

    public String sql() {
        return sql;
    }

    public List<Object> parameters() {
        return parameters;
    }

    /** Prepares it forward-only and read-only, with the dialect's binding; the caller closes it. */
    public PreparedStatement prepare(Connection connection, SqlDialect dialect, int fetchSize) throws SQLException {
        PreparedStatement ps = connection.prepareStatement(sql, ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
        try {
            if (fetchSize > 0) {
                ps.setFetchSize(fetchSize);
            }
            for (int i = 0; i < parameters.size(); i++) {
                dialect.bind(ps, i + 1, parameters.get(i));
            }
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    /** The SQL only: parameter values can be personal data. */
    @Override
    public String toString() {
        return sql;
    }
}
