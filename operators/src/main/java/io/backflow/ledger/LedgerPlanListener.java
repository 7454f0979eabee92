package io.backflow.ledger;

import io.backflow.source.SyncPlanListener;
import java.util.List;

/** Writes the source's plan (high-water mark and splits) into the ledger when a run starts reading. */
public final class LedgerPlanListener implements SyncPlanListener {
    private static final long serialVersionUID = 1L;

    private final LedgerStore store;

    public LedgerPlanListener(LedgerStore store) {
        this.store = store;
    }

    @Override
    public void planned(String runId, String highWaterMark, List<String> splitIds) {
        try (Ledger ledger = store.open()) {
            ledger.planned(runId, highWaterMark, splitIds);
        }
    }
}
