package io.backflow.job.cli;

import io.backflow.diff.DeltaTable;
import io.backflow.diff.SnapshotDiff;
import io.backflow.job.EmbeddedFlink;
import io.backflow.job.SyncFailedException;
import io.backflow.job.SyncPipeline;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.ledger.LedgerStore;
import io.backflow.ledger.RunStatus;
import io.backflow.ledger.SyncRun;
import java.io.PrintStream;
import io.backflow.source.SyncType;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sync --connection FILE [--full-resync]}: decides the run (fresh, or continuing a stopped
 * or failed one), records it in the ledger, runs the Flink job (embedded, or on the cluster under
 * {@code flink run}), prints progress, answers stop requests with a stop-with-savepoint, and
 * prints one summary line at the end.
 */
public final class SyncCommand {
    private static final Logger LOG = LoggerFactory.getLogger(SyncCommand.class);
    /** Exit code of a sync that was stopped: not a failure, not done either. */
    public static final int EXIT_STOPPED = 3;
    /** Exit code of a sync that read everything but some rows failed at the destination (owed to the next sync). */
    public static final int EXIT_PARTIAL = 4;
    private static final long POLL_MS = 200;
    /** Failed rows one sync retries at most; the rest wait for the next one. */
    public static final int MAX_RETRY_KEYS = 10_000;
    private static final long PROGRESS_EVERY_MS = 2_000;

    /** Set by Ctrl-C (SIGINT) or SIGTERM to {@code STOP}; read by the running sync. */
    private static final AtomicReference<String> SIGNALLED = new AtomicReference<>();

    private SyncCommand() {}

    /** Makes Ctrl-C stop a running sync with a savepoint instead of killing it; a second one exits at once. */
    public static void handleSignals() {
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> {
                    if (!SIGNALLED.compareAndSet(null, "STOP")) {
                        System.err.println("backflow: stopping at once; the next sync resumes from the last committed position");
                        Runtime.getRuntime().halt(130);
                    }
                    System.err.println("backflow: stopping the sync with a savepoint (press Ctrl-C again to quit at once)");
                });
            } catch (IllegalArgumentException e) {
                // This platform does not deliver that signal; Ctrl-C then ends the process.
            }
        }
    }

    /** True once Ctrl-C or SIGTERM asked every running sync of this process to stop. */
    public static boolean signalled() {
        return SIGNALLED.get() != null;
    }

    public static int run(ConnectionConfig configured, boolean fullResync, PrintStream out) {
        return run(configured, fullResync, out, runId -> {}, new Configuration());
    }

    /** The Flink settings of Flink's Prometheus reporter on {@code port} of every interface, for {@code --prometheus}. */
    public static Configuration prometheus(String port) {
        if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65_535) {
            throw new io.backflow.job.BadInputException("--prometheus: '" + port + "' is not a port (for example 9249)");
        }
        Configuration c = new Configuration();
        c.setString("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        c.setString("metrics.reporter.prom.port", port);
        return c;
    }

    /**
     * How often the embedded dashboard asks the tasks for their metrics. Flink's 10 s suits long
     * jobs; a sync may be over in less, and its first answers would show no metrics at all.
     */
    public static final java.time.Duration DASHBOARD_METRICS_REFRESH = java.time.Duration.ofSeconds(2);

    /**
     * The Flink settings that put an embedded sync's dashboard on {@code hostPort} ({@code [HOST:]PORT},
     * host 127.0.0.1 unless given), for {@code --web-ui}.
     */
    public static Configuration webUi(String hostPort) {
        String host = "127.0.0.1";
        String port = hostPort;
        int colon = hostPort.lastIndexOf(':');
        if (colon >= 0) {
            host = hostPort.substring(0, colon);
            port = hostPort.substring(colon + 1);
        }
        if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65_535 || host.isEmpty()) {
            throw new io.backflow.job.BadInputException("--web-ui: '" + hostPort + "' is not [HOST:]PORT (for example 8081 or 0.0.0.0:8081)");
        }
        Configuration c = new Configuration();
        c.set(RestOptions.ADDRESS, host);
        c.set(RestOptions.BIND_ADDRESS, host);
        c.set(RestOptions.BIND_PORT, port);
        c.set(RestOptions.PORT, Integer.parseInt(port));
        c.set(org.apache.flink.configuration.MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, DASHBOARD_METRICS_REFRESH);
        return c;
    }

    /**
     * Runs one sync, as {@code sync} does.
     *
     * @param onRecorded told the run's id once the ledger has recorded it (before the job starts):
     *     {@code serve} answers a trigger with it
     */
    public static int run(ConnectionConfig configured, boolean fullResync, PrintStream out, java.util.function.Consumer<String> onRecorded,
            Configuration flinkOverrides) {
        return run(configured, fullResync, false, out, onRecorded, flinkOverrides);
    }

    /**
     * As above; {@code continuous} runs the connection as one long-running job that starts a run
     * at every tick of its {@code every:} schedule until it is stopped (see {@link ContinuousFollow}).
     * {@code onRecorded} is then told each run's id as it starts.
     */
    public static int run(ConnectionConfig configured, boolean fullResync, boolean continuous, PrintStream out,
            java.util.function.Consumer<String> onRecorded, Configuration flinkOverrides) {
        if (continuous && io.backflow.job.config.ContinuousMode.problem(configured) != null) {
            throw new io.backflow.job.BadInputException(configured.file() + ": " + io.backflow.job.config.ContinuousMode.problem(configured));
        }
        // serve submits every sync to its one MiniCluster, through its REST endpoint.
        boolean remote = "remote".equals(flinkOverrides.get(DeploymentOptions.TARGET));
        StreamExecutionEnvironment probe = StreamExecutionEnvironment.getExecutionEnvironment();
        // Not remote, and not under flink run (which gives the program its cluster's environment):
        // the sync's own cluster starts now, while the source and the ledger are checked.
        EmbeddedFlink flink = null;
        if (!remote && probe instanceof LocalStreamEnvironment && configured.enabled()) {
            Configuration cluster = SyncPipeline.flinkConfiguration(configured);
            cluster.addAll(flinkOverrides);
            flink = EmbeddedFlink.start(cluster, configured.sync().parallelism());
        }
        try {
            return run(configured, fullResync, continuous, out, onRecorded, flinkOverrides, remote, probe, flink);
        } finally {
            if (flink != null) {
                flink.close();
            }
        }
    }

    private static int run(ConnectionConfig configured, boolean fullResync, boolean continuous, PrintStream out,
            java.util.function.Consumer<String> onRecorded, Configuration flinkOverrides, boolean remote, StreamExecutionEnvironment probe,
            EmbeddedFlink flink) {
        // From here on every name is the database's own spelling.
        SourceCheck.Result checked = SourceCheck.verify(configured);
        ConnectionConfig config = checked.config();
        String fingerprint = Fingerprint.of(config, checked.columnTypes());
        if (!config.enabled()) {
            throw new SyncFailedException("connection " + config.name() + " is disabled (enabled: false in " + config.file() + "); set enabled: true to sync");
        }
        LedgerStore store = Ledgers.store(config);
        try (Ledger ledger = Ledgers.open(config, store)) {
            if (ledger.isDisabled(config.name())) {
                throw new SyncFailedException("connection " + config.name() + " is disabled; enable it with: enable --connection " + config.file());
            }
            String restorePath = probe.getConfiguration().getOptional(StateRecoveryOptions.SAVEPOINT_PATH).orElse(null);
            boolean embedded = flink != null;
            String restUrl = remote ? "http://" + flinkOverrides.get(RestOptions.ADDRESS) + ":" + flinkOverrides.get(RestOptions.PORT)
                    : embedded ? null : restUrl(probe.getConfiguration(), config);

            RunPlan plan = RunPlan.decide(config, ledger, fullResync, restorePath, fingerprint, continuous);
            // Rows the destination refused before are read again by key, whatever their cursor.
            List<String> retryKeys = plan.resumedFrom() == null && plan.type() == SyncType.INCREMENTAL
                    ? ledger.failedKeys(config.name(), MAX_RETRY_KEYS) : List.of();
            String reason = retryKeys.isEmpty() ? plan.reason() : plan.reason() + ", and " + retryKeys.size() + " refused row(s) again";
            String runId;
            try {
                runId = ledger.startRun(config.name(), plan.type().name(), plan.startPosition(), reason, plan.resumedFrom(),
                        Liveness.self(restUrl, remote, continuous), fingerprint);
            } catch (io.backflow.ledger.RunAlreadyRunningException e) {
                throw new SyncFailedException(e.getMessage() + "; stop it with: stop --connection " + config.file());
            }
            onRecorded.accept(runId);
            if (plan.savepoint() != null) {
                ledger.copyPlan(plan.resumedFrom(), runId);
            }
            if (plan.resumedFrom() != null) {
                ledger.copyRetryKeys(plan.resumedFrom(), runId);
            } else {
                ledger.recordRetryKeys(runId, retryKeys);
            }
            LOG.info("Sync run {} of connection {} starts: {} ({})", runId, config.name(), plan.type(), reason);
            out.println("Sync " + runId + " of " + config.name() + ": " + plan.type() + " (" + reason + ")");
            if (config.destination().type() == ConnectionConfig.DestinationType.MIXPANEL && config.mapping().timestamp() == null) {
                // Mixpanel drops a repeated event only when its time matches too; an unmapped time is the moment of mapping.
                out.println("  note: mapping.timestamp is not set, so each event's time is when it is sent; Mixpanel drops a re-sent"
                        + " event only with the same time, so rows sent again (retries, a resumed run, the rows at the mark) count twice"
                        + " there: map timestamp: to a column");
            }
            DeltaTable delta = plan.diff() ? delta(config, ledger, runId, plan, out) : null;
            // After the delta is shared: a resumed run's delta is then the newest run's, never purged.
            ledger.purge(config.name(), java.time.Instant.now().minus(config.state().retention()));

            long started = System.nanoTime();
            JobClient client;
            StreamExecutionEnvironment env;
            try {
                Configuration conf = SyncPipeline.flinkConfiguration(config);
                if (plan.savepoint() != null && restorePath == null) {
                    conf.set(StateRecoveryOptions.SAVEPOINT_PATH, plan.savepoint());
                }
                conf.addAll(flinkOverrides);
                env = remote ? new StreamExecutionEnvironment(conf)
                        : embedded ? flink.environment(conf) : StreamExecutionEnvironment.getExecutionEnvironment(conf);
                java.time.Duration every = continuous ? config.schedule().every() : null;
                SyncPipeline.build(env, config, store, runId, plan, retryKeys, delta, ledger.lastSucceededAt(config.name()), every);
                client = env.executeAsync("Backflow sync " + config.name() + " (" + (continuous ? "CONTINUOUS" : plan.type()) + ")");
            } catch (Exception e) {
                String failure = "could not start the Flink job: " + rootMessage(e);
                ledger.finishRun(runId, RunStatus.FAILED, failure);
                throw new SyncFailedException("sync " + runId + " " + failure, e);
            }
            String jobId = client.getJobID().toString();
            ledger.attachJob(runId, jobId);
            if (!env.getConfiguration().get(DeploymentOptions.ATTACHED)) {
                out.println("Submitted Flink job " + jobId + " for sync " + runId
                        + "; follow it in the Flink dashboard or with: history --connection " + config.file());
                return 0;
            }
            if (continuous) {
                out.println("Continuous sync of " + config.name() + " in Flink job " + jobId + ": a run " + config.schedule()
                        + " once the one before has completed, until stopped");
                return new ContinuousFollow(config, ledger, store, jobId, client, restUrl, out, onRecorded).follow(runId);
            }
            return follow(config, ledger, store, runId, jobId, client, restUrl, started, out);
        }
    }

    /**
     * The delta a diff run reads: the one of the run it resumes, or a fresh one computed in the
     * database against the last delivered snapshot. A delta that cannot be computed fails the run.
     */
    private static DeltaTable delta(ConnectionConfig config, Ledger ledger, String runId, RunPlan plan, PrintStream out) {
        SyncRun previous = plan.resumedFrom() == null ? null : ledger.run(plan.resumedFrom());
        if (previous != null && previous.delta() != null) {
            ledger.shareDelta(previous.id(), runId);
            return previous.delta();
        }
        long started = System.nanoTime();
        try {
            SnapshotDiff.Result result = ledger.planDelta(runId, config.name(), SyncPipeline.snapshotDiff(config, plan.sendAll()));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            LOG.info("Sync run {} delta {}: {} ({} ms)", runId, result.delta().table(), result.describe(), ms);
            out.println("  " + (plan.sendAll() ? "every row: " : "changes since the last delivered snapshot: ") + result.describe()
                    + " (computed in " + ms + " ms)");
            return result.delta();
        } catch (RuntimeException e) {
            String failure = "could not compare the model with the last delivered snapshot: " + rootMessage(e);
            ledger.finishRun(runId, RunStatus.FAILED, failure);
            throw new SyncFailedException("sync " + runId + " " + failure, e);
        }
    }

    /** Waits for the job, printing progress and turning stop requests into a stop-with-savepoint. */
    private static int follow(ConnectionConfig config, Ledger ledger, LedgerStore store, String runId, String jobId, JobClient client,
            String restUrl, long started, PrintStream out) {
        RowEstimate estimate = RowEstimate.start(config, ledger.run(runId));
        CompletableFuture<JobExecutionResult> result = client.getJobExecutionResult();
        CompletableFuture<String> stop = null;
        String stopMode = null;
        StopAttempts attempts = new StopAttempts();
        Throwable failure = null;
        long lastProgress = System.nanoTime();
        long nextFileCheck = System.nanoTime();
        while (true) {
            try {
                result.get(POLL_MS, TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                SyncRun now = ledger.run(runId);
                if (stop != null && stop.isCompletedExceptionally() && !result.isDone()) {
                    // Too early (tasks still deploying) or a savepoint that failed: ask again, a few
                    // seconds apart, and after a few failures say why and let the sync run on.
                    String why = rootMessage(stop.handle((v, t) -> t).join());
                    stop = null;
                    if (attempts.failed()) {
                        out.println("Could not stop sync " + runId + " after " + attempts.failures() + " attempts (" + why
                                + "); it runs on. Check sync.savepoint_dir (" + config.sync().savepointDir() + ")");
                    } else {
                        LOG.info("Stopping sync run {} did not take yet ({}); trying again", runId, why);
                    }
                }
                if (stop == null && attempts.due()) {
                    stopMode = SIGNALLED.get() != null ? SIGNALLED.get() : now.stopRequest();
                    // The file is re-read at the progress pace, not at every poll.
                    boolean checkFile = System.nanoTime() - nextFileCheck >= 0;
                    if (checkFile) {
                        nextFileCheck = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROGRESS_EVERY_MS);
                    }
                    if (stopMode == null && checkFile && !ConnectionFile.stillEnabled(config)) {
                        stopMode = "DRAIN";
                        out.println("Connection " + config.name() + " was disabled in " + config.file() + ": draining the running sync");
                    }
                    if (stopMode != null) {
                        boolean drain = "DRAIN".equals(stopMode);
                        LOG.info("Sync run {} is stopping ({}), savepoint to {}", runId, drain ? "drain" : "no drain", config.sync().savepointDir());
                        out.println("Stopping sync " + runId + (drain ? " with drain: everything read is delivered first" : ": reading stops; requests in flight complete"));
                        stop = client.stopWithSavepoint(drain, config.sync().savepointDir(), SavepointFormatType.CANONICAL);
                    }
                }
                if (System.nanoTime() - lastProgress > TimeUnit.MILLISECONDS.toNanos(PROGRESS_EVERY_MS)) {
                    lastProgress = System.nanoTime();
                    out.println("  progress: read " + estimate.describe(Math.max(rowsReadSoFar(client), now.read()))
                            + "; as of the last checkpoint " + now.succeeded() + " delivered, " + now.failed() + " failed, " + now.invalid() + " invalid");
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
        estimate.cancel();
        String savepoint = savepointOf(stop);
        if (savepoint == null && restUrl != null && failure == null) {
            savepoint = new FlinkRest(restUrl).latestSavepointQuietly(jobId);
        }
        boolean drained = "DRAIN".equals(stopMode);
        if (failure != null) {
            ledger.finishRun(runId, RunStatus.FAILED, rootMessage(failure));
        } else if (ledger.run(runId).status() == RunStatus.RUNNING) {
            // The job ended without every split read to its end: it was stopped.
            String reason = drained ? "stopped with drain: everything read was delivered; the next sync continues from the ledger"
                    : savepoint != null ? "stopped; the next sync resumes from savepoint " + savepoint
                    : "stopped before every row was read; the next sync continues from the last committed position";
            ledger.markStopped(runId, drained ? null : savepoint, reason);
            LOG.info("Sync run {} stopped: {}", runId, reason);
        } else if (savepoint != null && stop != null) {
            LOG.info("Sync run {} finished before the stop took effect; savepoint {} is not needed", runId, savepoint);
        }
        SyncRun done = ledger.run(runId);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        String summary = String.format("Sync %s %s %s in %s: read %d, succeeded %d, failed %d, invalid %d",
                runId, done.type(), done.status(), HistoryCommand.formatDuration(took), done.read(), done.succeeded(),
                done.failed(), done.invalid());
        LOG.info("{}", summary);
        out.println(summary + (done.outcome() != null && done.status() != RunStatus.SUCCEEDED ? " (" + done.outcome() + ")" : ""));
        if (done.failed() + done.invalid() > 0) {
            out.println("  rows not delivered are listed in " + store.schema() + ".row_errors (run_id = '" + runId + "')");
        }
        switch (done.status()) {
            case SUCCEEDED:
                return 0;
            case PARTIAL:
                return EXIT_PARTIAL;
            case CANCELLED:
                return EXIT_STOPPED;
            default:
                return 1;
        }
    }

    /**
     * Rows the running job has read so far, from the mapping's accumulator (the cluster learns it
     * with each TaskManager heartbeat), or 0 when the job cannot say yet.
     */
    static long rowsReadSoFar(JobClient client) {
        try {
            Object n = client.getAccumulators().get(1, TimeUnit.SECONDS).get(io.backflow.mapping.MappingOperator.ROWS_READ_ACCUMULATOR);
            return n instanceof Number ? ((Number) n).longValue() : 0;
        } catch (Exception e) {
            return 0;
        }
    }

    static String savepointOf(CompletableFuture<String> stop) {
        if (stop == null) {
            return null;
        }
        try {
            return stop.get(1, TimeUnit.MINUTES);
        } catch (Exception e) {
            // A stop that raced the end of the job has no savepoint; the ledger tells what happened.
            return null;
        }
    }

    private static String restUrl(ReadableConfig conf, ConnectionConfig config) {
        if (config.sync().flinkRestUrl() != null) {
            return config.sync().flinkRestUrl();
        }
        String address = conf.getOptional(RestOptions.ADDRESS).orElse(null);
        return address == null ? null : "http://" + address + ":" + conf.get(RestOptions.PORT);
    }

    /**
     * What a user can act on, on one line: a destination configuration error anywhere in the
     * chain, otherwise the innermost cause.
     */
    public static String rootMessage(Throwable t) {
        Throwable innermost = t;
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String name = c.getClass().getSimpleName();
            if ((name.endsWith("ConfigurationException") || name.equals("DestinationUnavailableException")) && c.getMessage() != null) {
                return c.getMessage().replace('\n', ' ');
            }
            innermost = c;
        }
        String m = innermost.getMessage();
        return (m == null || m.isBlank() ? innermost.getClass().getSimpleName() : m).replace('\n', ' ');
    }
}
