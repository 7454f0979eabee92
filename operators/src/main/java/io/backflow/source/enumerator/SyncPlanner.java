package io.backflow.source.enumerator;

import io.backflow.jdbc.JdbcValues;
import io.backflow.jdbc.PositionCodec;
import io.backflow.source.SyncType;
import io.backflow.source.WarehouseSourceSettings;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.sql.BoundQuery;
import io.backflow.source.sql.ModelColumns;
import io.backflow.source.sql.SplitSql;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import io.backflow.source.split.SplitKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Plans one sync run against the database, in one read-only transaction: fixes the high-water
 * mark on the database clock, cuts a FULL run over a single integer key into contiguous key
 * ranges, (optionally) counts the rows of each split, and counts the rows in scope with a NULL
 * key, adding the {@value WarehouseSplit#NULL_KEYS_ID} split when there are any. An INCREMENTAL run
 * with retry keys gets the {@value WarehouseSplit#RETRY_KEYS_ID} split last, even when it has no new
 * rows.
 */
public final class SyncPlanner {
    private final WarehouseSourceSettings settings;
    /** Whether an INCREMENTAL run counts the rows its cursor cannot place: NULL, or later than the clock. */
    private final boolean countCursorOutliers;
    /** The count query under way, for {@link #cancelCount}. */
    private volatile PreparedStatement counting;

    public SyncPlanner(WarehouseSourceSettings settings) {
        this(settings, true);
    }

    /**
     * @param countCursorOutliers false for a continuous job's later runs: each count can be a scan of the
     *     model, the first run already reported it, and a tick can come every second
     */
    public SyncPlanner(WarehouseSourceSettings settings, boolean countCursorOutliers) {
        this.settings = settings;
        this.countCursorOutliers = countCursorOutliers;
    }

    /**
     * The plan of this run: the given splits when the source resumes explicit splits (no query),
     * else a new plan from the database.
     */
    public SyncPlan plan() throws SQLException {
        return plan(settings.estimateRows());
    }

    /**
     * As {@link #plan()}, counting the rows of each split now only when {@code countRows}: the
     * split enumerator counts them after handing the splits out ({@link #count}), so the counts,
     * a scan of the model each, do not hold back the first row.
     */
    public SyncPlan plan(boolean countRows) throws SQLException {
        if (settings.resumeSplits() != null) {
            // The ledger's descriptors name the run that planned them; they are read for this one.
            return new SyncPlan(settings.resumeHighWaterMark(), ofThisRun(settings.resumeSplits()), -1);
        }
        try (Connection connection = settings.endpoint().open()) {
            settings.dialect().beginStreamingRead(connection);
            SplitSql sql = new SplitSql(settings, ModelColumns.describe(connection, settings));
            String highWaterMark = settings.cursorColumn() == null ? null : highWaterMark(connection, sql);
            List<WarehouseSplit> splits = new ArrayList<>();
            if (settings.syncType() == SyncType.INCREMENTAL) {
                if (highWaterMark != null) {
                    splits.add(marked(new WarehouseSplit("incremental-0", SyncType.INCREMENTAL, null, null, highWaterMark, settings.startAfter(), -1, false)));
                }
            } else {
                WarehouseSplit whole = new WarehouseSplit("full-0", SyncType.FULL, null, null, highWaterMark, settings.startAfter(), -1, false);
                splits.addAll(fullSplits(connection, sql, whole));
            }
            if (countRows) {
                List<WarehouseSplit> counted = new ArrayList<>();
                for (WarehouseSplit split : splits) {
                    long rows = queryLong(connection, sql.count(split));
                    counted.add(split.withProgress(split.position(), rows, false));
                }
                splits = counted;
            }
            long nullKeys = 0;
            // An INCREMENTAL run without a high-water mark has no cursor in scope, so no rows at all.
            if (!sql.keyNeverNull() && (settings.syncType() == SyncType.FULL || highWaterMark != null)) {
                WarehouseSplit nullKeySplit = marked(WarehouseSplit.nullKeys(settings.syncType(), highWaterMark, cursorAfter(), -1));
                nullKeys = queryLong(connection, sql.count(nullKeySplit));
                if (nullKeys > 0) {
                    splits.add(nullKeySplit.withProgress(null, nullKeys, false));
                }
            }
            if (!settings.retryKeys().isEmpty()) {
                // Its estimate is its key count, an upper bound: deleted keys yield no row.
                WarehouseSplit retry = marked(WarehouseSplit.retryKeys(settings.syncType(), highWaterMark, settings.retryKeys()));
                splits.add(settings.estimateRows() ? retry : retry.withProgress(null, -1, false));
            }
            long nullCursors = -1;
            if (countCursorOutliers && settings.syncType() == SyncType.INCREMENTAL && settings.cursorColumn() != null && !sql.cursorNeverNull()) {
                nullCursors = queryLong(connection, sql.countNullCursor());
            }
            return new SyncPlan(highWaterMark, ofThisRun(splits), nullKeys, nullCursors);
        }
    }

    /**
     * The rows in scope of each keyset split of {@code splits} whose estimate is not known yet, by
     * split id, and the rows with a cursor in the future ({@link #FUTURE_CURSORS}), in one
     * read-only transaction.
     */
    public Map<String, Long> count(List<WarehouseSplit> splits) throws SQLException {
        Map<String, Long> counts = new HashMap<>();
        try (Connection connection = settings.endpoint().open()) {
            settings.dialect().beginStreamingRead(connection);
            SplitSql sql = new SplitSql(settings, ModelColumns.describe(connection, settings));
            if (countCursorOutliers && settings.syncType() == SyncType.INCREMENTAL && settings.cursorColumn() != null) {
                // Rows dated after now wait for the clock; 'infinity' or 9999-12-31 are never read.
                // Counted here, after reading began: without an index on the cursor it is a scan.
                BoundQuery future = sql.countFutureCursors();
                if (future != null) {
                    counts.put(FUTURE_CURSORS, queryLong(connection, future));
                }
            }
            for (WarehouseSplit split : splits) {
                if (split.kind() == SplitKind.KEYSET && split.estimatedRemaining() < 0 && !split.isFinished()) {
                    counts.put(split.splitId(), queryLong(connection, sql.count(split)));
                }
            }
        }
        return counts;
    }

    /**
     * The key of {@link #count}'s result that holds, for an INCREMENTAL run with a date or
     * timestamp cursor, the rows whose cursor is later than the database's clock (no split id).
     */
    public static final String FUTURE_CURSORS = "\u0000rows-with-future-cursor";

    /** Cancels the count query under way, if any (see {@link SplitCounter#cancel}). */
    public void cancelCount() {
        PreparedStatement running = counting;
        if (running != null) {
            try {
                running.cancel();
            } catch (SQLException e) {
                // The count only fed an estimate.
            }
        }
    }

    /** The splits, each carrying this run's id: a continuous job's rows say which run they belong to. */
    private List<WarehouseSplit> ofThisRun(List<WarehouseSplit> splits) {
        List<WarehouseSplit> out = new ArrayList<>(splits.size());
        for (WarehouseSplit split : splits) {
            out.add(split.withRunId(settings.runId()));
        }
        return out;
    }

    /** The split with the run's start mark, if it has one. */
    private WarehouseSplit marked(WarehouseSplit split) {
        return settings.startMark() == null ? split : split.withStartMark(settings.startMark());
    }

    /** INCREMENTAL: the cursor of the position the run starts after, as a one-value position. */
    private String cursorAfter() {
        if (settings.syncType() != SyncType.INCREMENTAL || settings.startAfter() == null) {
            return null;
        }
        return PositionCodec.encode(new Object[] {PositionCodec.decode(settings.startAfter())[0]});
    }

    private String highWaterMark(Connection connection, SplitSql sql) throws SQLException {
        BoundQuery query = sql.maxSettledCursor(settings.syncType() == SyncType.INCREMENTAL && settings.resumeSplits() == null ? settings.startMark() : null);
        try (PreparedStatement ps = query.prepare(connection, settings.dialect(), 0);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            Object max = JdbcValues.read(rs, 1, JdbcValues.columnTypes(rs.getMetaData())[0]);
            return max == null ? null : PositionCodec.encode(new Object[] {max});
        }
    }

    private List<WarehouseSplit> fullSplits(Connection connection, SplitSql sql, WarehouseSplit whole) throws SQLException {
        if (settings.splits() <= 1 || whole.position() != null || !sql.hasSingleIntegerKey()) {
            return List.of(whole);
        }
        Long min;
        Long max;
        BoundQuery query = sql.keyRange(whole);
        try (PreparedStatement ps = query.prepare(connection, settings.dialect(), 0);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            long lo = rs.getLong(1);
            min = rs.wasNull() ? null : lo;
            long hi = rs.getLong(2);
            max = rs.wasNull() ? null : hi;
        }
        if (min == null || max == null) {
            return List.of(whole);
        }
        return ranges(min, max, settings.splits(), whole);
    }

    /**
     * Cuts {@code [min, max]} into at most {@code desired} non-empty contiguous ranges. The first
     * range is open below and the last open above, so rows committed after planning outside
     * {@code [min, max]} are still read by some split.
     */
    static List<WarehouseSplit> ranges(long min, long max, int desired, WarehouseSplit whole) {
        BigInteger total = BigInteger.valueOf(max).subtract(BigInteger.valueOf(min)).add(BigInteger.ONE);
        int n = total.compareTo(BigInteger.valueOf(desired)) < 0 ? total.intValueExact() : desired;
        List<WarehouseSplit> out = new ArrayList<>(n);
        Long start = null;
        for (int i = 0; i < n; i++) {
            Long end = i == n - 1
                    ? null
                    : BigInteger.valueOf(min).add(total.multiply(BigInteger.valueOf(i + 1)).divide(BigInteger.valueOf(n))).longValueExact();
            out.add(new WarehouseSplit("full-" + i, SyncType.FULL, start, end, whole.highWaterMark(), null, -1, false));
            start = end;
        }
        return out;
    }

    /** A one-number query (a count or a scan), cancellable by {@link #cancelCount} while it runs. */
    private long queryLong(Connection connection, BoundQuery query) throws SQLException {
        try (PreparedStatement ps = query.prepare(connection, settings.dialect(), 0)) {
            counting = ps;
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } finally {
            counting = null;
        }
    }
}
