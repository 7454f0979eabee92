package io.backflow.ledger;

import io.backflow.jdbc.SqlDialect;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

/** The ledger's tables: their quoted names in the ledger's schema, and how they are created. */
final class LedgerTables {
    final String runs;
    final String splits;
    final String commits;
    final String errors;
    final String connections;
    final String failedRows;
    final String retryKeys;
    final String runMarkRows;
    final String markRows;
    final String stagedErrors;
    private final LedgerStore store;
    private final SqlDialect dialect;

    LedgerTables(LedgerStore store) {
        this.store = store;
        this.dialect = store.endpoint().dialect();
        String schema = dialect.quoteIdentifier(store.schema());
        this.runs = schema + ".sync_runs";
        this.splits = schema + ".run_splits";
        this.commits = schema + ".run_commits";
        this.errors = schema + ".row_errors";
        this.connections = schema + ".connections";
        this.failedRows = schema + ".failed_rows";
        this.retryKeys = schema + ".run_retry_keys";
        this.runMarkRows = schema + ".run_mark_rows";
        this.markRows = schema + ".mark_rows";
        this.stagedErrors = schema + ".staged_row_errors";
    }

    private static final List<String> TABLES = List.of("sync_runs", "run_splits", "run_commits", "row_errors", "connections",
            "failed_rows", "run_retry_keys", "run_mark_rows", "mark_rows", "staged_row_errors");

    /**
     * Creates the schema and tables that are missing. Nothing is executed when they all exist, so
     * a state user without CREATE rights works once the tables are there, and no DDL lock is taken
     * on every open.
     */
    void createIfMissing(LedgerTransactions tx) {
        Integer existing = tx.run(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name IN ("
                    + String.join(", ", java.util.Collections.nCopies(TABLES.size(), "?")) + ")")) {
                ps.setString(1, store.schema());
                for (int i = 0; i < TABLES.size(); i++) {
                    ps.setString(i + 2, TABLES.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
        if (existing == TABLES.size()) {
            addMissingColumns(tx);
            return;
        }
        tx.run(c -> {
            try (Statement st = c.createStatement()) {
                st.execute("CREATE SCHEMA IF NOT EXISTS " + dialect.quoteIdentifier(store.schema()));
                st.execute("CREATE TABLE IF NOT EXISTS " + runs + " ("
                        + "run_id VARCHAR(64) PRIMARY KEY, connection VARCHAR(255) NOT NULL, seq BIGINT NOT NULL, run_type VARCHAR(16) NOT NULL, "
                        + "status VARCHAR(16) NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, "
                        + "start_position VARCHAR, high_water_mark VARCHAR, planned_splits INTEGER, "
                        + "rows_read BIGINT NOT NULL, rows_succeeded BIGINT NOT NULL, rows_failed BIGINT NOT NULL, "
                        + "rows_invalid BIGINT NOT NULL, job_id VARCHAR(64), reason VARCHAR, "
                        + "resumed_from VARCHAR(64), savepoint VARCHAR, client VARCHAR(255), stop_request VARCHAR(16), fingerprint VARCHAR, delta VARCHAR, "
                        + "outcome VARCHAR, completed BOOLEAN)");
                st.execute("CREATE TABLE IF NOT EXISTS " + splits + " ("
                        + "run_id VARCHAR(64) NOT NULL, split_id VARCHAR(255) NOT NULL, position VARCHAR, "
                        + "finished BOOLEAN NOT NULL, last_checkpoint BIGINT NOT NULL, descriptor VARCHAR, PRIMARY KEY (run_id, split_id))");
                st.execute("CREATE TABLE IF NOT EXISTS " + commits + " ("
                        + "run_id VARCHAR(64) NOT NULL, subtask INTEGER NOT NULL, checkpoint_id BIGINT NOT NULL, "
                        + "committed_at TIMESTAMP NOT NULL, PRIMARY KEY (run_id, subtask, checkpoint_id))");
                st.execute("CREATE TABLE IF NOT EXISTS " + errors + " ("
                        + "run_id VARCHAR(64) NOT NULL, kind VARCHAR(16) NOT NULL, row_key VARCHAR, "
                        + "message_id VARCHAR(64), reason VARCHAR, recorded_at TIMESTAMP NOT NULL)");
                st.execute("CREATE TABLE IF NOT EXISTS " + connections + " ("
                        + "connection VARCHAR(255) PRIMARY KEY, position VARCHAR, disabled BOOLEAN NOT NULL DEFAULT FALSE, "
                        + "running_run VARCHAR(64), updated_at TIMESTAMP NOT NULL, snapshot VARCHAR(255))");
                st.execute("CREATE TABLE IF NOT EXISTS " + failedRows + " ("
                        + "connection VARCHAR(255) NOT NULL, key_position VARCHAR NOT NULL, row_key VARCHAR, reason VARCHAR, "
                        + "attempts INTEGER NOT NULL, first_failed_at TIMESTAMP NOT NULL, last_failed_at TIMESTAMP NOT NULL, "
                        + "last_run VARCHAR(64) NOT NULL, PRIMARY KEY (connection, key_position))");
                st.execute("CREATE TABLE IF NOT EXISTS " + retryKeys + " ("
                        + "run_id VARCHAR(64) NOT NULL, idx INTEGER NOT NULL, key_position VARCHAR NOT NULL, PRIMARY KEY (run_id, idx))");
                st.execute("CREATE TABLE IF NOT EXISTS " + runMarkRows + " ("
                        + "run_id VARCHAR(64) NOT NULL, checkpoint_id BIGINT NOT NULL, subtask INTEGER NOT NULL, row_count INTEGER NOT NULL, "
                        + "packed BYTEA NOT NULL, PRIMARY KEY (run_id, checkpoint_id, subtask))");
                st.execute("CREATE TABLE IF NOT EXISTS " + markRows + " ("
                        + "connection VARCHAR(255) NOT NULL, mark VARCHAR NOT NULL, run_seq BIGINT NOT NULL, checkpoint_id BIGINT NOT NULL, "
                        + "subtask INTEGER NOT NULL, row_count INTEGER NOT NULL, packed BYTEA NOT NULL, "
                        + "PRIMARY KEY (connection, mark, run_seq, checkpoint_id, subtask))");
                st.execute("CREATE TABLE IF NOT EXISTS " + stagedErrors + " ("
                        + "stage VARCHAR(128) NOT NULL, seq BIGINT NOT NULL, run_id VARCHAR(64) NOT NULL, kind VARCHAR(16) NOT NULL, "
                        + "row_key VARCHAR, message_id VARCHAR(64), reason VARCHAR, key_position VARCHAR, staged_at TIMESTAMP NOT NULL, "
                        + "PRIMARY KEY (stage, seq))");
                // A run's completion deletes what is left of its stages.
                st.execute("CREATE INDEX IF NOT EXISTS staged_row_errors_run ON " + stagedErrors + " (run_id)");
            }
            return null;
        });
        // A ledger of an older version has its old tables, which CREATE IF NOT EXISTS leaves as they are.
        addMissingColumns(tx);
    }

    /** Columns added after a ledger was first created: added once, by the first sync of the newer version. */
    private static final List<String[]> ADDED_COLUMNS = List.of(new String[] {"sync_runs", "delta", "VARCHAR"},
            new String[] {"connections", "snapshot", "VARCHAR(255)"}, new String[] {"sync_runs", "outcome", "VARCHAR"},
            new String[] {"sync_runs", "completed", "BOOLEAN"});

    private void addMissingColumns(LedgerTransactions tx) {
        for (String[] column : ADDED_COLUMNS) {
            Integer found = tx.run(c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = ?"
                        + " AND table_name = ? AND column_name = ?")) {
                    ps.setString(1, store.schema());
                    ps.setString(2, column[0]);
                    ps.setString(3, column[1]);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        return rs.getInt(1);
                    }
                }
            });
            if (found == 0) {
                tx.run(c -> {
                    try (Statement st = c.createStatement()) {
                        st.execute("ALTER TABLE " + dialect.quoteIdentifier(store.schema()) + "." + column[0] + " ADD COLUMN IF NOT EXISTS "
                                + column[1] + " " + column[2]);
                    }
                    return null;
                });
            }
        }
    }
}
