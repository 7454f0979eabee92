package io.backflow.sink;

import io.backflow.jdbc.Position;
import io.backflow.model.MarkRow;
import io.backflow.model.MarkRows;
import io.backflow.model.RowError;
import io.backflow.model.SyncRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a writer resolved since its last committable. Reads, invalid rows, positions and finished
 * splits are recorded by the task thread; deliveries and failures arrive from HTTP threads, hence
 * the atomics. {@link #drain} is only called once every request has been answered, so the counts
 * it returns balance: {@code read == succeeded + failed + invalid}.
 *
 * <p>Everything it holds belongs to one run. A continuous job reads one run after another, but
 * plans a run only once the previous one is committed, so by the time a record of the next run
 * arrives the previous run's progress has been drained; {@link #accept} checks that.
 *
 * <p>Row errors are held only up to {@value #STAGE_AT}: beyond that the task thread moves them to
 * the {@link RowErrorStage} (when there is one), and a drain that finds more than
 * {@value #KEEP_IN_COMMITTABLE} stages them too, so neither the heap nor the checkpointed
 * committable grows with the number of bad rows (a sync of 2M invalid rows ran out of its 1 GB
 * heap when every error rode in the committable).
 */
public final class DeliveryProgress {
    /** Errors held before the task thread stages them. */
    static final int STAGE_AT = 10_000;
    /** Errors a committable carries itself; more are staged at the drain. */
    static final int KEEP_IN_COMMITTABLE = 1_000;

    // Task thread only.
    /** The run of the records accepted since the last drain, or null: the writer's own run. */
    private String runId;
    private long read;
    private long invalid;
    private final Map<String, Position> positions = new LinkedHashMap<>();
    private final Set<String> finishedSplits = new LinkedHashSet<>();

    // Any thread.
    private final AtomicLong succeeded = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    /** Rows the destination's API cannot express (counted invalid), from whichever thread built the requests. */
    private final AtomicLong unsendable = new AtomicLong();
    private final ConcurrentLinkedQueue<RowError> errors = new ConcurrentLinkedQueue<>();
    /** The queue's length: ConcurrentLinkedQueue.size() walks the whole queue. */
    private final AtomicInteger held = new AtomicInteger();
    private final MarkRows.Builder markRows = new MarkRows.Builder();

    // Task thread only: the stage of the errors since the last drain.
    private final RowErrorStage stage;
    /** The writer's own run: staged rows are filed under it when the records named none. */
    private final String ownRunId;
    /** Unique per writer instance, so a restored writer never stages into a stage a committable names. */
    private final String writerId = java.util.UUID.randomUUID().toString();
    private long period;
    private long staged;

    /** Keeps every row error in the committable: for writers without durable storage. */
    public DeliveryProgress() {
        this(null, null);
    }

    /**
     * @param stage where row errors beyond {@value #STAGE_AT} go, or null to keep them all
     * @param ownRunId the writer's run, for records that name none
     */
    public DeliveryProgress(RowErrorStage stage, String ownRunId) {
        this.stage = stage;
        this.ownRunId = ownRunId;
    }

    /**
     * Records what {@code record} resolves by itself (its position, a read, an invalid row, a
     * finished split) and returns true when it is an event for the destination to take; an event
     * over {@code maxEventBytes} is recorded invalid instead, because the mapper should have caught
     * it and a destination would fail the whole task on it.
     */
    public boolean accept(SyncRecord record, long maxEventBytes) {
        run(record.runId());
        // The row's position counts as reached: by the time it is committed (after the flush
        // that precedes every committable) the row is resolved.
        position(record.splitId(), record.positionValue());
        switch (record.kind()) {
            case EVENT:
                read();
                if (record.payload() != null && record.payload().length <= maxEventBytes) {
                    return true;
                }
                invalid(new RowError(RowError.Kind.INVALID, record.key(), record.messageId(),
                        "event is " + (record.payload() == null ? "empty" : record.payload().length + " bytes")
                                + ", over the destination's limit of " + maxEventBytes + " bytes", record.keyPosition()));
                break;
            case INVALID:
                read();
                invalid(new RowError(RowError.Kind.INVALID, record.key(), null, record.reason(), record.keyPosition()));
                break;
            case SPLIT_END:
                splitFinished(record.splitId());
                return false;
            default:
                throw new IllegalArgumentException("Unknown record kind " + record.kind());
        }
        if (record.mark() != null) {
            resolvedAtMark(record.mark());
        }
        return false;
    }

    /**
     * Stages the held errors once there are {@value #STAGE_AT} of them; task thread only (the
     * writer calls it for every record, so errors from HTTP threads are staged at the next one).
     */
    public void stageIfMany() throws IOException {
        if (stage != null && held.get() >= STAGE_AT) {
            stageHeld();
        }
    }

    private void stageHeld() throws IOException {
        List<RowError> batch = new ArrayList<>();
        for (RowError e; (e = errors.poll()) != null; ) {
            held.decrementAndGet();
            batch.add(e);
        }
        if (!batch.isEmpty()) {
            stage.write(runId != null ? runId : ownRunId, stageId(), staged, batch);
            staged += batch.size();
        }
    }

    private String stageId() {
        return writerId + "/" + period;
    }

    /**
     * The records from now on belong to {@code run} (null: the writer's own run).
     *
     * @throws IllegalStateException when the previous run still has progress to commit: two runs
     *     never overlap, so that would be a bug, and mixing their counts would corrupt the ledger
     */
    public void run(String run) {
        if (run == null || run.equals(runId)) {
            return;
        }
        if (runId != null && !isEmpty()) {
            throw new IllegalStateException("a record of sync run " + run + " arrived while run " + runId + " still has progress to commit");
        }
        runId = run;
    }

    private boolean isEmpty() {
        return read == 0 && invalid == 0 && unsendable.get() == 0 && positions.isEmpty() && finishedSplits.isEmpty() && succeeded.get() == 0
                && failed.get() == 0
                && errors.isEmpty() && staged == 0;
    }

    public void position(String splitId, String position) {
        position(splitId, Position.ofEncoded(position));
    }

    /** The split reached {@code position}; encoded only at {@link #drain}, once per split. */
    public void position(String splitId, Position position) {
        positions.put(splitId, position);
    }

    public void read() {
        read++;
    }

    public void invalid(RowError error) {
        invalid++;
        errors.add(error);
        held.incrementAndGet();
    }

    public void splitFinished(String splitId) {
        finishedSplits.add(splitId);
    }

    public void delivered(int events) {
        succeeded.addAndGet(events);
    }

    /** The row was resolved (delivered or invalid) at its run's high-water mark. */
    public void resolvedAtMark(MarkRow mark) {
        markRows.add(mark);
    }

    /**
     * The destination cannot take the row as it is (an API that names users by email, and the row
     * has none): invalid, as a row the mapping refuses, and not retried until the row changes.
     * Sending it again unchanged cannot succeed, and as a failure it would hold a place in the
     * next sync's retry list that a row the destination refused for a passing reason needs.
     */
    public void unsendable(RowError error) {
        errors.add(error);
        held.incrementAndGet();
        unsendable.incrementAndGet();
    }

    public void failed(RowError error) {
        errors.add(error);
        held.incrementAndGet();
        failed.incrementAndGet();
    }

    /**
     * Returns everything resolved so far and starts over; the committable is for the run of the
     * records accepted, or {@code defaultRunId} when they named none.
     *
     * @throws IOException when errors had to be staged and the stage could not take them
     */
    public DeliveryCommittable drain(String defaultRunId, int subtask, long commitId) throws IOException {
        String runId = this.runId != null ? this.runId : defaultRunId;
        if (stage != null && (staged > 0 || held.get() > KEEP_IN_COMMITTABLE)) {
            stageHeld();
        }
        List<RowError> drained = new ArrayList<>();
        for (RowError e; (e = errors.poll()) != null; ) {
            held.decrementAndGet();
            drained.add(e);
        }
        MarkRows marks = markRows.drain();
        Map<String, String> reached = new LinkedHashMap<>();
        positions.forEach((split, position) -> reached.put(split, Position.encoded(position)));
        DeliveryCommittable c = new DeliveryCommittable(runId, subtask, commitId, read, succeeded.getAndSet(0),
                failed.getAndSet(0), invalid + unsendable.getAndSet(0), reached, finishedSplits, drained, marks, staged == 0 ? null : stageId(), staged);
        staged = 0;
        period++;
        read = 0;
        invalid = 0;
        positions.clear();
        finishedSplits.clear();
        return c;
    }
}
