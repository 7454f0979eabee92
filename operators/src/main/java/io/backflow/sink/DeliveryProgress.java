package io.backflow.sink;

import io.backflow.jdbc.Position;
import io.backflow.model.MarkRow;
import io.backflow.model.MarkRows;
import io.backflow.model.RowError;
import io.backflow.model.SyncRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
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
 */
public final class DeliveryProgress {
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
    private final ConcurrentLinkedQueue<RowError> errors = new ConcurrentLinkedQueue<>();
    private final MarkRows.Builder markRows = new MarkRows.Builder();

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
        return read == 0 && invalid == 0 && positions.isEmpty() && finishedSplits.isEmpty() && succeeded.get() == 0 && failed.get() == 0
                && errors.isEmpty();
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

    public void failed(RowError error) {
        errors.add(error);
        failed.incrementAndGet();
    }

    /**
     * Returns everything resolved so far and starts over; the committable is for the run of the
     * records accepted, or {@code defaultRunId} when they named none.
     */
    public DeliveryCommittable drain(String defaultRunId, int subtask, long commitId) {
        String runId = this.runId != null ? this.runId : defaultRunId;
        List<RowError> drained = new ArrayList<>();
        for (RowError e; (e = errors.poll()) != null; ) {
            drained.add(e);
        }
        MarkRows marks = markRows.drain();
        Map<String, String> reached = new LinkedHashMap<>();
        positions.forEach((split, position) -> reached.put(split, Position.encoded(position)));
        DeliveryCommittable c = new DeliveryCommittable(runId, subtask, commitId, read, succeeded.getAndSet(0),
                failed.getAndSet(0), invalid, reached, finishedSplits, drained, marks);
        read = 0;
        invalid = 0;
        positions.clear();
        finishedSplits.clear();
        return c;
    }
}
