package io.backflow.sink.http;

import io.backflow.sink.CommitterFactory;
import io.backflow.sink.DestinationLimits;
import io.backflow.sink.segment.SegmentDestination;
import io.backflow.sink.webhook.WebhookDestination;
import java.time.Duration;
import java.util.Map;

/** Builds the sink the tests use: a Segment-style or webhook destination with the limits a test sets. */
final class TestSink {
    private final HttpDestinationSink.Builder sink = HttpDestinationSink.builder();
    private final String url;
    private final String writeKey;
    private final Map<String, String> headers;
    private int batchSize = HttpDestinationSink.DEFAULT_BATCH_SIZE;
    private long batchBytes = HttpDestinationSink.DEFAULT_MAX_REQUEST_BYTES;
    private long eventBytes = HttpDestinationSink.DEFAULT_MAX_EVENT_BYTES;

    private TestSink(String url, String writeKey, Map<String, String> headers) {
        this.url = url;
        this.writeKey = writeKey;
        this.headers = headers;
    }

    static TestSink segment(String url, String writeKey) {
        return new TestSink(url, writeKey, Map.of());
    }

    static TestSink webhook(String url, Map<String, String> headers) {
        return new TestSink(url, null, headers);
    }

    TestSink maxBatchSize(int n) { batchSize = n; return this; }
    TestSink maxBatchBytes(long n) { batchBytes = n; return this; }
    TestSink maxEventBytes(long n) { eventBytes = n; return this; }
    TestSink maxInFlightRequests(int n) { sink.maxInFlightRequests(n); return this; }
    TestSink maxTimeInBuffer(Duration d) { sink.maxTimeInBuffer(d); return this; }
    TestSink maxAttempts(int n) { sink.maxAttempts(n); return this; }
    TestSink initialBackoff(Duration d) { sink.initialBackoff(d); return this; }
    TestSink maxBackoff(Duration d) { sink.maxBackoff(d); return this; }
    TestSink runId(String id) { sink.runId(id); return this; }
    TestSink committerFactory(CommitterFactory f) { sink.committerFactory(f); return this; }

    HttpDestinationSink build() {
        DestinationLimits limits = new DestinationLimits(batchSize, batchBytes, eventBytes, 0, 0);
        return sink.destination(writeKey == null ? new WebhookDestination(url, headers, limits) : new SegmentDestination(url, writeKey, headers, limits))
                .build();
    }
}
