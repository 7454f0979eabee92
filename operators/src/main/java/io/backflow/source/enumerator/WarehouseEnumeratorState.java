package io.backflow.source.enumerator;

import io.backflow.source.split.WarehouseSplit;
import java.util.List;
import java.util.Objects;

/**
 * The enumerator's checkpoint: whether the run was planned (then the high-water mark and the
 * splits not yet handed to a reader), so a restore neither re-plans nor re-announces the plan.
 */
public final class WarehouseEnumeratorState {
    private final boolean planned;
    private final String highWaterMark;
    private final List<WarehouseSplit> unassigned;

    public WarehouseEnumeratorState(boolean planned, String highWaterMark, List<WarehouseSplit> unassigned) {
        this.planned = planned;
        this.highWaterMark = highWaterMark;
        this.unassigned = List.copyOf(unassigned);
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

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof WarehouseEnumeratorState)) {
            return false;
        }
        WarehouseEnumeratorState that = (WarehouseEnumeratorState) o;
        return planned == that.planned && Objects.equals(highWaterMark, that.highWaterMark) && unassigned.equals(that.unassigned);
    }

    @Override
    public int hashCode() {
        return Objects.hash(planned, highWaterMark, unassigned);
    }

    @Override
    public String toString() {
        return "WarehouseEnumeratorState{planned=" + planned + ", unassigned=" + unassigned + "}";
    }
}
