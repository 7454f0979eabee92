package io.backflow.sink.http;

import io.backflow.sink.DeliveryCommittable;
import io.backflow.model.MarkRow;
import io.backflow.model.MarkRows;
import io.backflow.model.RowError;
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
 */
final class DeliveryProgress {
    // Task thread only.
    private long read;
    private long invalid;
    private final Map<String, String> positions = new LinkedHashMap<>();
    private final Set<String> finishedSplits = new LinkedHashSet<>();

    // Any thread.
    private final AtomicLong succeeded = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final ConcurrentLinkedQueue<RowError> errors = new ConcurrentLinkedQueue<>();
    private final MarkRows.Builder markRows = new MarkRows.Builder();

    void position(String splitId, String position) {
        positions.put(splitId, position);
    }

    void read() {
        read++;
    }

    void invalid(RowError error) {
        invalid++;
        errors.add(error);
    }

    void splitFinished(String splitId) {
        finishedSplits.add(splitId);
    }

    void delivered(int events) {
        succeeded.addAndGet(events);
    }

    /** The row was resolved (delivered or invalid) at its run's high-water mark. */
    void resolvedAtMark(MarkRow mark) {
        markRows.add(mark);
    }

    void failed(RowError error) {
        errors.add(error);
        failed.incrementAndGet();
    }

    /** Returns everything resolved so far and starts over. */
    DeliveryCommittable drain(String runId, int subtask, long commitId) {
        List<RowError> drained = new ArrayList<>();
        for (RowError e; (e = errors.poll()) != null; ) {
            drained.add(e);
        }
        MarkRows marks = markRows.drain();
        DeliveryCommittable c = new DeliveryCommittable(runId, subtask, commitId, read, succeeded.getAndSet(0),
                failed.getAndSet(0), invalid, positions, finishedSplits, drained, marks);
        read = 0;
        invalid = 0;
        positions.clear();
        finishedSplits.clear();
        return c;
    }
}
