package io.backflow.source;

import io.backflow.source.enumerator.SplitCounter;
import io.backflow.source.enumerator.SyncPlan;
import io.backflow.source.enumerator.SyncPlanner;
import io.backflow.source.enumerator.WarehouseEnumeratorState;
import io.backflow.source.enumerator.WarehouseEnumeratorStateSerializer;
import io.backflow.source.enumerator.WarehouseSplitEnumerator;
import io.backflow.source.reader.WarehouseSourceReader;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.split.WarehouseSplitSerializer;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Reads one sync run of a warehouse model (a table or a SQL query) over JDBC as a bounded FLIP-27
 * source of {@link SourceRow}s, with keyset pagination and per-row checkpointed positions, so a
 * stopped run resumes exactly after the last row it handed downstream.
 *
 * <p>FULL runs read every row whose key is not NULL (with a cursor: those with a cursor up to the
 * high-water mark or NULL), ordered by primary key; over a single integer key they can be cut into
 * parallel key ranges. INCREMENTAL runs read rows whose {@code (cursor, key...)} is after the
 * committed position and whose cursor is at most the high-water mark, which the enumerator fixes
 * once per run on the database clock (see {@link io.backflow.jdbc.SqlDialect#settledCursorPredicate}).
 * Rows in the same scope with a NULL in a key column are read by one extra split,
 * {@value io.backflow.source.split.WarehouseSplit#NULL_KEYS_ID}, planned only when there are any,
 * so the mapping reports them invalid. An INCREMENTAL run given
 * {@link WarehouseSourceBuilder#retryKeys} reads those rows again by primary key in one more split,
 * {@value io.backflow.source.split.WarehouseSplit#RETRY_KEYS_ID}, whatever their cursor. After a split's last row the reader emits
 * {@link SourceRow#splitEnd}. A stopped run can continue from the splits its ledger kept
 * ({@link WarehouseSourceBuilder#resumeSplits}) as well as from a savepoint.
 */
public final class WarehouseSource
        implements Source<SourceRow, WarehouseSplit, WarehouseEnumeratorState>, ResultTypeQueryable<SourceRow> {
    private static final long serialVersionUID = 1L;

    private final WarehouseSourceSettings settings;

    WarehouseSource(WarehouseSourceSettings settings) {
        this.settings = settings;
    }

    public static WarehouseSourceBuilder builder() {
        return new WarehouseSourceBuilder();
    }

    public WarehouseSourceSettings settings() {
        return settings;
    }

    @Override
    public Boundedness getBoundedness() {
        // A continuous job plans one run after another until it is stopped.
        return settings.continuous() ? Boundedness.CONTINUOUS_UNBOUNDED : Boundedness.BOUNDED;
    }

    @Override
    public SourceReader<SourceRow, WarehouseSplit> createReader(SourceReaderContext readerContext) {
        return new WarehouseSourceReader(settings, readerContext);
    }

    @Override
    public SplitEnumerator<WarehouseSplit, WarehouseEnumeratorState> createEnumerator(SplitEnumeratorContext<WarehouseSplit> context) {
        return restoreEnumerator(context, WarehouseEnumeratorState.unplanned());
    }

    @Override
    public SplitEnumerator<WarehouseSplit, WarehouseEnumeratorState> restoreEnumerator(
            SplitEnumeratorContext<WarehouseSplit> context, WarehouseEnumeratorState checkpoint) {
        SyncPlanner planner = new SyncPlanner(settings);
        // The first run's rows are counted after its splits are out (SplitCounter), not while planning;
        // a continuous job's later runs are small deltas, counted with their plan.
        SplitCounter counter = !settings.estimateRows() ? null : new SplitCounter() {
            @Override
            public Map<String, Long> count(List<WarehouseSplit> splits) throws Exception {
                return planner.count(splits);
            }

            @Override
            public void cancel() {
                planner.cancelCount();
            }
        };
        return new WarehouseSplitEnumerator(context, settings, () -> planner.plan(false), next -> new SyncPlanner(next, false).plan(),
                counter, checkpoint);
    }

    @Override
    public SimpleVersionedSerializer<WarehouseSplit> getSplitSerializer() {
        return WarehouseSplitSerializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<WarehouseEnumeratorState> getEnumeratorCheckpointSerializer() {
        return WarehouseEnumeratorStateSerializer.INSTANCE;
    }

    @Override
    public TypeInformation<SourceRow> getProducedType() {
        return TypeInformation.of(SourceRow.class);
    }

    /**
     * Plans this run now without reading it, for previews and progress ("rows read of the
     * estimated total"): the high-water mark the run would use, its splits and their row counts.
     * A later run plans again, on a later clock. A resumed source returns the splits it resumes.
     */
    public SyncPlan plan() throws SQLException {
        return new SyncPlanner(settings).plan();
    }

    /** The rows this run would read now, or -1 when row estimates are switched off. */
    public long estimateRows() throws SQLException {
        return plan().estimatedRows();
    }
}
