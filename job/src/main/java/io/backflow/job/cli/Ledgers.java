package io.backflow.job.cli;

import io.backflow.job.config.ConfigException;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.ledger.LedgerException;
import io.backflow.ledger.LedgerStore;
import java.util.List;

/**
 * Opens a connection's ledger for a command. A ledger that cannot be opened at all (nothing
 * listens at {@code state.url}, the password is refused) is a problem with the connection file,
 * named by its field; failures once it is open stay ledger errors.
 */
public final class Ledgers {
    private Ledgers() {}

    public static LedgerStore store(ConnectionConfig config) {
        return new LedgerStore(config.state().endpoint(), config.state().schema());
    }

    public static Ledger open(ConnectionConfig config) {
        return open(config, store(config));
    }

    static Ledger open(ConnectionConfig config, LedgerStore store) {
        try {
            return store.open();
        } catch (LedgerException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String why = Messages.oneLine(cause.getMessage());
            throw new ConfigException(config.file().toString(), List.of((config.state().endpoint() == config.source().endpoint() ? "source.url" : "state.url")
                    + ": cannot open the ledger at " + store.endpoint().redactedUrl() + ": " + why));
        }
    }
}
