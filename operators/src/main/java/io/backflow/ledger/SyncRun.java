package io.backflow.ledger;

import java.time.Instant;

/** One sync run of a connection as the ledger records it, counts included. */
public final class SyncRun {
    private final String id;
    private final String connection;
    private final String type;
    private final RunStatus status;
    private final Instant startedAt;
    private final Instant finishedAt;
    private final String startPosition;
    private final String highWaterMark;
    private final long read;
    private final long succeeded;
    private final long failed;
    private final long invalid;
    private final String jobId;
    private final String reason;
    private final String resumedFrom;
    private final String savepoint;
    private final String client;
    private final String stopRequest;
    private final Integer plannedSplits;
    private final String fingerprint;
    private final io.backflow.diff.DeltaTable delta;
    private final String outcome;
    private final boolean completed;

    public SyncRun(String id, String connection, String type, RunStatus status, Instant startedAt, Instant finishedAt,
            String startPosition, String highWaterMark, long read, long succeeded, long failed, long invalid,
            String jobId, String reason, String resumedFrom, String savepoint, String client, String stopRequest,
            Integer plannedSplits, String fingerprint, io.backflow.diff.DeltaTable delta, String outcome, boolean completed) {
        this.id = id;
        this.connection = connection;
        this.type = type;
        this.status = status;
        this.startedAt = startedAt;
        this.finishedAt = finishedAt;
        this.startPosition = startPosition;
        this.highWaterMark = highWaterMark;
        this.read = read;
        this.succeeded = succeeded;
        this.failed = failed;
        this.invalid = invalid;
        this.jobId = jobId;
        this.reason = reason;
        this.resumedFrom = resumedFrom;
        this.savepoint = savepoint;
        this.client = client;
        this.stopRequest = stopRequest;
        this.plannedSplits = plannedSplits;
        this.fingerprint = fingerprint;
        this.delta = delta;
        this.outcome = outcome;
        this.completed = completed;
    }

    public String id() { return id; }
    public String connection() { return connection; }
    /** {@code FULL} or {@code INCREMENTAL}. */
    public String type() { return type; }
    public RunStatus status() { return status; }
    public Instant startedAt() { return startedAt; }
    public Instant finishedAt() { return finishedAt; }
    /** The committed position the run started after, or null for a run that read everything. */
    public String startPosition() { return startPosition; }
    public String highWaterMark() { return highWaterMark; }
    public long read() { return read; }
    public long succeeded() { return succeeded; }
    public long failed() { return failed; }
    public long invalid() { return invalid; }
    public String jobId() { return jobId; }
    /** Why the run has its type (why FULL, what it resumes); null when there is nothing to say. */
    public String reason() { return reason; }

    /** Why the run ended as it did (failed, stopped, some rows not delivered), or null. */
    public String outcome() { return outcome; }

    /**
     * True when every planned split was read to its end and every row resolved, so the connection's
     * position moved on: a SUCCEEDED or PARTIAL run, or a FAILED one whose rows the destination all
     * refused. Such a run is never resumed; its failed rows are retried by key.
     */
    public boolean completed() { return completed || status == RunStatus.SUCCEEDED; }

    /** The run this one continues after a stop or failure, or null. */
    public String resumedFrom() { return resumedFrom; }
    /** The savepoint a stopped run left behind, or null. */
    public String savepoint() { return savepoint; }
    /** Who runs it: {@code embedded:pid@host} or {@code flink:<rest url>}. */
    public String client() { return client; }
    /** {@code STOP} or {@code DRAIN} once someone asked the run to stop; null otherwise. */
    public String stopRequest() { return stopRequest; }
    /** How many splits the source planned, or null before it planned. */
    public Integer plannedSplits() { return plannedSplits; }

    /** What the connection's mapping, model and column types were when the run started (JSON), or null. */
    public String fingerprint() { return fingerprint; }

    /** True when every row read is accounted for as delivered, failed or invalid. */
    public boolean reconciles() {
        return read == succeeded + failed + invalid;
    }

    @Override
    public String toString() {
        return id + " " + type + " " + status + " read=" + read + " succeeded=" + succeeded + " failed=" + failed + " invalid=" + invalid;
    }

    /** The delta table a diff run reads (shared with the runs that resume it), or null for cursor runs. */
    public io.backflow.diff.DeltaTable delta() { return delta; }
}
