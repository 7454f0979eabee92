package io.backflow.job.cli;

import io.backflow.job.SyncFailedException;
import io.backflow.job.SyncPipeline;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.ledger.LedgerStore;
import io.backflow.ledger.RunStatus;
import io.backflow.ledger.SyncRun;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sync --connection FILE [--full-resync]}: decides the run's type, records it in the ledger,
 * runs the Flink job (embedded, or on the cluster under {@code flink run}), prints progress while
 * it runs and one summary line at the end.
 */
public final class SyncCommand {
    private static final Logger LOG = LoggerFactory.getLogger(SyncCommand.class);
    private static final long PROGRESS_EVERY_MS = 2_000;

    private SyncCommand() {}

    public static int run(ConnectionConfig config, boolean fullResync, PrintStream out) {
        if (!config.enabled()) {
            throw new SyncFailedException("connection " + config.name() + " is disabled (enabled: false in " + config.file() + "); enable it to sync");
        }
        SourceCheck.verify(config);
        LedgerStore store = new LedgerStore(config.state().endpoint(), config.state().schema());
        try (Ledger ledger = store.open()) {
            RunPlan plan = RunPlan.decide(config, ledger, fullResync);
            String runId = ledger.startRun(config.name(), plan.type().name(), plan.startPosition(), plan.reason());
            LOG.info("Sync run {} of connection {} starts: {} ({})", runId, config.name(), plan.type(), plan.reason());
            out.println("Sync " + runId + " of " + config.name() + ": " + plan.type() + " (" + plan.reason() + ")");

            long started = System.nanoTime();
            JobClient client;
            StreamExecutionEnvironment env;
            try {
                env = StreamExecutionEnvironment.getExecutionEnvironment(SyncPipeline.flinkConfiguration(config));
                SyncPipeline.build(env, config, store, runId, plan.type(), plan.startPosition());
                client = env.executeAsync("Backflow sync " + config.name() + " (" + plan.type() + ")");
            } catch (Exception e) {
                String reason = "could not start the Flink job: " + rootMessage(e);
                ledger.finishRun(runId, RunStatus.FAILED, reason);
                throw new SyncFailedException("sync " + runId + " " + reason, e);
            }
            ledger.attachJob(runId, client.getJobID().toString());
            if (!env.getConfiguration().get(DeploymentOptions.ATTACHED)) {
                out.println("Submitted Flink job " + client.getJobID() + " for sync " + runId
                        + "; follow it in the Flink dashboard or with: history --connection " + config.file());
                return 0;
            }

            RowEstimate estimate = RowEstimate.start(config, plan);
            CompletableFuture<JobExecutionResult> result = client.getJobExecutionResult();
            Throwable failure = null;
            while (true) {
                try {
                    result.get(PROGRESS_EVERY_MS, TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException e) {
                    SyncRun now = ledger.run(runId);
                    out.println("  progress: " + estimate.describe(now.read()) + ", " + now.succeeded() + " delivered, "
                            + now.failed() + " failed, " + now.invalid() + " invalid (as of the last checkpoint)");
                } catch (ExecutionException e) {
                    failure = e.getCause();
                    break;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure = e;
                    break;
                }
            }
            estimate.cancel();

            if (failure != null) {
                ledger.finishRun(runId, RunStatus.FAILED, rootMessage(failure));
            } else if (ledger.run(runId).status() == RunStatus.RUNNING) {
                // The job ended without every split read to its end: it was stopped.
                ledger.finishRun(runId, RunStatus.CANCELLED, "stopped before every row was read");
            }
            SyncRun done = ledger.run(runId);
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            String summary = String.format("Sync %s %s %s in %s: read %d, succeeded %d, failed %d, invalid %d",
                    runId, done.type(), done.status(), HistoryCommand.formatDuration(took), done.read(), done.succeeded(),
                    done.failed(), done.invalid());
            LOG.info("{}", summary);
            out.println(summary + (done.reason() != null && done.status() != RunStatus.SUCCEEDED ? " (" + done.reason() + ")" : ""));
            if (done.failed() + done.invalid() > 0) {
                out.println("  rows not delivered are listed in " + store.schema() + ".row_errors (run_id = '" + runId + "')");
            }
            return done.status() == RunStatus.SUCCEEDED ? 0 : 1;
        }
    }

    /**
     * What a user can act on, on one line: a destination configuration error anywhere in the
     * chain, otherwise the innermost cause.
     */
    public static String rootMessage(Throwable t) {
        Throwable innermost = t;
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c.getClass().getSimpleName().endsWith("ConfigurationException") && c.getMessage() != null) {
                return c.getMessage().replace('\n', ' ');
            }
            innermost = c;
        }
        String m = innermost.getMessage();
        return (m == null || m.isBlank() ? innermost.getClass().getSimpleName() : m).replace('\n', ' ');
    }
}
