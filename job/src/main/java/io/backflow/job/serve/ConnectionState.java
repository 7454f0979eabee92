package io.backflow.job.serve;

import io.backflow.job.config.ConnectionConfig;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.concurrent.CompletableFuture;

/**
 * One connection as {@code serve} tracks it: its current file, when its schedule next fires,
 * whether a run is going, and a trigger waiting for a free slot. Guarded by the {@link Scheduler}'s lock.
 */
final class ConnectionState {
    final String name;
    Path file;
    ConnectionConfig config;
    String error;
    ZonedDateTime nextDue;
    /** The run going now: its id once the ledger recorded it. */
    String runningRun;
    boolean running;
    /** A trigger not started yet (at most one: triggering twice runs once). */
    Trigger pending;

    ConnectionState(String name) {
        this.name = name;
    }

    /** A triggered run: full resync or not, and who waits for its run id. */
    record Trigger(boolean fullResync, CompletableFuture<String> runId) {}
}
