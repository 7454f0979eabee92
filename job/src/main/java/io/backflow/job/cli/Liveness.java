package io.backflow.job.cli;

import io.backflow.ledger.SyncRun;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Tells whether a run the ledger calls RUNNING still runs: its Flink job per the cluster's REST
 * API when the run was submitted to a cluster, else whether the process that started it is alive.
 * A run whose process or job is gone was interrupted (a crash, a kill, a stop outside Backflow).
 */
final class Liveness {
    private Liveness() {}

    /**
     * The answer and what it was based on, for messages. {@code finishedJob} is true when Flink
     * reports the run's job FINISHED: a stop-with-savepoint that Backflow did not see.
     */
    record Verdict(boolean alive, String detail, boolean finishedJob, String restUrl) {
        Verdict(boolean alive, String detail) {
            this(alive, detail, false, null);
        }
    }

    /**
     * Records a RUNNING run whose process or job is gone: CANCELLED (with the job's last savepoint,
     * when Flink knows one) after a stop outside Backflow, FAILED otherwise.
     */
    static void recordEnded(io.backflow.ledger.Ledger ledger, SyncRun run, Verdict verdict) {
        if (verdict.finishedJob()) {
            String savepoint = new FlinkRest(verdict.restUrl()).latestSavepointQuietly(run.jobId());
            ledger.markStopped(run.id(), savepoint, "stopped outside Backflow (" + verdict.detail() + ")"
                    + (savepoint == null ? "" : "; savepoint " + savepoint));
        } else {
            ledger.finishRun(run.id(), io.backflow.ledger.RunStatus.FAILED, "ended without reporting: " + verdict.detail());
        }
    }

    /** Marks a client whose Flink cluster lives inside its own process ({@code serve}'s). */
    private static final String EMBEDDED = " embedded";
    /**
     * Marks the runs of a continuous job while it may still run; cleared when it ends
     * ({@link io.backflow.ledger.Ledger#endContinuousJob}). Between two runs no run is RUNNING, and
     * this is how {@code stop} and {@code sync} still find the job.
     */
    static final String CONTINUOUS = " continuous";

    /** This process, as the ledger's {@code client} column records it. */
    static String self(String restUrl) {
        return self(restUrl, false);
    }

    /**
     * @param embeddedCluster true when the cluster at {@code restUrl} runs inside this process, so
     *     the job cannot outlive it
     */
    static String self(String restUrl, boolean embeddedCluster) {
        return self(restUrl, embeddedCluster, false);
    }

    /** @param continuous true for a continuous job's runs (see {@link #CONTINUOUS}) */
    static String self(String restUrl, boolean embeddedCluster, boolean continuous) {
        return ProcessHandle.current().pid() + "@" + hostName() + (continuous ? CONTINUOUS : "") + (embeddedCluster ? EMBEDDED : "")
                + (restUrl == null ? "" : " rest=" + restUrl);
    }

    /** True when {@code run} belongs to a continuous job that has not reported its end. */
    static boolean continuousJob(SyncRun run) {
        String client = run.client();
        int rest = client == null ? -1 : client.indexOf(" rest=");
        return client != null && (rest < 0 ? client : client.substring(0, rest)).contains(CONTINUOUS) && run.jobId() != null;
    }

    static Verdict check(SyncRun run) {
        String client = run.client();
        if (client == null) {
            return new Verdict(false, "no client recorded");
        }
        int rest = client.indexOf(" rest=");
        boolean embedded = client.contains(EMBEDDED + " rest=") || client.endsWith(EMBEDDED);
        if (rest > 0 && run.jobId() != null && !embedded) {
            String url = client.substring(rest + 6);
            try {
                String state = new FlinkRest(url).jobState(run.jobId());
                boolean running = state != null && !FlinkRest.isTerminal(state);
                return new Verdict(running, "Flink job " + run.jobId() + " is " + (state == null ? "unknown to " + url : state),
                        "FINISHED".equals(state), url);
            } catch (Exception e) {
                // The job may well run on: a cluster we cannot ask is not a dead job, and a
                // second job over the same rows would deliver them twice.
                return new Verdict(true, "Flink job " + run.jobId() + " may still run: its cluster at " + url + " did not answer ("
                        + SyncCommand.rootMessage(e) + ")");
            }
        }
        // The process decides: a job on a cluster embedded in it ended with it.
        String head = (rest > 0 ? client.substring(0, rest) : client).replace(EMBEDDED, "").replace(CONTINUOUS, "");
        int at = head.indexOf('@');
        if (at > 0 && head.substring(at + 1).equals(hostName())) {
            try {
                long pid = Long.parseLong(head.substring(0, at));
                boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                return new Verdict(alive, "process " + pid + (alive ? " is running it" : " that ran it has ended"));
            } catch (NumberFormatException e) {
                return new Verdict(false, "unreadable client " + client);
            }
        }
        return new Verdict(true, "started on " + head + "; cannot check from here");
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
