package io.backflow.sink.http;

import io.backflow.sink.CommitterFactory;
import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DeliveryCommittableSerializer;
import io.backflow.model.SyncRecord;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
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
 * Delivers {@link SyncRecord} events to a RudderStack/Segment-compatible HTTP endpoint or a
 * webhook, and hands the ledger committer one {@link DeliveryCommittable} per subtask and
 * checkpoint saying which rows were read, delivered, failed or invalid and how far each split got.
 *
 * <p>Delivery is at least once: a request retried after a lost answer, or rows re-read after a
 * restore from an earlier checkpoint, may reach the destination twice (with the same messageId,
 * which destinations use to deduplicate). Build one with {@link #builder()}.
 */
public final class HttpDestinationSink extends AsyncSinkBase<SyncRecord, DeliveryEntry>
        implements SupportsCommitter<DeliveryCommittable> {
    private static final long serialVersionUID = 1L;

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
     * in a request of {@code maxRequestBytes} with the format's wrapper around it. The builder and
     * the config loader both ask here.
     */
    public static String limitsProblem(RequestFormat format, long maxRequestBytes, long maxEventBytes) {
        if (maxEventBytes < 1) {
            return "must be at least 1, got " + maxEventBytes;
        }
        long room = maxRequestBytes - format.envelopeBytes();
        return maxEventBytes <= room ? null
                : "must leave room for the " + format.envelopeBytes() + "-byte request wrapper inside max_request_bytes (" + maxRequestBytes
                        + "): at most " + room + ", got " + maxEventBytes;
    }

    private final DestinationSettings settings;
    private final String runId;
    private final CommitterFactory committerFactory;

    private HttpDestinationSink(Builder b, DestinationSettings settings) {
        super(new DeliveryEntryConverter(),
                b.maxBatchSize,
                b.maxInFlightRequests,
                // Room for a full batch per in-flight slot plus the next one being filled.
                b.maxBatchSize * (b.maxInFlightRequests + 1),
                b.maxBatchBytes,
                b.maxTimeInBuffer.toMillis(),
                b.maxEventBytes,
                baseRequestTimeout(settings).toMillis(),
                true);
        this.settings = settings;
        this.runId = b.runId;
        this.committerFactory = b.committerFactory;
    }

    /**
     * BatchDelivery answers every batch within the retry budget plus one request timeout; the
     * base class's own timeout would re-queue a batch that is still being worked on (sending it
     * twice and counting it twice), so it is set well past that and only fails the job if our
     * bound is ever broken.
     */
    private static Duration baseRequestTimeout(DestinationSettings s) {
        return s.retryPolicy().maxRetryDuration()
                .plus(s.retryPolicy().maxBackoff())
                .plus(s.requestTimeout().multipliedBy(2))
                .plus(Duration.ofMinutes(1));
    }

    public static Builder builder() {
        return new Builder();
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
        return new HttpDestinationWriter(getElementConverter(), context, config, recoveredState, settings,
                getMaxBatchSizeInBytes(), getMaxRecordSizeInBytes(), runId);
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
        return "HttpDestinationSink{" + settings + ", runId=" + runId + "}";
    }

    /** Builds an {@link HttpDestinationSink}; url, runId and committerFactory are required. */
    public static final class Builder {
        private RequestFormat format = RequestFormat.SEGMENT_BATCH;
        private String url;
        private String writeKey;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private int maxBatchSize = DEFAULT_BATCH_SIZE;
        private long maxBatchBytes = DEFAULT_MAX_REQUEST_BYTES;
        private long maxEventBytes = DEFAULT_MAX_EVENT_BYTES;
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

        public Builder format(RequestFormat format) { this.format = format; return this; }
        /** Base URL for SEGMENT_BATCH ({@code /v1/batch} is appended), full URL for WEBHOOK. */
        public Builder url(String url) { this.url = url; return this; }
        /** SEGMENT_BATCH: sent as the basic-auth user name. Never logged. */
        public Builder writeKey(String writeKey) { this.writeKey = writeKey; return this; }
        /** Extra request headers (for example a webhook's Authorization). */
        public Builder headers(Map<String, String> headers) { this.headers.putAll(headers); return this; }
        public Builder header(String name, String value) { this.headers.put(name, value); return this; }
        /** Events per request (default 500). */
        public Builder maxBatchSize(int n) { this.maxBatchSize = n; return this; }
        /** Request body size limit in bytes (default 500,000). */
        public Builder maxBatchBytes(long bytes) { this.maxBatchBytes = bytes; return this; }
        /** Largest single event in bytes (default 32 KB); larger ones are recorded invalid. */
        public Builder maxEventBytes(long bytes) { this.maxEventBytes = bytes; return this; }
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
        /** Time budget for retrying one batch (default 5 min): never wait forever. */
        public Builder maxRetryDuration(Duration d) { this.maxRetryDuration = d; return this; }
        public Builder runId(String runId) { this.runId = runId; return this; }
        public Builder committerFactory(CommitterFactory f) { this.committerFactory = f; return this; }

        public HttpDestinationSink build() {
            Objects.requireNonNull(url, "destination.url is required");
            Objects.requireNonNull(runId, "runId is required");
            Objects.requireNonNull(committerFactory, "committerFactory is required");
            Objects.requireNonNull(format, "format");
            require(maxBatchSize >= 1, "maxBatchSize must be at least 1, got " + maxBatchSize);
            require(maxInFlightRequests >= 1, "maxInFlightRequests must be at least 1, got " + maxInFlightRequests);
            String limits = limitsProblem(format, maxBatchBytes, maxEventBytes);
            require(limits == null, "maxEventBytes " + limits);
            require(!maxTimeInBuffer.isNegative() && maxTimeInBuffer.toMillis() > 0, "maxTimeInBuffer must be positive");
            require(!requestTimeout.isNegative() && requestTimeout.toMillis() > 0, "requestTimeout must be positive");
            if (format == RequestFormat.SEGMENT_BATCH) {
                require(writeKey != null && !writeKey.isEmpty(), "destination.write_key is required for SEGMENT_BATCH");
            }
            RetryPolicy retry = new RetryPolicy(maxAttempts, initialBackoff, maxBackoff, maxRetryDuration);
            return new HttpDestinationSink(this, new DestinationSettings(format, url, writeKey, headers, requestTimeout, retry));
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
