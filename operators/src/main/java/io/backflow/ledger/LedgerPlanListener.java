package io.backflow.ledger;

import io.backflow.source.SyncPlanListener;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.split.WarehouseSplitSerializer;
import java.util.ArrayList;
import java.util.List;

/** Writes the source's plan (high-water mark and splits) into the ledger when a run starts reading. */
public final class LedgerPlanListener implements SyncPlanListener {
    private static final long serialVersionUID = 1L;

    private final LedgerStore store;

    public LedgerPlanListener(LedgerStore store) {
        this.store = store;
    }

    @Override
    public void planned(String runId, String highWaterMark, List<WarehouseSplit> splits) {
        List<Ledger.SplitProgress> planned = new ArrayList<>(splits.size());
        for (WarehouseSplit split : splits) {
            planned.add(new Ledger.SplitProgress(split.splitId(), WarehouseSplitSerializer.toBase64(split), split.position(), split.isFinished()));
        }
        try (Ledger ledger = store.open()) {
            ledger.planned(runId, highWaterMark, planned);
        }
    }
}
