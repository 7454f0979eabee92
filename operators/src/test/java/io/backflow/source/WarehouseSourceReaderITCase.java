package io.backflow.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.PositionCodec;
import io.backflow.source.reader.WarehouseSourceReader;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.testing.Databases;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.connector.testutils.source.reader.TestingReaderContext;
import org.apache.flink.connector.testutils.source.reader.TestingReaderOutput;
import org.apache.flink.core.io.InputStatus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader's checkpointed split state is exact per row: a reader restored from a snapshot taken
 * after k rows continues with row k+1, even inside a page and inside a run of equal cursors.
 */
class WarehouseSourceReaderITCase {
    @TempDir
    static Path dir;

    static JdbcEndpoint db;

    @BeforeAll
    static void createTable() {
        db = Databases.duckDb(dir, "reader");
        Databases.execute(db,
                "CREATE TABLE events (id BIGINT PRIMARY KEY, updated_at TIMESTAMP, name VARCHAR)",
                // 3000 rows, ids 1001..2500 all share one cursor value.
                "INSERT INTO events SELECT i, TIMESTAMP '2024-01-01' + (CASE WHEN i BETWEEN 1001 AND 2500 THEN 1500 ELSE i END) * INTERVAL '1 second', 'n' || i FROM range(1, 3001) g(i)");
    }

    static WarehouseSource source() {
        return WarehouseSource.builder()
                .endpoint(db)
                .table("events")
                .primaryKey(List.of("id"))
                .cursorColumn("updated_at")
                .syncType(SyncType.INCREMENTAL)
                .pageSize(400)
                .fetchSize(64)
                .runId("reader-test")
                .build();
    }

    /** Polls until {@code output} holds {@code count} records or the reader ends. */
    static InputStatus pollUntil(WarehouseSourceReader reader, TestingReaderOutput<SourceRow> output, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        InputStatus status = InputStatus.MORE_AVAILABLE;
        while (output.getEmittedRecords().size() < count && status != InputStatus.END_OF_INPUT) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("reader stalled at " + output.getEmittedRecords().size() + " records");
            }
            status = reader.pollNext(output);
            if (status == InputStatus.NOTHING_AVAILABLE) {
                reader.isAvailable().get(30, TimeUnit.SECONDS);
            }
        }
        return status;
    }

    @Test
    void restoredReaderContinuesRightAfterTheLastEmittedRow() throws Exception {
        WarehouseSource source = source();
        List<WarehouseSplit> planned = source.plan().splits();
        assertEquals(1, planned.size());

        List<String> positions = new ArrayList<>();
        List<WarehouseSplit> snapshot;
        // Stop after 1234 rows: inside the 4th page and inside the run of equal cursors.
        try (WarehouseSourceReader first = new WarehouseSourceReader(source.settings(), new TestingReaderContext())) {
            first.start();
            first.addSplits(planned);
            TestingReaderOutput<SourceRow> out = new TestingReaderOutput<>();
            pollUntil(first, out, 1234);
            snapshot = first.snapshotState(1);
            for (SourceRow row : out.getEmittedRecords()) {
                positions.add(row.position());
            }
            assertEquals(1234, first.metrics().rowsRead());
        }
        assertEquals(1, snapshot.size());
        assertEquals(positions.get(1233), snapshot.get(0).position());
        assertEquals(3000 - 1234, snapshot.get(0).estimatedRemaining());

        int endMarkers = 0;
        try (WarehouseSourceReader second = new WarehouseSourceReader(source.settings(), new TestingReaderContext())) {
            second.start();
            second.addSplits(snapshot);
            second.notifyNoMoreSplits();
            TestingReaderOutput<SourceRow> out = new TestingReaderOutput<>();
            assertEquals(InputStatus.END_OF_INPUT, pollUntil(second, out, Integer.MAX_VALUE));
            for (SourceRow row : out.getEmittedRecords()) {
                if (row.isSplitEnd()) {
                    endMarkers++;
                } else {
                    positions.add(row.position());
                }
            }
        }
        assertEquals(1, endMarkers);

        List<String> expected = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        for (long i = 1; i <= 3000; i++) {
            ids.add(i);
        }
        ids.sort((a, b) -> {
            long ca = a >= 1001 && a <= 2500 ? 1500 : a;
            long cb = b >= 1001 && b <= 2500 ? 1500 : b;
            return ca != cb ? Long.compare(ca, cb) : Long.compare(a, b);
        });
        for (long id : ids) {
            long c = id >= 1001 && id <= 2500 ? 1500 : id;
            expected.add(PositionCodec.encode(new Object[] {java.time.LocalDateTime.parse("2024-01-01T00:00").plusSeconds(c), id}));
        }
        assertEquals(expected, positions);
    }

    @Test
    void splitRestoredAfterItsEndMarkerEmitsNothing() throws Exception {
        WarehouseSource source = source();
        WarehouseSplit split = source.plan().splits().get(0);
        WarehouseSplit done = split.withProgress(PositionCodec.encode(new Object[] {java.time.LocalDateTime.parse("2024-01-01T00:50"), 3000L}), 0, true);

        try (WarehouseSourceReader reader = new WarehouseSourceReader(source.settings(), new TestingReaderContext())) {
            reader.start();
            reader.addSplits(List.of(done));
            reader.notifyNoMoreSplits();
            TestingReaderOutput<SourceRow> out = new TestingReaderOutput<>();
            assertEquals(InputStatus.END_OF_INPUT, pollUntil(reader, out, Integer.MAX_VALUE));
            assertTrue(out.getEmittedRecords().isEmpty());
            assertTrue(reader.snapshotState(2).isEmpty());
        }
    }

    @Test
    void emptyReaderAsksForASplitAndAgainAfterEachFinishedOne() throws Exception {
        WarehouseSource source = source();
        TestingReaderContext context = new TestingReaderContext();
        try (WarehouseSourceReader reader = new WarehouseSourceReader(source.settings(), context)) {
            reader.start();
            assertEquals(1, context.getNumSplitRequests());
            reader.addSplits(source.plan().splits());
            TestingReaderOutput<SourceRow> out = new TestingReaderOutput<>();
            pollUntil(reader, out, 3001);
            // Let the reader see the split finished.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (context.getNumSplitRequests() < 2 && System.nanoTime() < deadline) {
                if (reader.pollNext(out) == InputStatus.NOTHING_AVAILABLE) {
                    reader.isAvailable().get(30, TimeUnit.SECONDS);
                }
            }
            assertEquals(2, context.getNumSplitRequests());
            assertEquals(3000, new HashSet<>(out.getEmittedRecords().stream().filter(r -> !r.isSplitEnd()).map(SourceRow::position).toList()).size());
            SourceRow last = out.getEmittedRecords().get(3000);
            assertTrue(last.isSplitEnd());
            // The columns array is shared by every row of the split.
            assertTrue(out.getEmittedRecords().get(0).columns() == out.getEmittedRecords().get(2999).columns());
        }
    }
}
