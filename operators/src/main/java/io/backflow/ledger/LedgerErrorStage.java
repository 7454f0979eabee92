package io.backflow.ledger;

import io.backflow.model.RowError;
import io.backflow.sink.RowErrorStage;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;

/**
 * Stages a writer's row errors in the ledger's {@code staged_row_errors} table, on a connection
 * of its own (the task thread's, apart from the committer's), opened at the first chunk: a sync
 * whose rows are all fine never opens it.
 */
final class LedgerErrorStage implements RowErrorStage {
    private final LedgerStore store;
    private final String table;
    private Connection connection;

    LedgerErrorStage(LedgerStore store) {
        this.store = store;
        this.table = new LedgerTables(store).stagedErrors;
    }

    /** Attempts per chunk: DuckDB reports concurrent transactions as conflicts, which a retry resolves. */
    private static final int ATTEMPTS = 3;

    @Override
    public void write(String runId, String stage, long firstSeq, List<RowError> errors) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                insert(runId, stage, firstSeq, errors);
                return;
            } catch (IOException e) {
                if (attempt == ATTEMPTS) {
                    throw e;
                }
                try {
                    Thread.sleep(100L * attempt);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private void insert(String runId, String stage, long firstSeq, List<RowError> errors) throws IOException {
        try {
            if (connection == null || connection.isClosed()) {
                connection = store.endpoint().open();
                connection.setAutoCommit(false);
            }
            try (PreparedStatement ps = connection.prepareStatement("INSERT INTO " + table
                    + " (stage, seq, run_id, kind, row_key, message_id, reason, key_position, staged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                Timestamp at = LedgerTransactions.now();
                long seq = firstSeq;
                for (RowError e : errors) {
                    ps.setString(1, stage);
                    ps.setLong(2, seq++);
                    ps.setString(3, runId);
                    ps.setString(4, e.kind().name());
                    ps.setString(5, LedgerTransactions.truncate(e.key()));
                    ps.setString(6, e.messageId());
                    ps.setString(7, LedgerTransactions.truncate(e.reason()));
                    ps.setString(8, e.keyPosition());
                    ps.setTimestamp(9, at);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            connection.commit();
        } catch (SQLException e) {
            rollbackQuietly();
            // The task fails and restores: the rows are read again, and nothing was committed for them.
            throw new IOException("could not stage " + errors.size() + " row errors of sync run " + runId + " in the ledger " + store + ": "
                    + e.getMessage(), e);
        }
    }

    private void rollbackQuietly() {
        try {
            if (connection != null) {
                connection.rollback();
            }
        } catch (SQLException ignored) {
            // The connection is broken; the next write opens a new one.
            close();
        }
    }

    @Override
    public void close() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // Closing anyway.
            }
            connection = null;
        }
    }
}
