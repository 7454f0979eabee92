package io.backflow.job.cli;

import io.backflow.job.SyncFailedException;
import io.backflow.job.SyncPipeline;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.ledger.LedgerStore;
import io.backflow.ledger.RunStatus;
import io.backflow.ledger.SyncRun;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/**
 * {@code stop --connection FILE [--drain]}: stops the connection's running sync with a savepoint
 * (reading stops; requests in flight complete), or with {@code --drain} after delivering
 * everything already read. A sync run by a live Backflow process is asked through the ledger and
 * stops itself; a job on a cluster whose client is gone is stopped through Flink's REST API.
 * {@code disable} and {@code enable} switch a connection off (draining its sync) and on.
 */
public final class StopCommand {
    private StopCommand() {}

    public static int stop(ConnectionConfig config, boolean drain, PrintStream out) {
        try (Ledger ledger = Ledgers.open(config)) {
            return stop(config, ledger, drain, out);
        }
    }

    static int stop(ConnectionConfig config, Ledger ledger, boolean drain, PrintStream out) {
        List<SyncRun> recent = ledger.runs(config.name(), 1);
        if (!recent.isEmpty() && recent.get(0).status().isFinal() && Liveness.continuousJob(recent.get(0))) {
            return stopBetweenRuns(config, ledger, recent.get(0), drain, out);
        }
        if (recent.isEmpty() || recent.get(0).status().isFinal()) {
            out.println("Nothing to stop: connection " + config.name() + " has no running sync"
                    + (recent.isEmpty() ? "." : " (its last run " + recent.get(0).id() + " is " + recent.get(0).status() + ")."));
            return 0;
        }
        SyncRun run = recent.get(0);
        Liveness.Verdict verdict = Liveness.check(run);
        if (!verdict.alive()) {
            Liveness.recordEnded(ledger, run, verdict);
            out.println("Nothing to stop: run " + run.id() + " was no longer running (" + verdict.detail()
                    + "); the next sync continues it from the last committed position.");
            return 0;
        }
        String mode = drain ? "DRAIN" : "STOP";
        int rest = run.client() == null ? -1 : run.client().indexOf(" rest=");
        boolean clientAlive = verdict.detail().startsWith("process");
        if (rest > 0 && run.jobId() != null && !clientAlive) {
            String url = run.client().substring(rest + 6);
            try {
                String savepoint = new FlinkRest(url).stopWithSavepoint(run.jobId(), drain, config.sync().savepointDir(), Duration.ofMinutes(10));
                ledger.markStopped(run.id(), drain ? null : savepoint, drain ? "stopped with drain through Flink's REST API"
                        : "stopped through Flink's REST API; the next sync resumes from savepoint " + savepoint);
                out.println("Stopped sync " + run.id() + (drain ? " with drain" : "; savepoint " + savepoint));
                return 0;
            } catch (IOException e) {
                throw new SyncFailedException("could not stop run " + run.id() + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SyncFailedException("interrupted while stopping run " + run.id());
            }
        }
        ledger.requestStop(run.id(), mode);
        out.println("Asked sync " + run.id() + " to stop" + (drain ? " with drain" : "") + "; waiting for it");
        long timeoutMs = Long.parseLong(SyncPipeline.flinkConfiguration(config).getString("execution.checkpointing.timeout", "600000 ms")
                .replace(" ms", "")) + 60_000;
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() < deadline) {
            SyncRun now = ledger.run(run.id());
            if (now.status().isFinal()) {
                if (now.status() == RunStatus.CANCELLED) {
                    out.println("Stopped sync " + run.id() + ": read " + now.read() + ", succeeded " + now.succeeded() + ", failed " + now.failed()
                            + ", invalid " + now.invalid() + (now.savepoint() == null ? "" : "; savepoint " + now.savepoint()));
                } else {
                    out.println("Sync " + run.id() + " ended " + now.status() + " before the stop took effect.");
                }
                return 0;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new SyncFailedException("sync " + run.id() + " did not stop within " + timeoutMs / 1000 + "s; it is still asked to");
    }

    /**
     * Stops a continuous job that is between two runs (its last run completed, the next one has not
     * started): through the ledger when its process is alive to hear, else through Flink's REST API.
     */
    private static int stopBetweenRuns(ConnectionConfig config, Ledger ledger, SyncRun last, boolean drain, PrintStream out) {
        Liveness.Verdict verdict = Liveness.check(last);
        if (!verdict.alive()) {
            out.println("Nothing to stop: connection " + config.name() + " ran continuously in Flink job " + last.jobId() + ", which is gone ("
                    + verdict.detail() + "); its last run " + last.id() + " is " + last.status() + ".");
            return 0;
        }
        int rest = last.client().indexOf(" rest=");
        if (rest > 0 && !verdict.detail().startsWith("process")) {
            String url = last.client().substring(rest + 6);
            try {
                String savepoint = new FlinkRest(url).stopWithSavepoint(last.jobId(), drain, config.sync().savepointDir(), Duration.ofMinutes(10));
                ledger.endContinuousJob(last.jobId(), Liveness.CONTINUOUS);
                out.println("Stopped the continuous sync (Flink job " + last.jobId() + ") between runs; savepoint " + savepoint
                        + " (not needed: nothing was in flight)");
                return 0;
            } catch (IOException e) {
                throw new SyncFailedException("could not stop Flink job " + last.jobId() + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SyncFailedException("interrupted while stopping Flink job " + last.jobId());
            }
        }
        ledger.requestJobStop(last.id(), drain ? "DRAIN" : "STOP");
        out.println("Asked the continuous sync of " + config.name() + " (Flink job " + last.jobId() + ") to stop" + (drain ? " with drain" : "")
                + "; waiting for it");
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            if (!Liveness.continuousJob(ledger.run(last.id()))) {
                SyncRun now = ledger.runs(config.name(), 1).get(0);
                out.println("Stopped the continuous sync; its last run " + now.id() + " is " + now.status()
                        + (now.savepoint() == null ? "" : " with savepoint " + now.savepoint()));
                return 0;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new SyncFailedException("the continuous sync of " + config.name() + " did not stop within 10 minutes; it is still asked to");
    }

    /** Switches a connection off and drains its running sync, if any. */
    public static int disable(ConnectionConfig config, PrintStream out) {
        try (Ledger ledger = Ledgers.open(config)) {
            ledger.setDisabled(config.name(), true);
            out.println("Connection " + config.name() + " is disabled: sync refuses to run until: enable --connection " + config.file());
            return stop(config, ledger, true, out);
        }
    }

    public static int enable(ConnectionConfig config, PrintStream out) {
        try (Ledger ledger = Ledgers.open(config)) {
            ledger.setDisabled(config.name(), false);
            out.println("Connection " + config.name() + " is enabled.");
            return 0;
        }
    }
}
