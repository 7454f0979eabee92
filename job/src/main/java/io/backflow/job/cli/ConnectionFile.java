package io.backflow.job.cli;

import io.backflow.job.config.ConfigLoader;
import io.backflow.job.config.ConnectionConfig;

/** Re-reads a connection's file while its sync runs, so {@code enabled: false} drains the sync. */
final class ConnectionFile {
    private ConnectionFile() {}

    /** False only when the file now says {@code enabled: false}; an unreadable file changes nothing. */
    static boolean stillEnabled(ConnectionConfig config) {
        try {
            return new ConfigLoader().load(config.file()).enabled();
        } catch (RuntimeException e) {
            return true;
        }
    }
}
