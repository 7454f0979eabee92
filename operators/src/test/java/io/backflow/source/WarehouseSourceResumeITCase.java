package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.source.enumerator.SyncPlan;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.split.WarehouseSplitSerializer;
import io.backflow.testing.Databases;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A stopped run continues from the split descriptors a ledger kept, without a savepoint: finished
 * splits are not read, the others continue strictly after their positions, and the plan listener
 * is told every split once.
 *
 * <p>Table {@code items} (no key constraint): ids 1..3000 with cursor {@code BASE + c s}, where
 * c = id except ids 1001..2500, which share c = 1500; five rows with a NULL id and cursors
 * {@code BASE + 10..14 s}, names {@code n1..n5}.
 */
class WarehouseSourceResumeITCase {
    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path dir;

    static final LocalDateTime BASE = LocalDateTime.parse("2024-01-01T00:00:00");
    static final List<String> PLANS = new CopyOnWriteArrayList<>();
    static JdbcEndpoint postgres;
    static JdbcEndpoint duckdb;

    @BeforeAll
    static void createTables() {
        postgres = Databases.newPostgresDatabase("resume");
        duckdb = Databases.duckDb(dir, "resume");
        for (JdbcEndpoint db : List.of(postgres, duckdb)) {
            String series = db == postgres ? "generate_series(1, 3000) AS g(i)" : "range(1, 3001) AS g(i)";
            String nulls = db == postgres ? "generate_series(1, 5) AS g(i)" : "range(1, 6) AS g(i)";
            Databases.execute(db,
                    "CREATE TABLE items (id BIGINT, name VARCHAR(20), updated_at TIMESTAMP)",
                    "INSERT INTO items SELECT i, 'i' || i, TIMESTAMP '2024-01-01 00:00:00' + "
                            + "(CASE WHEN i BETWEEN 1001 AND 2500 THEN 1500 ELSE i END) * INTERVAL '1 second' FROM " + series,
                    "INSERT INTO items SELECT NULL, 'n' || i, TIMESTAMP '2024-01-01 00:00:00' + (9 + i) * INTERVAL '1 second' FROM " + nulls);
        }
    }

    static Stream<String> databases() {
        return Stream.of("postgres", "duckdb");
    }

    static JdbcEndpoint db(String name) {
        return name.equals("postgres") ? postgres : duckdb;
    }

    static WarehouseSourceBuilder items(String database, SyncType type) {
        return WarehouseSource.builder()
                .endpoint(db(database))
                .table("items")
                .primaryKey(List.of("id"))
                .cursorColumn("updated_at")
                .syncType(type)
                .splits(3)
                .pageSize(200)
                .fetchSize(50)
                .runId("resume-" + database)
                .planListener((run, hwm, splits) -> {
                    List<String> described = new ArrayList<>();
                    for (WarehouseSplit split : splits) {
                        described.add(WarehouseSplitSerializer.toBase64(split));
                    }
                    PLANS.add(run + " " + hwm + " " + described);
                });
    }

    /** What a ledger does: keep the descriptor, later move it to the committed position. */
    static WarehouseSplit stored(WarehouseSplit planned, String committedPosition, boolean finished) {
        return WarehouseSplitSerializer.fromBase64(WarehouseSplitSerializer.toBase64(planned)).withProgress(committedPosition, -1, finished);
    }

    static WarehouseSplit byId(SyncPlan plan, String id) {
        return plan.splits().stream().filter(s -> s.splitId().equals(id)).findFirst().orElseThrow();
    }

    static String announced(String run, String hwm, List<WarehouseSplit> splits) {
        List<String> described = new ArrayList<>();
        for (WarehouseSplit split : splits) {
            described.add(WarehouseSplitSerializer.toBase64(split));
        }
        return run + " " + hwm + " " + described;
    }

    static LocalDateTime cursorOf(long id) {
        return BASE.plusSeconds(id >= 1001 && id <= 2500 ? 1500 : id);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void fullRunResumesRangeSplitsMidRangeAndSkipsFinishedOnes(String database) throws Exception {
        SyncPlan plan = items(database, SyncType.FULL).build().plan();
        assertEquals(List.of("full-0", "full-1", "full-2", WarehouseSplit.NULL_KEYS_ID),
                plan.splits().stream().map(WarehouseSplit::splitId).toList());
        assertEquals(1001L, byId(plan, "full-0").rangeEnd());
        assertEquals(2001L, byId(plan, "full-1").rangeEnd());

        List<WarehouseSplit> resumed = List.of(
                stored(byId(plan, "full-0"), PositionCodec.encode(new Object[] {1000L}), true),
                stored(byId(plan, "full-1"), PositionCodec.encode(new Object[] {1500L}), false),
                stored(byId(plan, "full-2"), PositionCodec.encode(new Object[] {2700L}), false),
                stored(byId(plan, WarehouseSplit.NULL_KEYS_ID), WarehouseSplit.rowsEmittedPosition(2), false));
        PLANS.clear();
        WarehouseSource source = items(database, SyncType.FULL).resumeSplits(plan.highWaterMark(), resumed).build();
        Collected got = Collected.run(source, 2);

        List<String> ids = new ArrayList<>();
        List<String> nullKeyNames = new ArrayList<>();
        for (var row : got.rows()) {
            String[] values = row.f3.split("\\|", -1);
            if (row.f0.equals(WarehouseSplit.NULL_KEYS_ID)) {
                nullKeyNames.add(values[1]);
            } else {
                ids.add(values[0]);
            }
        }
        List<String> expected = new ArrayList<>();
        for (long id = 1501; id <= 2000; id++) {
            expected.add(String.valueOf(id));
        }
        for (long id = 2701; id <= 3000; id++) {
            expected.add(String.valueOf(id));
        }
        assertEquals(ids.size(), new HashSet<>(ids).size(), "a row was emitted twice");
        assertEquals(new HashSet<>(expected), new HashSet<>(ids));
        assertEquals(expected.size(), ids.size());
        // The null-keys split skips the two rows it had emitted (cursor order: n1, n2).
        assertEquals(List.of("n3", "n4", "n5"), nullKeyNames);
        assertEquals(Map.of("full-1", 1, "full-2", 1, WarehouseSplit.NULL_KEYS_ID, 1), got.splitEnds());
        assertEquals(List.of(announced("resume-" + database, plan.highWaterMark(), resumed)), PLANS);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void incrementalRunResumesInsideARunOfEqualCursors(String database) throws Exception {
        SyncPlan plan = items(database, SyncType.INCREMENTAL).build().plan();
        assertEquals(List.of("incremental-0", WarehouseSplit.NULL_KEYS_ID), plan.splits().stream().map(WarehouseSplit::splitId).toList());
        assertEquals(PositionCodec.encode(new Object[] {BASE.plusSeconds(3000)}), plan.highWaterMark());

        // Stopped after id 1700, inside the 1500 rows that share one cursor; null-key rows all done.
        String committed = PositionCodec.encode(new Object[] {cursorOf(1700), 1700L});
        List<WarehouseSplit> resumed = List.of(
                stored(byId(plan, "incremental-0"), committed, false),
                stored(byId(plan, WarehouseSplit.NULL_KEYS_ID), WarehouseSplit.rowsEmittedPosition(5), true));
        PLANS.clear();
        Collected got = Collected.run(items(database, SyncType.INCREMENTAL).resumeSplits(plan.highWaterMark(), resumed).build(), 2);

        List<String> expected = new ArrayList<>();
        for (long id = 1701; id <= 3000; id++) {
            expected.add(PositionCodec.encode(new Object[] {cursorOf(id), id}));
        }
        assertEquals(expected, got.positions());
        assertFalse(got.splitIds().contains(WarehouseSplit.NULL_KEYS_ID));
        assertEquals(Map.of("incremental-0", 1), got.splitEnds());
        assertEquals(List.of(announced("resume-" + database, plan.highWaterMark(), resumed)), PLANS);
    }
}
