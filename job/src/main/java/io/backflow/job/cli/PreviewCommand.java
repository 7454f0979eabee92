package io.backflow.job.cli;

import io.backflow.jdbc.JdbcValues;
import io.backflow.jdbc.SqlDialect;
import io.backflow.job.SyncFailedException;
import io.backflow.job.SyncPipeline;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.mapping.EventPreview;
import io.backflow.model.DeltaColumns;
import io.backflow.source.SourceRow;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.stream.Collectors;

/**
 * {@code preview --connection FILE [--limit N]}: a dry run of the mapping on the first N rows (in
 * primary-key order), printing each event or the reason a row is invalid. Nothing is sent and the
 * ledger is not touched.
 */
public final class PreviewCommand {
    private PreviewCommand() {}

    public static int run(ConnectionConfig configured, int limit, PrintStream out) {
        ConnectionConfig config = SourceCheck.verify(configured).config();
        ConnectionConfig.Source source = config.source();
        SqlDialect dialect = source.endpoint().dialect();
        boolean diff = source.changeDetection() == ConnectionConfig.ChangeDetection.DIFF;
        EventPreview preview = new EventPreview(diff ? SyncPipeline.mappingSpec(config, DeltaColumns.OP, null) : SyncPipeline.mappingSpec(config));
        int valid = 0;
        int shown = 0;
        // A diff of a model in another database runs next to the ledger, on a copy of the model in
        // a temporary table that the rollback below removes.
        boolean elsewhere = diff && SyncPipeline.sourceElsewhere(config);
        try (Connection c = elsewhere ? config.state().endpoint().open() : source.endpoint().open()) {
            if (elsewhere) {
                c.setAutoCommit(false);
            } else {
                dialect.beginStreamingRead(c);
            }
            String sql;
            if (diff) {
                // What the next diff sync would send (insert, update, delete), read-only: the delta
                // query against the last delivered snapshot, without creating the delta table.
                sql = SyncPipeline.snapshotDiff(config, config.sync().mode() == io.backflow.diff.SyncMode.FULL).previewQuery(c);
                out.println("# the rows the next sync sends, with the action each becomes (against the last delivered snapshot)");
            } else {
                String order = source.primaryKey().stream().map(dialect::quoteIdentifier).collect(Collectors.joining(", "));
                sql = "SELECT * FROM " + dialect.modelRelation(source.table(), source.sql()) + " ORDER BY " + order;
            }
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setMaxRows(limit);
                ps.setFetchSize(Math.min(limit, 1000));
                try (ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData md = rs.getMetaData();
                    String[] columns = new String[md.getColumnCount()];
                    // The types the sync reads with: PostgreSQL reports timestamptz as TIMESTAMP.
                    int[] types = JdbcValues.columnTypes(md);
                    for (int i = 0; i < columns.length; i++) {
                        columns[i] = md.getColumnLabel(i + 1);
                    }
                    while (rs.next() && shown < limit) {
                        Object[] values = new Object[columns.length];
                        for (int i = 0; i < columns.length; i++) {
                            values[i] = JdbcValues.readOrText(rs, i + 1, types[i]);
                        }
                        EventPreview.Result r = preview.preview(SourceRow.row("preview", columns, values, (String) null));
                        shown++;
                        if (r.valid()) {
                            valid++;
                            out.println("# row " + r.key());
                            out.println(r.json());
                        } else {
                            out.println("# row " + r.key() + " is invalid: " + r.invalidReason());
                        }
                    }
                }
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw new SyncFailedException("preview of " + config.name() + " could not read " + source.endpoint().redactedUrl() + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new SyncFailedException("preview of " + config.name() + ": " + e.getMessage(), e);
        }
        out.println("# " + shown + " row(s) previewed: " + valid + " event(s), " + (shown - valid) + " invalid; nothing was sent");
        return 0;
    }
}
