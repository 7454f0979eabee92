package io.backflow.sink;

import io.backflow.model.MarkRows;
import io.backflow.model.RowError;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What one sink subtask resolved between two checkpoints: rows read, delivered, failed and
 * invalid, the last position reached per split, the splits read to their end and the rows that
 * were not delivered. The sink writer produces one only after every request it covers has been
 * answered, so committing it never moves the ledger past an unacknowledged row.
 *
 * <p>{@code (runId, subtask, checkpointId)} identifies it: the ledger applies each one once even
 * when Flink hands it to the committer again after a restore.
 */
public final class DeliveryCommittable implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String runId;
    private final int subtask;
    private final long checkpointId;
    private final long read;
    private final long succeeded;
    private final long failed;
    private final long invalid;
    private final Map<String, String> positions;
    private final Set<String> finishedSplits;
    private final List<RowError> errors;
    private final MarkRows markRows;
    private final String errorStage;
    private final long stagedErrors;

    public DeliveryCommittable(
            String runId,
            int subtask,
            long checkpointId,
            long read,
            long succeeded,
            long failed,
            long invalid,
            Map<String, String> positions,
            Set<String> finishedSplits,
            List<RowError> errors) {
        this(runId, subtask, checkpointId, read, succeeded, failed, invalid, positions, finishedSplits, errors, MarkRows.EMPTY);
    }

    /** @param markRows the rows resolved at the run's high-water mark (delivered or invalid) */
    public DeliveryCommittable(
            String runId,
            int subtask,
            long checkpointId,
            long read,
            long succeeded,
            long failed,
            long invalid,
            Map<String, String> positions,
            Set<String> finishedSplits,
            List<RowError> errors,
            MarkRows markRows) {
        this(runId, subtask, checkpointId, read, succeeded, failed, invalid, positions, finishedSplits, errors, markRows, null, 0);
    }

    /**
     * @param errorStage the {@link RowErrorStage} stage holding {@code stagedErrors} more row errors
     *     (rows 0 to stagedErrors - 1), or null when every error is in {@code errors}
     */
    public DeliveryCommittable(
            String runId,
            int subtask,
            long checkpointId,
            long read,
            long succeeded,
            long failed,
            long invalid,
            Map<String, String> positions,
            Set<String> finishedSplits,
            List<RowError> errors,
            MarkRows markRows,
            String errorStage,
            long stagedErrors) {
        if ((errorStage == null) != (stagedErrors == 0)) {
            throw new IllegalArgumentException("staged errors " + stagedErrors + " with stage " + errorStage);
        }
        this.errorStage = errorStage;
        this.stagedErrors = stagedErrors;
        this.runId = Objects.requireNonNull(runId);
        this.subtask = subtask;
        this.checkpointId = checkpointId;
        this.read = read;
        this.succeeded = succeeded;
        this.failed = failed;
        this.invalid = invalid;
        this.positions = new LinkedHashMap<>(positions);
        this.finishedSplits = new LinkedHashSet<>(finishedSplits);
        this.errors = new ArrayList<>(errors);
        this.markRows = Objects.requireNonNull(markRows, "markRows");
    }

    public String runId() { return runId; }
    public int subtask() { return subtask; }
    public long checkpointId() { return checkpointId; }
    public long read() { return read; }
    public long succeeded() { return succeeded; }
    public long failed() { return failed; }
    public long invalid() { return invalid; }
    /** Split id to the encoded position of the last resolved row of that split. */
    public Map<String, String> positions() { return positions; }
    public Set<String> finishedSplits() { return finishedSplits; }
    public List<RowError> errors() { return errors; }
    /** Rows resolved at the run's high-water mark: what the next run, which reads that value again, skips. */
    public MarkRows markRows() { return markRows; }
    /** The stage of the row errors not in {@link #errors()}, or null. */
    public String errorStage() { return errorStage; }
    /** How many row errors wait in {@link #errorStage()}. */
    public long stagedErrors() { return stagedErrors; }

    /** True when committing it would change nothing. */
    public boolean isEmpty() {
        return read == 0 && positions.isEmpty() && finishedSplits.isEmpty() && errors.isEmpty() && markRows.isEmpty() && stagedErrors == 0;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DeliveryCommittable)) {
            return false;
        }
        DeliveryCommittable that = (DeliveryCommittable) o;
        return subtask == that.subtask && checkpointId == that.checkpointId && read == that.read
                && succeeded == that.succeeded && failed == that.failed && invalid == that.invalid
                && runId.equals(that.runId) && positions.equals(that.positions)
                && finishedSplits.equals(that.finishedSplits) && errors.size() == that.errors.size()
                && markRows.equals(that.markRows) && Objects.equals(errorStage, that.errorStage) && stagedErrors == that.stagedErrors;
    }

    @Override
    public int hashCode() {
        return Objects.hash(runId, subtask, checkpointId, read);
    }

    @Override
    public String toString() {
        return "DeliveryCommittable{run=" + runId + ", subtask=" + subtask + ", checkpoint=" + checkpointId
                + ", read=" + read + ", succeeded=" + succeeded + ", failed=" + failed + ", invalid=" + invalid
                + ", positions=" + positions.keySet() + ", finished=" + finishedSplits + ", errors=" + errors.size() + (stagedErrors > 0 ? " (+" + stagedErrors + " staged)" : "") + ", markRows=" + markRows.size() + "}";
    }
}
