package io.backflow.sink.http;

import io.backflow.model.RowError;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.flink.connector.base.sink.writer.ResultHandler;
import org.apache.flink.runtime.execution.SuppressRestartsException;

/**
 * Delivers one batch handed over by {@code submitRequestEntries} until every event in it is
 * resolved, then completes the result handler exactly once.
 *
 * <ul>
 *   <li>2xx: the events are delivered.
 *   <li>408, 429, 5xx, I/O error, timeout: the same events are sent again after a backoff
 *       (honouring {@code Retry-After}), until the retry policy's attempts or time run out; then
 *       each event is recorded as failed.
 *   <li>401, 403, 404 and other non-2xx answers that are not 4xx: Backflow's settings are wrong;
 *       the job fails without restarts.
 *   <li>Any other 4xx: some event was refused. The batch is split in halves which are sent one
 *       after the other, down to single events, so that only the refused ones fail.
 * </ul>
 *
 * <p>Requests of one batch go out one at a time, so a batch never holds more than one of the
 * writer's in-flight slots. Callbacks run on HTTP or scheduler threads, one after another.
 */
final class BatchDelivery {
    private static final int BODY_EXCERPT_CHARS = 200;

    private final ResultHandler<DeliveryEntry> handler;
    private final DestinationClient client;
    private final RetryPolicy retry;
    private final DeliveryProgress progress;
    private final SinkMetrics metrics;
    private final DeliveryLog log;
    /** Sub-batches still to send; the head goes next. */
    private final Deque<List<DeliveryEntry>> pending = new ArrayDeque<>();
    private final long deadlineNanos;
    private boolean firstRequest = true;
    private String lastRejection;

    BatchDelivery(List<DeliveryEntry> batch, ResultHandler<DeliveryEntry> handler, DestinationClient client,
            RetryPolicy retry, DeliveryProgress progress, SinkMetrics metrics, DeliveryLog log) {
        this.handler = handler;
        this.client = client;
        this.retry = retry;
        this.progress = progress;
        this.metrics = metrics;
        this.log = log;
        this.deadlineNanos = System.nanoTime() + retry.maxRetryDuration().toNanos();
        pending.push(List.copyOf(batch));
    }

    void start() {
        sendNext();
    }

    private void sendNext() {
        List<DeliveryEntry> next = pending.poll();
        if (next == null) {
            handler.complete();
            return;
        }
        if (!firstRequest && System.nanoTime() - deadlineNanos >= 0) {
            // Isolating refused events can take many requests; the retry budget bounds it too,
            // so a checkpoint never waits much longer than maxRetryDuration for this batch.
            fail(next, "not delivered: the retry time budget (" + retry.maxRetryDuration()
                    + ") ran out while isolating events the destination refused (" + lastRejection + ")");
            sendNext();
            return;
        }
        firstRequest = false;
        send(next, 1);
    }

    private void send(List<DeliveryEntry> entries, int attempt) {
        client.post(entries).whenCompleteAsync((response, error) -> {
            try {
                if (error != null) {
                    onError(entries, attempt, unwrap(error));
                } else {
                    onResponse(entries, attempt, response);
                }
            } catch (Throwable bug) {
                handler.completeExceptionally(new IllegalStateException("HTTP sink could not handle a destination answer", bug));
            }
        }, client.callbacks());
    }

    private void onResponse(List<DeliveryEntry> entries, int attempt, HttpResponse<byte[]> response) {
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            for (DeliveryEntry e : entries) {
                if (e.mark() != null) {
                    progress.resolvedAtMark(e.mark());
                }
            }
            progress.delivered(entries.size());
            metrics.eventsDelivered.inc(entries.size());
            sendNext();
        } else if (status == 408 || status == 429 || status >= 500) {
            Optional<Duration> retryAfter = RetryPolicy.parseRetryAfter(
                    response.headers().firstValue("Retry-After").orElse(null), Instant.now());
            retryOrFail(entries, attempt, "HTTP " + status, excerpt(response.body()), retryAfter);
        } else if (status == 401 || status == 403 || status == 404 || status < 400) {
            // Wrapped so Flink does not restart the job: the same settings would fail the same way.
            handler.completeExceptionally(new SuppressRestartsException(client.configurationError(status)));
        } else if (entries.size() == 1) {
            fail(entries, "HTTP " + status + ": " + excerpt(response.body()));
            sendNext();
        } else {
            lastRejection = "HTTP " + status + ": " + excerpt(response.body());
            int half = entries.size() / 2;
            pending.push(entries.subList(half, entries.size()));
            pending.push(entries.subList(0, half));
            sendNext();
        }
    }

    private void onError(List<DeliveryEntry> entries, int attempt, Throwable error) {
        if (error instanceof RejectedExecutionException) {
            return; // the writer is closing; nobody waits for this batch any more
        }
        if (!(error instanceof IOException)) {
            handler.completeExceptionally(new IllegalStateException("HTTP request to " + client.endpoint() + " could not be sent", error));
            return;
        }
        String what = error instanceof HttpTimeoutException ? "timeout" : "I/O error";
        retryOrFail(entries, attempt, what, error.getClass().getSimpleName() + ": " + error.getMessage(), Optional.empty());
    }

    private void retryOrFail(List<DeliveryEntry> entries, int attempt, String answer, String detail, Optional<Duration> retryAfter) {
        if (attempt < retry.maxAttempts()) {
            Duration delay = retry.backoff(attempt, retryAfter, ThreadLocalRandom.current());
            if (System.nanoTime() + delay.toNanos() - deadlineNanos < 0) {
                metrics.retries.inc();
                log.retry(answer, attempt, retry.maxAttempts(), entries.size(), delay);
                try {
                    client.schedule(() -> send(entries, attempt + 1), delay);
                } catch (RejectedExecutionException closing) {
                    // the writer is closing; nobody waits for this batch any more
                }
                return;
            }
            fail(entries, answer + " after " + attempt + " attempts (retry time budget " + retry.maxRetryDuration() + " spent): " + detail);
        } else {
            fail(entries, answer + " after " + attempt + " attempts: " + detail);
        }
        sendNext();
    }

    private void fail(List<DeliveryEntry> entries, String reason) {
        for (DeliveryEntry e : entries) {
            RowError error = new RowError(RowError.Kind.FAILED, e.key(), e.messageId(), reason, e.keyPosition());
            progress.failed(error);
            log.failed(error);
        }
        metrics.eventsFailed.inc(entries.size());
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static String excerpt(byte[] body) {
        if (body == null || body.length == 0) {
            return "(empty body)";
        }
        String s = new String(body, 0, Math.min(body.length, BODY_EXCERPT_CHARS * 4), StandardCharsets.UTF_8)
                .replaceAll("\\s+", " ").trim();
        return s.length() > BODY_EXCERPT_CHARS ? s.substring(0, BODY_EXCERPT_CHARS) + "..." : s;
    }
}
