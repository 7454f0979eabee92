package io.backflow.sink.http;

import org.apache.flink.connector.base.sink.writer.strategy.RateLimitingStrategy;
import org.apache.flink.connector.base.sink.writer.strategy.RequestInfo;
import org.apache.flink.connector.base.sink.writer.strategy.ResultInfo;

/**
 * Lets at most {@code maxInFlightRequests} batches be out at once, and never blocks while none
 * is (a strategy that does hangs the writer, FLINK-38096). Retries and backoff are handled per
 * batch by {@link BatchDelivery}, so there is no congestion scaling here.
 */
final class InFlightRequestLimit implements RateLimitingStrategy {
    private final int maxInFlightRequests;
    private final int maxBatchSize;
    private int inFlight;

    InFlightRequestLimit(int maxInFlightRequests, int maxBatchSize) {
        this.maxInFlightRequests = maxInFlightRequests;
        this.maxBatchSize = maxBatchSize;
    }

    @Override
    public void registerInFlightRequest(RequestInfo requestInfo) {
        inFlight++;
    }

    @Override
    public void registerCompletedRequest(ResultInfo resultInfo) {
        inFlight = Math.max(0, inFlight - 1);
    }

    @Override
    public boolean shouldBlock(RequestInfo requestInfo) {
        return inFlight > 0 && inFlight >= maxInFlightRequests;
    }

    @Override
    public int getMaxBatchSize() {
        return maxBatchSize;
    }
}
