package io.backflow.ledger;

/** Backflow's durable per-connection state over JDBC. (Being written.) */
public final class Ledger implements AutoCloseable {
    private final LedgerStore store;

    private Ledger(LedgerStore store) {
        this.store = store;
    }

    public static Ledger open(LedgerStore store) {
        return new Ledger(store);
    }

    /** Applies one committable once; a repeat of an applied one changes nothing. */
    public void commit(LedgerCommittable committable) {
        throw new UnsupportedOperationException("ledger not written yet");
    }

    @Override
    public void close() {}
}
