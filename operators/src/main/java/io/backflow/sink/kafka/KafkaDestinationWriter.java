package io.backflow.sink.kafka;

import io.backflow.model.MarkRow;
import io.backflow.model.SyncRecord;
import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DeliveryProgress;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.flink.connector.kafka.sink.KafkaWriterState;
import org.apache.flink.connector.kafka.sink.TwoPhaseCommittingStatefulSink.PrecommittingStatefulSinkWriter;
import org.apache.flink.metrics.Counter;

/**
 * Hands one subtask's events to Flink's Kafka writer and keeps the ledger's account of its rows.
 * Flink flushes the writer before every committable, and the Kafka writer's flush waits until
 * the broker has acknowledged every record sent; so each event written since the last committable
 * is delivered (within the checkpoint's transaction, with exactly-once) when the committable is
 * made. A send Kafka refuses fails the task, and the job restarts from the last checkpoint.
 */
final class KafkaDestinationWriter implements StatefulSinkWriter<SyncRecord, KafkaWriterState>,
        CommittingSinkWriter<SyncRecord, KafkaDelivery> {
    private final PrecommittingStatefulSinkWriter<SyncRecord, KafkaWriterState, KafkaCommittable> kafka;
    private final String runId;
    private final int subtask;
    private final long maxEventBytes;
    private final DeliveryProgress progress;
    private final io.backflow.sink.RowErrorStage errorStage;
    private final List<MarkRow> marksSent = new ArrayList<>();
    private final Counter eventsDelivered;
    private int sent;
    /** As in the HTTP writer: the restored checkpoint id + 1, then one up per committable. */
    private long nextCommitId;

    KafkaDestinationWriter(PrecommittingStatefulSinkWriter<SyncRecord, KafkaWriterState, KafkaCommittable> kafka,
            WriterInitContext context, String runId, long maxEventBytes, io.backflow.sink.RowErrorStage errorStage) {
        this.kafka = kafka;
        this.runId = runId;
        this.errorStage = errorStage;
        this.progress = new DeliveryProgress(errorStage, runId);
        this.subtask = context.getTaskInfo().getIndexOfThisSubtask();
        this.maxEventBytes = maxEventBytes;
        this.eventsDelivered = context.metricGroup().addGroup("backflow").counter("eventsDelivered");
        this.nextCommitId = context.getRestoredCheckpointId().orElse(WriterInitContext.INITIAL_CHECKPOINT_ID - 1) + 1;
    }

    @Override
    public void write(SyncRecord record, Context context) throws IOException, InterruptedException {
        if (progress.accept(record, maxEventBytes)) {
            kafka.write(record, context);
            sent++;
            if (record.mark() != null) {
                marksSent.add(record.mark());
            }
        }
        progress.stageIfMany();
    }

    @Override
    public void flush(boolean endOfInput) throws IOException, InterruptedException {
        kafka.flush(endOfInput);
    }

    /** Called right after {@link #flush}: every event written so far is acknowledged. */
    @Override
    public Collection<KafkaDelivery> prepareCommit() throws IOException, InterruptedException {
        Collection<KafkaCommittable> transactions = kafka.prepareCommit();
        progress.delivered(sent);
        eventsDelivered.inc(sent);
        sent = 0;
        for (MarkRow m : marksSent) {
            progress.resolvedAtMark(m);
        }
        marksSent.clear();
        DeliveryCommittable c = progress.drain(runId, subtask, nextCommitId++);
        return c.isEmpty() && transactions.isEmpty() ? List.of() : List.of(new KafkaDelivery(new ArrayList<>(transactions), c));
    }

    @Override
    public List<KafkaWriterState> snapshotState(long checkpointId) throws IOException {
        return kafka.snapshotState(checkpointId);
    }

    @Override
    public void close() throws Exception {
        if (errorStage != null) {
            errorStage.close();
        }
        kafka.close();
    }
}
