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

    /**
     * Per run of a continuous job: the rows resolved at the run's own start mark, the position the
     * ledger recorded it starting from (none for a FULL run).
     */
    public static io.backflow.mapping.AlreadyDeliveredByRun byRun(LedgerStore store, String connectionName) {
        return runId -> () -> {
            String mark;
            try (Ledger ledger = store.open()) {
                SyncRun run = ledger.run(runId);
                mark = run == null || !"INCREMENTAL".equals(run.type()) ? null : run.startPosition();
            }
            return mark == null ? new RowVersions() : new LedgerMarkRows(store, connectionName, mark).load();
        };
    }

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
