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
 *       (honouring {@code Retry-After}), until the retry policy's attempts run out, and then
 *       each event is recorded as failed; or until the writer's {@link RetryBudget} is spent, and
 *       then the job fails without restarts: the next sync continues from the last checkpoint.
 *   <li>A TLS handshake that fails (an untrusted or self-signed certificate, a wrong host name):
 *       the settings are wrong, retrying cannot help, the job fails without restarts.
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
    private final RetryBudget budget;
    /** Sub-batches still to send; the head goes next. */
    private final Deque<List<DeliveryEntry>> pending = new ArrayDeque<>();
    private final long deadlineNanos;
    private boolean firstRequest = true;
    private String lastRejection;

    BatchDelivery(List<DeliveryEntry> batch, ResultHandler<DeliveryEntry> handler, DestinationClient client,
            RetryPolicy retry, RetryBudget budget, DeliveryProgress progress, SinkMetrics metrics, DeliveryLog log) {
        this.handler = handler;
        this.client = client;
        this.retry = retry;
        this.progress = progress;
        this.metrics = metrics;
        this.log = log;
        this.budget = budget;
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
            budget.succeeded();
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
            retryOrFail(entries, attempt, "HTTP " + status, client.redact(excerpt(response.body())), retryAfter);
        } else if (status == 401 || status == 403 || status == 404 || status < 400) {
            // Wrapped so Flink does not restart the job: the same settings would fail the same way.
            handler.completeExceptionally(new SuppressRestartsException(client.configurationError(status)));
        } else if (entries.size() == 1) {
            fail(entries, "HTTP " + status + ": " + client.redact(excerpt(response.body())));
            sendNext();
        } else {
            lastRejection = "HTTP " + status + ": " + client.redact(excerpt(response.body()));
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
        javax.net.ssl.SSLException tls = tlsFailure(error);
        if (tls != null) {
            handler.completeExceptionally(new SuppressRestartsException(new DestinationConfigurationException("TLS handshake with "
                    + client.endpoint() + " failed: " + tls.getMessage() + "; the destination's certificate is not trusted by this JVM"
                    + " (self-signed, expired, or for another host): fix it, or add it to the JVM's trust store")));
            return;
        }
        String what = error instanceof HttpTimeoutException ? "timeout" : "I/O error";
        retryOrFail(entries, attempt, what, error.getClass().getSimpleName() + ": " + error.getMessage(), Optional.empty());
    }

    private void retryOrFail(List<DeliveryEntry> entries, int attempt, String answer, String detail, Optional<Duration> retryAfter) {
        Duration left = budget.failed();
        if (attempt >= retry.maxAttempts()) {
            fail(entries, answer + " after " + attempt + " attempts: " + detail);
            sendNext();
            return;
        }
        Duration delay = retry.backoff(attempt, retryAfter, ThreadLocalRandom.current());
        if (delay.compareTo(left) >= 0) {
            // The events are not recorded failed: the job stops before this checkpoint commits, so
            // the next sync reads them again from the last committed position, with the rest.
            handler.completeExceptionally(new SuppressRestartsException(new DestinationUnavailableException("destination "
                    + client.endpoint() + " kept failing for " + budget.failingFor().toSeconds() + " s (retry.max_duration "
                    + retry.maxRetryDuration() + "), last " + answer + (retryAfter.isPresent() ? " with Retry-After " + retryAfter.get().toSeconds() + " s" : "")
                    + ": " + detail + "; the next sync continues from the last committed position")));
            return;
        }
        metrics.retries.inc();
        log.retry(answer, attempt, retry.maxAttempts(), entries.size(), delay);
        try {
            client.schedule(() -> send(entries, attempt + 1), delay);
        } catch (RejectedExecutionException closing) {
            // the writer is closing; nobody waits for this batch any more
        }
    }

    /** The TLS failure behind an I/O error, or null. */
    private static javax.net.ssl.SSLException tlsFailure(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException) {
                return (javax.net.ssl.SSLException) t;
            }
        }
        return null;
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
