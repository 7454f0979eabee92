package io.backflow.sink.http;

import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DeliveryProgress;
import io.backflow.model.SyncRecord;
import io.backflow.sink.Destination;
import java.io.IOException;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.base.sink.writer.AsyncSinkWriter;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.DequeRequestBuffer;
import org.apache.flink.connector.base.sink.writer.ElementConverter;
import org.apache.flink.connector.base.sink.writer.ResultHandler;
import org.apache.flink.connector.base.sink.writer.config.AsyncSinkWriterConfiguration;

/**
 * Sends the events of one sink subtask and reports, once per checkpoint, what became of every
 * row it was handed.
 *
 * <p>Before each checkpoint barrier the writer sends its whole buffer and waits until every
 * request is answered (delivered, failed, or the job fails); only then does it hand the
 * committer a {@link DeliveryCommittable}. So a committable never counts or positions past a row
 * whose fate is unknown, and the writer state in a checkpoint is always empty.
 */
public final class HttpDestinationWriter extends AsyncSinkWriter<SyncRecord, DeliveryEntry>
        implements CommittingSinkWriter<SyncRecord, DeliveryCommittable> {

    private final String runId;
    private final int subtask;
    private final long maxEventBytes;
    private final RetryPolicy retry;
    private final DeliveryProgress progress;
    private final io.backflow.sink.RowErrorStage errorStage;
    private final SinkMetrics metrics;
    private final DeliveryLog log;
    private final DestinationClient client;
    private final RetryBudget budget;
    private final RateLimiter limiter;
    /**
     * Id of the next committable. prepareCommit() is not told the checkpoint id, and Flink calls
     * it (through emitCommittables) before snapshotState, so the id cannot be learned from the
     * snapshot either. Instead a counter starts at the restored checkpoint id + 1 (1 for a fresh
     * start) and goes up by one per prepareCommit. Flink calls prepareCommit at most once per
     * checkpoint id, and ids only grow, so the counter never runs ahead of the real checkpoint
     * id: every committable that reached the ledger before a restore from checkpoint/savepoint N
     * has an id <= N, and every one after it an id > N. Ids stay unique and increasing per
     * subtask and run, across stop/resume. (Restoring an older savepoint than the last one
     * committed would reuse ids; so would real checkpoint ids. Resume always uses the latest.)
     */
    private long nextCommitId;

    HttpDestinationWriter(
            ElementConverter<SyncRecord, DeliveryEntry> converter,
            WriterInitContext context,
            AsyncSinkWriterConfiguration configuration,
            Collection<BufferedRequestState<DeliveryEntry>> state,
            Destination destination,
            java.time.Duration requestTimeout,
            RetryPolicy retry,
            long maxBatchBytes,
            long maxEventBytes,
            String runId,
            io.backflow.sink.RowErrorStage errorStage) {
        super(converter, context, configuration, state,
                new RequestBodyBatchCreator(maxBatchBytes, destination.requestOverheadBytes()), new DequeRequestBuffer<>());
        this.runId = runId;
        this.errorStage = errorStage;
        this.progress = new DeliveryProgress(errorStage, runId);
        this.subtask = context.getTaskInfo().getIndexOfThisSubtask();
        this.maxEventBytes = maxEventBytes;
        this.retry = retry;
        this.metrics = new SinkMetrics(context.metricGroup());
        this.log = new DeliveryLog(destination.displayEndpoint());
        this.client = new DestinationClient(destination, requestTimeout, metrics, "backflow-sink-" + subtask);
        this.budget = new RetryBudget(retry.maxRetryDuration());
        // The destination's rates are the connection's: each parallel writer paces its share.
        int writers = Math.max(1, context.getTaskInfo().getNumberOfParallelSubtasks());
        this.limiter = new RateLimiter(destination.limits().requestsPerSecond() / writers, destination.limits().eventsPerSecond() / writers);
        metrics.rateLimit(limiter::requestRate);
        this.nextCommitId = context.getRestoredCheckpointId().orElse(WriterInitContext.INITIAL_CHECKPOINT_ID - 1) + 1;
    }

    @Override
    public void write(SyncRecord record, Context context) throws IOException, InterruptedException {
        if (progress.accept(record, maxEventBytes)) {
            super.write(record, context);
        }
        progress.stageIfMany();
    }

    /**
     * Always drains the buffer, not only at end of input: Flink's default leaves buffered events
     * in the checkpoint, but the committable of that checkpoint must only cover answered rows.
     */
    @Override
    public void flush(boolean endOfInput) throws InterruptedException {
        super.flush(true);
    }

    /** Called right after {@link #flush}: everything written so far is resolved. */
    @Override
    public Collection<DeliveryCommittable> prepareCommit() throws IOException {
        DeliveryCommittable c = progress.drain(runId, subtask, nextCommitId++);
        return c.isEmpty() ? Collections.emptyList() : List.of(c);
    }

    @Override
    protected void submitRequestEntries(List<DeliveryEntry> batch, ResultHandler<DeliveryEntry> resultHandler) {
        new BatchDelivery(batch, resultHandler, client, retry, budget, limiter, progress, metrics, log).start();
    }

    @Override
    protected long getSizeInBytes(DeliveryEntry entry) {
        return entry.sizeInBytes();
    }

    @Override
    public void close() {
        if (errorStage != null) {
            errorStage.close();
        }
        client.close();
        super.close();
    }
}
