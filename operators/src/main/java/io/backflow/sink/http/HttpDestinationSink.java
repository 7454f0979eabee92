package io.backflow.sink.http;

import io.backflow.model.SyncRecord;
import io.backflow.sink.CommitterFactory;
import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DeliveryCommittableSerializer;
import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.Destination;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.base.sink.AsyncSinkBase;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.config.AsyncSinkWriterConfiguration;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Delivers {@link SyncRecord} events to any HTTP {@link Destination} (a RudderStack/Segment API,
 * a webhook, Braze, Iterable, Mixpanel...), and hands the committer one
 * {@link DeliveryCommittable} per subtask and checkpoint saying which rows were read, delivered,
 * failed or invalid and how far each split got. The destination builds the requests and reads the
 * answers; transport, retries, the retry budget, rate pacing and in-flight limits are this sink's.
 *
 * <p>Delivery is at least once: a request retried after a lost answer, or rows re-read after a
 * restore from an earlier checkpoint, may reach the destination twice (with the same messageId,
 * which destinations use to deduplicate). Build one with {@link #builder()}.
 */
public final class HttpDestinationSink extends AsyncSinkBase<SyncRecord, DeliveryEntry>
        implements SupportsCommitter<DeliveryCommittable> {
    private static final long serialVersionUID = 2L;

    /** Defaults, shared with the connection file's loader so both agree on what a setting left out means. */
    public static final int DEFAULT_BATCH_SIZE = 500;
    public static final long DEFAULT_MAX_REQUEST_BYTES = 500_000;
    public static final long DEFAULT_MAX_EVENT_BYTES = io.backflow.mapping.MappingSpec.DEFAULT_MAX_EVENT_BYTES;
    public static final int DEFAULT_MAX_IN_FLIGHT = 4;
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_ATTEMPTS = 8;
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(500);
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);
    public static final Duration DEFAULT_MAX_RETRY_DURATION = Duration.ofMinutes(5);

    /**
     * What is wrong with these request limits, or null: one event of {@code maxEventBytes} must fit
     * in a request of {@code maxRequestBytes} with the destination's {@code overheadBytes} around it.
     * The builder and the config loader both ask here.
     */
    public static String limitsProblem(int overheadBytes, long maxRequestBytes, long maxEventBytes) {
        if (maxEventBytes < 1) {
            return "must be at least 1, got " + maxEventBytes;
        }
        long room = maxRequestBytes - overheadBytes;
        return maxEventBytes <= room ? null
                : "must leave room for the " + overheadBytes + "-byte request wrapper inside max_request_bytes (" + maxRequestBytes
                        + "): at most " + room + ", got " + maxEventBytes;
    }

    private final Destination destination;
    private final Duration requestTimeout;
    private final RetryPolicy retry;
    private final String runId;
    private final CommitterFactory committerFactory;

    private HttpDestinationSink(Builder b, RetryPolicy retry) {
        super(new DeliveryEntryConverter(),
                b.destination.limits().eventsPerRequest(),
                b.maxInFlightRequests,
                // Room for a full batch per in-flight slot plus the next one being filled.
                b.destination.limits().eventsPerRequest() * (b.maxInFlightRequests + 1),
                b.destination.limits().bytesPerRequest(),
                b.maxTimeInBuffer.toMillis(),
                b.destination.limits().bytesPerEvent(),
                baseRequestTimeout(retry, b.requestTimeout).toMillis(),
                true);
        this.destination = b.destination;
        this.requestTimeout = b.requestTimeout;
        this.retry = retry;
        this.runId = b.runId;
        this.committerFactory = b.committerFactory;
    }

    /**
     * BatchDelivery answers every batch within the retry budget plus one request timeout; the
     * base class's own timeout would re-queue a batch that is still being worked on (sending it
     * twice and counting it twice), so it is set well past that and only fails the job if our
     * bound is ever broken.
     */
    private static Duration baseRequestTimeout(RetryPolicy retry, Duration requestTimeout) {
        return retry.maxRetryDuration().plus(retry.maxBackoff()).plus(requestTimeout.multipliedBy(2)).plus(Duration.ofMinutes(1));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The destination this sink delivers to. */
    public Destination destination() {
        return destination;
    }

    @Override
    public HttpDestinationWriter createWriter(WriterInitContext context) {
        return restoreWriter(context, Collections.emptyList());
    }

    @Override
    public HttpDestinationWriter restoreWriter(WriterInitContext context,
            Collection<BufferedRequestState<DeliveryEntry>> recoveredState) {
        AsyncSinkWriterConfiguration config = AsyncSinkWriterConfiguration.builder()
                .setMaxBatchSize(getMaxBatchSize())
                .setMaxBatchSizeInBytes(getMaxBatchSizeInBytes())
                .setMaxInFlightRequests(getMaxInFlightRequests())
                .setMaxBufferedRequests(getMaxBufferedRequests())
                .setMaxTimeInBufferMS(getMaxTimeInBufferMS())
                .setMaxRecordSizeInBytes(getMaxRecordSizeInBytes())
                .setRequestTimeoutMS(getRequestTimeoutMS())
                .setFailOnTimeout(getFailOnTimeout())
                .setRateLimitingStrategy(new InFlightRequestLimit(getMaxInFlightRequests(), getMaxBatchSize()))
                .build();
        return new HttpDestinationWriter(getElementConverter(), context, config, recoveredState, destination, requestTimeout, retry,
                getMaxBatchSizeInBytes(), getMaxRecordSizeInBytes(), runId, committerFactory.errorStage());
    }

    @Override
    public SimpleVersionedSerializer<BufferedRequestState<DeliveryEntry>> getWriterStateSerializer() {
        return new DeliveryEntryStateSerializer();
    }

    @Override
    public Committer<DeliveryCommittable> createCommitter(CommitterInitContext context) {
        return committerFactory.create();
    }

    @Override
    public SimpleVersionedSerializer<DeliveryCommittable> getCommittableSerializer() {
        return new DeliveryCommittableSerializer();
    }

    @Override
    public String toString() {
        return "HttpDestinationSink{" + destination + ", runId=" + runId + "}";
    }

    /** Builds an {@link HttpDestinationSink}; destination, runId and committerFactory are required. */
    public static final class Builder {
        private Destination destination;
        private int maxInFlightRequests = DEFAULT_MAX_IN_FLIGHT;
        private Duration maxTimeInBuffer = Duration.ofSeconds(1);
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
        private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
        private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
        private Duration maxRetryDuration = DEFAULT_MAX_RETRY_DURATION;
        private String runId;
        private CommitterFactory committerFactory;

        private Builder() {}

        /** Where events go, with its limits (events and bytes per request, bytes per event, rates). */
        public Builder destination(Destination destination) { this.destination = destination; return this; }
        /** Requests out at once per subtask (default 4). */
        public Builder maxInFlightRequests(int n) { this.maxInFlightRequests = n; return this; }
        /** How long a partial batch may wait for more events before it is sent (default 1 s). */
        public Builder maxTimeInBuffer(Duration d) { this.maxTimeInBuffer = d; return this; }
        /** Per request, connect included (default 30 s). */
        public Builder requestTimeout(Duration d) { this.requestTimeout = d; return this; }
        /** Tries per request, the first included (default 8). */
        public Builder maxAttempts(int n) { this.maxAttempts = n; return this; }
        public Builder initialBackoff(Duration d) { this.initialBackoff = d; return this; }
        public Builder maxBackoff(Duration d) { this.maxBackoff = d; return this; }
        /** How long a failing destination may keep failing before the sync stops (default 5 min): never wait forever. */
        public Builder maxRetryDuration(Duration d) { this.maxRetryDuration = d; return this; }
        public Builder runId(String runId) { this.runId = runId; return this; }
        public Builder committerFactory(CommitterFactory f) { this.committerFactory = f; return this; }

        public HttpDestinationSink build() {
            Objects.requireNonNull(destination, "destination is required");
            Objects.requireNonNull(runId, "runId is required");
            Objects.requireNonNull(committerFactory, "committerFactory is required");
            require(maxInFlightRequests >= 1, "maxInFlightRequests must be at least 1, got " + maxInFlightRequests);
            String limits = limitsProblem(destination.requestOverheadBytes(), destination.limits().bytesPerRequest(),
                    destination.limits().bytesPerEvent());
            require(limits == null, "maxEventBytes " + limits);
            require(!maxTimeInBuffer.isNegative() && maxTimeInBuffer.toMillis() > 0, "maxTimeInBuffer must be positive");
            require(!requestTimeout.isNegative() && requestTimeout.toMillis() > 0, "requestTimeout must be positive");
            return new HttpDestinationSink(this, new RetryPolicy(maxAttempts, initialBackoff, maxBackoff, maxRetryDuration));
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
