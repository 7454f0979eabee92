package io.backflow.job.cli;

import io.backflow.jdbc.PositionCodec;
import io.backflow.jdbc.SqlDialect;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.source.SyncType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.CompletableFuture;

/**
 * Counts the rows a sync will read, in the background and in a read-only transaction, so progress
 * can say "read N of about M" without delaying the start. A failed or slow count only loses the
 * "of about M".
 */
final class RowEstimate {
    private final CompletableFuture<Long> total;

    private RowEstimate(CompletableFuture<Long> total) {
        this.total = total;
    }

    static RowEstimate start(ConnectionConfig config, io.backflow.ledger.SyncRun run) {
        return new RowEstimate(CompletableFuture.supplyAsync(() -> count(config, run)).exceptionally(e -> null));
    }

    /** "1200 rows so far (of about 5000)", or without the estimate while it is not known. */
    String describe(long read) {
        Long t = total.getNow(null);
        return read + " rows so far" + (t == null ? "" : " (of about " + t + ")");
    }

    void cancel() {
        total.cancel(true);
    }

    private static Long count(ConnectionConfig config, io.backflow.ledger.SyncRun run) {
        ConnectionConfig.Source source = config.source();
        // A diff run reads its delta table, not the model.
        io.backflow.jdbc.JdbcEndpoint endpoint = run.delta() != null ? config.state().endpoint() : source.endpoint();
        SqlDialect dialect = endpoint.dialect();
        String model = run.delta() != null ? run.delta().qualifiedTable(dialect) : dialect.modelRelation(source.table(), source.sql());
        String sql = "SELECT COUNT(*) FROM " + model;
        Object[] after = SyncType.INCREMENTAL.name().equals(run.type()) ? PositionCodec.decode(run.startPosition()) : null;
        if (after != null && after.length > 0) {
            // The committed mark is read again (rows can arrive with its exact value).
            sql += " WHERE " + dialect.quoteIdentifier(source.cursor()) + " >= ?";
        }
        try (Connection c = endpoint.open()) {
            dialect.beginStreamingRead(c);
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                if (after != null && after.length > 0) {
                    dialect.bind(ps, 1, after[0]);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                } finally {
                    c.rollback();
                }
            }
        } catch (Exception e) {
            return null;
        }
    }
}
