package io.backflow.job.serve;

import io.backflow.job.BadInputException;
import io.backflow.job.cli.SyncCommand;
import io.backflow.job.config.ConfigLoader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * {@code backflow serve --connections DIR}: a long-running process that syncs every connection
 * of a directory on its schedule, reloads files that change, and answers a small JSON API
 * ({@link ServeApi}). Ctrl-C or SIGTERM stops every running sync with a savepoint, as a stopped
 * {@code sync} does, and then exits with code 3 when any was stopped, else 0.
 */
public final class ServeCommand {
    /** The environment variable the API's bearer token comes from. */
    public static final String TOKEN_ENV = "BACKFLOW_SERVE_TOKEN";
    private static final long TICK_MS = 200;
    private static final long RELOAD_MS = 2_000;

    private ServeCommand() {}

    /**
     * @param listen {@code host:port} of the API (port 0: any free one)
     * @param token the API's bearer token, from {@link #TOKEN_ENV}
     */
    public static int run(Path dir, String listen, int maxParallel, String token, org.apache.flink.configuration.Configuration webUi,
            PrintStream out) {
        if (!Files.isDirectory(dir)) {
            throw new BadInputException("--connections: " + dir + " is not a directory");
        }
        if (token == null || token.length() < 16) {
            throw new BadInputException(TOKEN_ENV + ": set it to a secret of at least 16 characters; the API answers only requests that carry it"
                    + " (Authorization: Bearer ...)");
        }
        InetSocketAddress address = address(listen);
        try (SharedCluster cluster = SharedCluster.start(webUi, maxParallel)) {
            out.println("backflow serve: Flink dashboard on " + cluster.restUrl());
            Scheduler scheduler = new Scheduler(new ConnectionDirectory(dir, new ConfigLoader()),
                    // A schedule under a minute runs as one continuous job rather than one job per tick.
                    (config, fullResync, log, onRecorded) -> SyncCommand.run(config, fullResync,
                            io.backflow.job.config.ContinuousMode.scheduled(config), log, onRecorded, cluster.submitTo()), maxParallel,
                    out, Clock.systemDefaultZone());
            return serve(dir, address, token, maxParallel, scheduler, out);
        }
    }

    private static int serve(Path dir, InetSocketAddress address, String token, int maxParallel, Scheduler scheduler, PrintStream out) {
        try (ServeApi api = new ServeApi(address, token, scheduler)) {
            scheduler.reload();
            out.println("backflow serve: " + scheduler.all().size() + " connection(s) in " + dir + "; API on http://"
                    + api.address().getHostString() + ":" + api.address().getPort() + " (at most " + maxParallel + " syncs at a time)");
            long nextReload = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RELOAD_MS);
            while (!SyncCommand.signalled()) {
                if (System.nanoTime() - nextReload >= 0) {
                    scheduler.reload();
                    nextReload = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RELOAD_MS);
                }
                scheduler.tick();
                Thread.sleep(TICK_MS);
            }
            out.println("backflow serve: stopping; every running sync stops with a savepoint");
            // Each running sync sees the same signal and stops itself; a checkpoint timeout bounds it.
            scheduler.awaitRunning(15, TimeUnit.MINUTES);
            return scheduler.stoppedRuns() > 0 ? SyncCommand.EXIT_STOPPED : 0;
        } catch (IOException e) {
            throw new UncheckedIOException("serve: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private static InetSocketAddress address(String listen) {
        int colon = listen.lastIndexOf(':');
        if (colon <= 0 || !listen.substring(colon + 1).matches("[0-9]{1,5}") || Integer.parseInt(listen.substring(colon + 1)) > 65_535) {
            throw new BadInputException("--listen: '" + listen + "' is not host:port (for example 127.0.0.1:8090)");
        }
        return new InetSocketAddress(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)));
    }
}
