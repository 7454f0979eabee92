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

    public SyncRun(String id, String connection, String type, RunStatus status, Instant startedAt, Instant finishedAt,
            String startPosition, String highWaterMark, long read, long succeeded, long failed, long invalid,
            String jobId, String reason) {
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
    /** Why the run is FULL, failed or was stopped; null when there is nothing to say. */
    public String reason() { return reason; }

    /** True when every row read is accounted for as delivered, failed or invalid. */
    public boolean reconciles() {
        return read == succeeded + failed + invalid;
    }

    @Override
    public String toString() {
        return id + " " + type + " " + status + " read=" + read + " succeeded=" + succeeded + " failed=" + failed + " invalid=" + invalid;
    }
}
