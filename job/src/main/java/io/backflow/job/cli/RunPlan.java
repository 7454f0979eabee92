package io.backflow.job.cli;

import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.source.SyncType;

/** The type of the next sync and where it starts, decided from the ledger and the user's flags. */
public record RunPlan(SyncType type, String startPosition, String reason) {

    public static RunPlan decide(ConnectionConfig config, Ledger ledger, boolean fullResync) {
        if (fullResync) {
            ledger.resetPosition(config.name());
            return new RunPlan(SyncType.FULL, null, "full resync requested");
        }
        if (config.source().cursor() == null) {
            return new RunPlan(SyncType.FULL, null, "no cursor column: every sync reads every row");
        }
        String position = ledger.committedPosition(config.name());
        if (position == null) {
            return new RunPlan(SyncType.FULL, null, "first sync of this connection");
        }
        return new RunPlan(SyncType.INCREMENTAL, position, "rows changed since the last sync");
    }
}
