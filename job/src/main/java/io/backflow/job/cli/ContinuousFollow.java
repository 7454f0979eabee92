package io.backflow.job.cli;

import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.ledger.LedgerStore;
import io.backflow.ledger.RunStatus;
import io.backflow.ledger.SyncRun;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a continuous job until it ends: prints each run that read rows as it ends (the ledger
 * records the runs; the job's enumerator starts them), prints progress, and turns a stop request
 * into a stop-with-savepoint. A stop request may come from a signal, from {@code stop} (through
 * the ledger, on the job's running run or, between runs, on its last one), or from
 * {@code enabled: false} in the file (a drain). When the job ends, a run still RUNNING is
 * recorded CANCELLED with the savepoint (the next sync resumes it) or FAILED, and the job's runs
 * stop saying it may still run.
 */
final class ContinuousFollow {
    private static final Logger LOG = LoggerFactory.getLogger(ContinuousFollow.class);
    private static final long POLL_MS = 200;
    private static final long PROGRESS_EVERY_MS = 2_000;
    /** Runs of the connection read per poll: the job's current run and the one before are among them. */
    private static final int RECENT = 3;

    private final ConnectionConfig config;
    private final Ledger ledger;
    private final LedgerStore store;
    private final String jobId;
    private final JobClient client;
    private final String restUrl;
    private final PrintStream out;
    private final Consumer<String> onRunStarted;
    private final Set<String> announced = new LinkedHashSet<>();
    private final Set<String> reported = new LinkedHashSet<>();

    ContinuousFollow(ConnectionConfig config, Ledger ledger, LedgerStore store, String jobId, JobClient client, String restUrl,
            PrintStream out, Consumer<String> onRunStarted) {
        this.config = config;
        this.ledger = ledger;
        this.store = store;
        this.jobId = jobId;
        this.client = client;
        this.restUrl = restUrl;
        this.out = out;
        this.onRunStarted = onRunStarted;
    }

    /** Waits for the job to end and returns the exit code: 3 stopped, 1 failed, else that of its last run. */
    int follow(String firstRun) {
        announced.add(firstRun);
        String current = firstRun;
        CompletableFuture<JobExecutionResult> result = client.getJobExecutionResult();
        CompletableFuture<String> stop = null;
        String stopMode = null;
        StopAttempts attempts = new StopAttempts();
        long nextProgress = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROGRESS_EVERY_MS);
        Throwable failure = null;
        while (true) {
            try {
                result.get(POLL_MS, TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                List<SyncRun> ours = ours();
                current = announceAndReport(ours, current);
                if (stop != null && stop.isCompletedExceptionally() && !result.isDone()) {
                    // Too early (tasks still deploying) or a savepoint that failed: ask again, a few seconds apart.
                    String why = SyncCommand.rootMessage(stop.handle((v, t) -> t).join());
                    stop = null;
                    if (attempts.failed()) {
                        out.println("Could not stop the continuous sync after " + attempts.failures() + " attempts (" + why
                                + "); it runs on. Check sync.savepoint_dir (" + config.sync().savepointDir() + ")");
                    } else {
                        LOG.info("Stopping continuous job {} did not take yet ({}); trying again", jobId, why);
                    }
                }
                boolean progressDue = System.nanoTime() - nextProgress >= 0;
                if (stop == null && attempts.due()) {
                    stopMode = stopRequest(ours, progressDue);
                    if (stopMode != null) {
                        boolean drain = "DRAIN".equals(stopMode);
                        LOG.info("Continuous job {} of {} is stopping ({}), savepoint to {}", jobId, config.name(), drain ? "drain" : "no drain",
                                config.sync().savepointDir());
                        out.println("Stopping the continuous sync" + (drain ? " with drain: everything read is delivered first"
                                : ": reading stops; requests in flight complete"));
                        stop = client.stopWithSavepoint(drain, config.sync().savepointDir(), SavepointFormatType.CANONICAL);
                    }
                }
                if (progressDue) {
                    nextProgress = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROGRESS_EVERY_MS);
                    SyncRun now = ledger.run(current);
                    if (now != null && now.status() == RunStatus.RUNNING) {
                        out.println("  progress: run " + current + " as of the last checkpoint " + now.succeeded() + " delivered, " + now.failed()
                                + " failed, " + now.invalid() + " invalid (this job has read " + SyncCommand.rowsReadSoFar(client) + " row(s))");
                    }
                }
            } catch (ExecutionException e) {
                failure = e.getCause();
                break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = e;
                break;
            }
        }
        return ended(current, stop, stopMode, failure);
    }

    /** Records how the job ended and prints it. */
    private int ended(String current, CompletableFuture<String> stop, String stopMode, Throwable failure) {
        String savepoint = SyncCommand.savepointOf(stop);
        if (savepoint == null && restUrl != null && failure == null) {
            savepoint = new FlinkRest(restUrl).latestSavepointQuietly(jobId);
        }
        boolean drained = "DRAIN".equals(stopMode);
        current = announceAndReport(ours(), current);
        SyncRun last = ledger.run(current);
        // First: once the run below is final, a new sync must not find this job still said to run.
        ledger.endContinuousJob(jobId, Liveness.CONTINUOUS);
        if (failure != null) {
            ledger.finishRun(current, RunStatus.FAILED, SyncCommand.rootMessage(failure));
        } else if (last.status() == RunStatus.RUNNING) {
            String reason = drained ? "stopped with drain: everything read was delivered; the next sync continues from the ledger"
                    : savepoint != null ? "stopped; the next sync resumes from savepoint " + savepoint
                    : "stopped before every row was read; the next sync continues from the last committed position";
            ledger.markStopped(current, drained ? null : savepoint, reason);
            LOG.info("Sync run {} stopped: {}", current, reason);
        } else {
            // Between two runs: nothing was read and unacknowledged, so nothing needs the savepoint.
            out.println("Stopped between runs" + (savepoint == null ? "" : " (savepoint " + savepoint + ", not needed)")
                    + ": the next sync starts a new run from the committed position");
        }
        report(ledger.run(current));
        SyncRun done = ledger.run(current);
        out.println("Continuous sync of " + config.name() + " ended after " + announced.size() + " run(s); last run " + done.id() + " "
                + done.status());
        if (failure != null || done.status() == RunStatus.FAILED && !done.completed()) {
            return 1;
        }
        return SyncCommand.EXIT_STOPPED;
    }

    /** The newest runs of the connection that this job recorded, newest first. */
    private List<SyncRun> ours() {
        List<SyncRun> out = new ArrayList<>();
        for (SyncRun run : ledger.runs(config.name(), RECENT)) {
            if (jobId.equals(run.jobId())) {
                out.add(run);
            }
        }
        return out;
    }

    /** Prints the runs that started or ended since the last poll; returns the job's current run. */
    private String announceAndReport(List<SyncRun> ours, String current) {
        for (int i = ours.size() - 1; i >= 0; i--) {
            SyncRun run = ours.get(i);
            if (announced.add(run.id())) {
                current = run.id();
                onRunStarted.accept(run.id());
            }
            report(run);
        }
        return current;
    }

    /** Prints one line for a run that ended, once; a tick that found nothing new, only in the log. */
    private void report(SyncRun run) {
        if (run == null || run.status() == RunStatus.RUNNING || !reported.add(run.id())) {
            return;
        }
        if (run.read() == 0 && run.status() == RunStatus.SUCCEEDED) {
            LOG.debug("Sync {} {} SUCCEEDED: nothing new", run.id(), run.type());
            return;
        }
        String summary = String.format("Sync %s %s %s: read %d, succeeded %d, failed %d, invalid %d", run.id(), run.type(), run.status(),
                run.read(), run.succeeded(), run.failed(), run.invalid());
        LOG.info("{}", summary);
        out.println(summary + (run.outcome() != null && run.status() != RunStatus.SUCCEEDED ? " (" + run.outcome() + ")" : ""));
        if (run.failed() + run.invalid() > 0) {
            out.println("  rows not delivered are listed in " + store.schema() + ".row_errors (run_id = '" + run.id() + "')");
        }
    }

    /** STOP or DRAIN when asked (a signal, the ledger, or enabled: false in the file), else null. */
    private String stopRequest(List<SyncRun> ours, boolean checkFile) {
        if (SyncCommand.signalled()) {
            return "STOP";
        }
        for (SyncRun run : ours) {
            if (run.stopRequest() != null) {
                return run.stopRequest();
            }
        }
        if (checkFile && !ConnectionFile.stillEnabled(config)) {
            out.println("Connection " + config.name() + " was disabled in " + config.file() + ": draining the continuous sync");
            return "DRAIN";
        }
        return null;
    }
}
