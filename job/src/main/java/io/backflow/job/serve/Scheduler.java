package io.backflow.job.serve;

import io.backflow.job.cli.StopCommand;
import io.backflow.job.cli.SyncCommand;
import io.backflow.job.config.ContinuousMode;
import io.backflow.job.config.ConnectionConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each connection of a directory on its schedule, and when triggered: never two runs of one
 * connection at once, at most {@code maxParallel} syncs at a time, and a schedule tick that passes
 * while its connection is running makes one run when it ends, however many ticks were missed.
 * Every run is an ordinary {@link SyncCommand} sync in this process, with its ledger, stop
 * requests and savepoints as from the command line.
 */
final class Scheduler {
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    /** Runs one sync; {@link SyncCommand#run(ConnectionConfig, boolean, PrintStream, java.util.function.Consumer)} in serve. */
    interface SyncRunner {
        int run(ConnectionConfig config, boolean fullResync, PrintStream out, java.util.function.Consumer<String> onRecorded);
    }

    private final ConnectionDirectory directory;
    private final SyncRunner runner;
    private final int maxParallel;
    private final PrintStream out;
    private final Clock clock;
    private final ExecutorService workers;
    private final Map<String, ConnectionState> connections = new LinkedHashMap<>();
    private final AtomicInteger stoppedRuns = new AtomicInteger();
    private int running;

    Scheduler(ConnectionDirectory directory, SyncRunner runner, int maxParallel, PrintStream out, Clock clock) {
        this.directory = directory;
        this.runner = runner;
        this.maxParallel = maxParallel;
        this.out = out;
        this.clock = clock;
        this.workers = Executors.newFixedThreadPool(maxParallel, r -> {
            Thread t = new Thread(r, "backflow-serve-sync");
            t.setDaemon(true);
            return t;
        });
    }

    /** Loads what changed in the directory; a changed schedule counts from now. */
    synchronized void reload() throws IOException {
        ConnectionDirectory.Changes changes = directory.scan();
        ZonedDateTime now = ZonedDateTime.now(clock);
        for (Path gone : changes.removed()) {
            connections.values().removeIf(s -> s.file.equals(gone) && !s.running && s.pending == null);
            print(null, "connection file " + gone + " was removed");
        }
        for (ConnectionDirectory.Loaded l : changes.loaded()) {
            String name = l.config() != null ? l.config().name() : l.file().getFileName().toString().replaceFirst("\\.ya?ml$", "");
            ConnectionState s = connections.computeIfAbsent(name, ConnectionState::new);
            if (l.config() != null && ContinuousMode.scheduled(l.config()) && ContinuousMode.problem(l.config()) != null) {
                l = new ConnectionDirectory.Loaded(l.file(), null, l.file() + ": " + ContinuousMode.problem(l.config()));
            }
            if (s.running && s.config != null && ContinuousMode.scheduled(s.config)) {
                // The job runs with the file as it was: stop it with a savepoint, and the next tick starts it anew.
                print(name, "file changed: the continuous sync stops with a savepoint and starts again with it");
                restart(s.config);
            }
            boolean newSchedule = s.config == null || l.config() == null || !s.config.schedule().toString().equals(l.config().schedule().toString());
            s.file = l.file();
            s.config = l.config();
            s.error = l.error();
            if (l.error() != null) {
                print(name, "not loaded, nothing runs until it is fixed: " + l.error());
                s.nextDue = null;
            } else if (newSchedule) {
                s.nextDue = s.config.schedule().nextAfter(now).orElse(null);
                print(name, "loaded from " + l.file() + ", schedule " + s.config.schedule()
                        + (s.nextDue == null ? "" : ", next run " + s.nextDue.toOffsetDateTime()));
            }
        }
    }

    /** Stops a running continuous sync with a savepoint, off the scheduler's thread (a stop waits for the savepoint). */
    private void restart(ConnectionConfig config) {
        Thread stopper = new Thread(() -> {
            try (PrintStream log = new PrintStream(new PrefixedLines(out, "[" + config.name() + "] "), true, java.nio.charset.StandardCharsets.UTF_8)) {
                StopCommand.stop(config, false, log);
            } catch (RuntimeException e) {
                print(config.name(), "could not stop the continuous sync: " + SyncCommand.rootMessage(e));
            }
        }, "backflow-serve-restart-" + config.name());
        stopper.setDaemon(true);
        stopper.start();
    }

    /** Starts the runs that are due or triggered, as far as free slots allow. */
    synchronized void tick() {
        if (SyncCommand.signalled()) {
            return;
        }
        ZonedDateTime now = ZonedDateTime.now(clock);
        for (ConnectionState s : connections.values()) {
            if (running >= maxParallel) {
                return;
            }
            if (s.running || s.config == null) {
                continue;
            }
            if (s.pending != null) {
                ConnectionState.Trigger t = s.pending;
                s.pending = null;
                start(s, t.fullResync(), t.runId());
            } else if (s.nextDue != null && !now.isBefore(s.nextDue)) {
                // The next tick counts from this start: ticks missed while a run went on make this one run.
                s.nextDue = s.config.schedule().nextAfter(now).orElse(null);
                if (s.config.enabled()) {
                    start(s, false, new CompletableFuture<>());
                }
            }
        }
    }

    /**
     * Asks for a run of {@code name} now; the future gets its run id once the ledger records it.
     *
     * @throws IllegalArgumentException for a connection this directory does not have
     * @throws IllegalStateException when it is running (the message names the run)
     */
    synchronized CompletableFuture<String> trigger(String name, boolean fullResync) {
        ConnectionState s = state(name);
        if (s.config == null) {
            throw new IllegalArgumentException("connection " + name + " did not load: " + s.error);
        }
        if (s.running || s.pending != null) {
            throw new IllegalStateException("connection " + name + " is already running" + (s.runningRun == null ? "" : " run " + s.runningRun));
        }
        s.pending = new ConnectionState.Trigger(fullResync, new CompletableFuture<>());
        CompletableFuture<String> id = s.pending.runId();
        tick();
        return id;
    }

    /** The connection called {@code name}. */
    synchronized ConnectionState state(String name) {
        ConnectionState s = connections.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no connection " + name + " in this directory");
        }
        return s;
    }

    /** A snapshot of every connection, for the API. */
    synchronized List<ConnectionState> all() {
        return new ArrayList<>(connections.values());
    }

    /** The configs of every loaded connection (to find a run's ledger). */
    synchronized List<ConnectionConfig> configs() {
        List<ConnectionConfig> out = new ArrayList<>();
        connections.values().forEach(s -> {
            if (s.config != null) {
                out.add(s.config);
            }
        });
        return out;
    }

    synchronized boolean idle() {
        return running == 0;
    }

    /** How many runs ended stopped (exit code 3) since serve started. */
    int stoppedRuns() {
        return stoppedRuns.get();
    }

    private void start(ConnectionState s, boolean fullResync, CompletableFuture<String> runId) {
        s.running = true;
        running++;
        ConnectionConfig config = s.config;
        workers.execute(() -> {
            int code = -1;
            try (PrintStream log = new PrintStream(new PrefixedLines(out, "[" + s.name + "] "), true, java.nio.charset.StandardCharsets.UTF_8)) {
                code = runner.run(config, fullResync, log, id -> {
                    synchronized (Scheduler.this) {
                        s.runningRun = id;
                    }
                    runId.complete(id);
                });
            } catch (RuntimeException e) {
                // Config, ledger or destination trouble: one line, as the sync command prints it.
                print(s.name, "sync failed: " + SyncCommand.rootMessage(e));
                runId.completeExceptionally(e);
                LOG.debug("sync of {} failed", s.name, e);
            } finally {
                runId.completeExceptionally(new IllegalStateException("the sync ended before its run was recorded"));
                if (code == SyncCommand.EXIT_STOPPED) {
                    stoppedRuns.incrementAndGet();
                }
                synchronized (Scheduler.this) {
                    s.running = false;
                    s.runningRun = null;
                    running--;
                }
                tick();
            }
        });
    }

    /** Waits for the running syncs (each stopping with a savepoint after a signal). */
    void awaitRunning(long timeout, TimeUnit unit) throws InterruptedException {
        workers.shutdown();
        workers.awaitTermination(timeout, unit);
    }

    private void print(String name, String line) {
        synchronized (out) {
            out.println((name == null ? "" : "[" + name + "] ") + line);
        }
    }
}
