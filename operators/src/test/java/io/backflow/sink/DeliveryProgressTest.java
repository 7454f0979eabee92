package io.backflow.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.model.RowError;
import io.backflow.model.SyncRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A writer holds a bounded number of row errors: beyond {@link DeliveryProgress#STAGE_AT} they go
 * to the stage, and a committable carries at most {@link DeliveryProgress#KEEP_IN_COMMITTABLE}
 * itself; the counts still reconcile and the staged rows are numbered without gaps.
 */
class DeliveryProgressTest {
    /** Remembers what was staged, checking that each stage's rows arrive numbered 0, 1, 2, ... */
    static final class RecordingStage implements RowErrorStage {
        final java.util.Map<String, List<RowError>> stages = new java.util.LinkedHashMap<>();
        IOException failWith;

        @Override
        public void write(String runId, String stage, long firstSeq, List<RowError> errors) throws IOException {
            if (failWith != null) {
                throw failWith;
            }
            List<RowError> rows = stages.computeIfAbsent(stage, s -> new ArrayList<>());
            assertEquals(rows.size(), firstSeq, "rows of stage " + stage + " are numbered without gaps");
            rows.addAll(errors);
        }

        @Override
        public void close() {}
    }

    private static SyncRecord invalidRow(long id) {
        return SyncRecord.invalid("split-0", "[[\"long\"," + id + "]]", "{\"id\":" + id + "}", "user_id is null");
    }

    @Test
    void rowErrorsBeyondAFewThousandAreStagedNotHeld() throws Exception {
        RecordingStage stage = new RecordingStage();
        DeliveryProgress progress = new DeliveryProgress(stage, "run-1");
        int rows = 25_000;
        for (int i = 0; i < rows; i++) {
            progress.accept(invalidRow(i), 1_000);
            progress.stageIfMany();
            if (i % 7 == 0) {
                progress.failed(new RowError(RowError.Kind.FAILED, "{\"id\":" + i + "}", "m" + i, "HTTP 422"));
            }
        }
        DeliveryCommittable c = progress.drain("run-1", 0, 1);
        long failed = (rows + 6) / 7;
        assertEquals(rows, c.read());
        assertEquals(rows, c.invalid());
        assertEquals(failed, c.failed());
        assertTrue(c.errors().isEmpty(), "more than " + DeliveryProgress.KEEP_IN_COMMITTABLE + " left at the drain are staged too");
        assertEquals(rows + failed, c.stagedErrors());
        assertEquals(List.of(c.errorStage()), List.copyOf(stage.stages.keySet()));
        assertEquals(rows + failed, stage.stages.get(c.errorStage()).size());

        // The next committable starts a stage of its own, and a few errors ride in it.
        for (int i = 0; i < 10; i++) {
            progress.accept(invalidRow(rows + i), 1_000);
            progress.stageIfMany();
        }
        DeliveryCommittable next = progress.drain("run-1", 0, 2);
        assertEquals(10, next.errors().size());
        assertNull(next.errorStage());
        assertEquals(0, next.stagedErrors());
    }

    @Test
    void aStageThatFailsFailsTheCommittableInsteadOfDroppingRows() {
        RecordingStage stage = new RecordingStage();
        stage.failWith = new IOException("ledger down");
        DeliveryProgress progress = new DeliveryProgress(stage, "run-1");
        for (int i = 0; i < DeliveryProgress.KEEP_IN_COMMITTABLE + 1; i++) {
            progress.accept(invalidRow(i), 1_000);
        }
        assertThrows(IOException.class, () -> progress.drain("run-1", 0, 1));
    }

    @Test
    void withoutAStageEveryErrorRidesInTheCommittable() throws Exception {
        DeliveryProgress progress = new DeliveryProgress();
        for (int i = 0; i < DeliveryProgress.STAGE_AT + 5; i++) {
            progress.accept(invalidRow(i), 1_000);
            progress.stageIfMany();
        }
        DeliveryCommittable c = progress.drain("run-1", 0, 1);
        assertEquals(DeliveryProgress.STAGE_AT + 5, c.errors().size());
        assertNull(c.errorStage());
    }
}
