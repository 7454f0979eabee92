package io.backflow.ledger;

import io.backflow.mapping.AlreadyDelivered;
import io.backflow.mapping.RowVersions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads from the ledger which rows a connection resolved at its committed high-water mark. */
public final class LedgerMarkRows implements AlreadyDelivered {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LedgerMarkRows.class);

    private final LedgerStore store;
    private final String connectionName;
    private final String mark;

    /** @param mark the run's start mark: the connection's committed position when it was planned */
    public LedgerMarkRows(LedgerStore store, String connectionName, String mark) {
        this.store = store;
        this.connectionName = connectionName;
        this.mark = mark;
    }

    @Override
    public RowVersions load() {
        long started = System.nanoTime();
        RowVersions versions = new RowVersions();
        long n;
        try (Ledger ledger = store.open()) {
            n = ledger.forEachRowAtMark(connectionName, mark, versions::put);
        }
        LOG.info("Connection {}: {} row(s) were resolved at the committed high-water mark; read in {} ms", connectionName, n,
                (System.nanoTime() - started) / 1_000_000);
        return versions;
    }
}
