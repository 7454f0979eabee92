package io.backflow.source.enumerator;

import io.backflow.source.split.WarehouseSplit;
import java.util.List;
import java.util.Objects;

/**
 * The enumerator's checkpoint: whether the current run was planned (then the high-water mark and
 * the splits not yet handed to a reader), so a restore neither re-plans nor re-announces the plan;
 * which run that is, and which run the job that wrote it started with. A continuous job reads one
 * run after another, so a restore must tell a failover inside the same job (go on with the
 * current run) from a new job started from a savepoint (whose own first run continues, or
 * replaces, the one in the savepoint).
 */
public final class WarehouseEnumeratorState {
    private final boolean planned;
    private final String highWaterMark;
    private final List<WarehouseSplit> unassigned;
    private final String runId;
    private final String jobRunId;

    public WarehouseEnumeratorState(boolean planned, String highWaterMark, List<WarehouseSplit> unassigned) {
        this(planned, highWaterMark, unassigned, null, null);
    }

    /**
     * @param runId the run being read (planned or not), or null in a state of version 1
     * @param jobRunId the run the writing job was started for, or null in a state of version 1
     */
    public WarehouseEnumeratorState(boolean planned, String highWaterMark, List<WarehouseSplit> unassigned, String runId, String jobRunId) {
        this.planned = planned;
        this.highWaterMark = highWaterMark;
        this.unassigned = List.copyOf(unassigned);
        this.runId = runId;
        this.jobRunId = jobRunId;
    }

    /** Before planning: a restore from this state plans the run. */
    public static WarehouseEnumeratorState unplanned() {
        return new WarehouseEnumeratorState(false, null, List.of());
    }

    public boolean planned() {
        return planned;
    }

    public String highWaterMark() {
        return highWaterMark;
    }

    public List<WarehouseSplit> unassigned() {
        return unassigned;
    }

    /** The run the enumerator was on, or null (version 1: the job's only run). */
    public String runId() {
        return runId;
    }

    /** The run the job that wrote this state was started for, or null (version 1). */
    public String jobRunId() {
        return jobRunId;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof WarehouseEnumeratorState)) {
            return false;
        }
        WarehouseEnumeratorState that = (WarehouseEnumeratorState) o;
        return planned == that.planned && Objects.equals(highWaterMark, that.highWaterMark) && unassigned.equals(that.unassigned)
                && Objects.equals(runId, that.runId) && Objects.equals(jobRunId, that.jobRunId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(planned, highWaterMark, unassigned, runId, jobRunId);
    }

    @Override
    public String toString() {
        return "WarehouseEnumeratorState{run=" + runId + ", planned=" + planned + ", unassigned=" + unassigned + "}";
    }
}
