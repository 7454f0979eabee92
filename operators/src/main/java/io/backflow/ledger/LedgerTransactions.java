package io.backflow.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The ledger's one JDBC connection and its transactions: each piece of work runs in one
 * transaction, retried with a short backoff when the database reports a conflict.
 */
final class LedgerTransactions implements AutoCloseable {
    private static final int MAX_ATTEMPTS = 20;

    private final LedgerStore store;
    private Connection connection;

    LedgerTransactions(LedgerStore store) {
        this.store = store;
    }

    private Connection conn() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = store.endpoint().open();
        }
        return connection;
    }

    int update(String sql, Object... args) {
        return run(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                return ps.executeUpdate();
            }
        });
    }

    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs work in one transaction, retrying on conflicts: several committer subtasks update the
     * same run row, which PostgreSQL serializes with a lock and DuckDB reports as a conflict.
     */
    synchronized <T> T run(Work<T> work) {
        SQLException last = null;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            try {
                Connection c = conn();
                c.setAutoCommit(false);
                try {
                    T result = work.run(c);
                    c.commit();
                    return result;
                } catch (SQLException | RuntimeException e) {
                    try {
                        c.rollback();
                    } catch (SQLException ignored) {
                        // The connection is reopened below; the rollback error says nothing new.
                    }
                    throw e;
                }
            } catch (SQLException e) {
                last = e;
                closeQuietly();
                if (!isRetryable(e) || attempt == MAX_ATTEMPTS) {
                    break;
                }
                try {
                    Thread.sleep(Math.min(1000, 10L << Math.min(attempt, 6)) + ThreadLocalRandom.current().nextInt(20));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new LedgerException("ledger " + store + ": " + (last == null ? "interrupted" : last.getMessage()), last);
    }

    private static boolean isRetryable(SQLException e) {
        String state = e.getSQLState();
        String msg = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        // DuckDB reports two transactions inserting one key as a failed commit, not as a conflict.
        return (state != null && (state.startsWith("40") || state.startsWith("08"))) || msg.contains("conflict")
                || (msg.contains("failed to commit") && msg.contains("duplicate key"));
    }

    static Timestamp now() {
        return Timestamp.from(Instant.now());
    }

    static String truncate(String s) {
        return s == null || s.length() <= 4000 ? s : s.substring(0, 3997) + "...";
    }

    private void closeQuietly() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // Closing a broken connection can fail; it is being replaced anyway.
            }
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        closeQuietly();
    }
}
