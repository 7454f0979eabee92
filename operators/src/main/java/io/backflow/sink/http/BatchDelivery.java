package io.backflow.sink.http;

import io.backflow.model.RowError;
import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.DeliveryProgress;
import io.backflow.sink.Destination;
import io.backflow.sink.DestinationAnswer;
import io.backflow.sink.DestinationRequest;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.flink.connector.base.sink.writer.ResultHandler;
import org.apache.flink.runtime.execution.SuppressRestartsException;

/**
 * Delivers one batch handed over by {@code submitRequestEntries} until every event in it is
 * resolved, then completes the result handler exactly once. The destination turns the batch into
 * requests and reads each answer ({@link Destination#classify}); this class acts on what the
 * answer means:
 *
 * <ul>
 *   <li>delivered, or some events refused (recorded failed, owed to the next sync) and the others
 *       taken or sent again without them;
 *   <li>retry (408, 429, 5xx, an I/O error, a timeout): the same request again after a backoff,
 *       or {@code Retry-After}, until the retry policy's attempts run out (its events are then
 *       recorded failed), or until the writer's {@link RetryBudget} is spent (the job then fails
 *       without restarts, and the next sync continues from the last checkpoint). A throttled answer
 *       also slows the {@link RateLimiter} down;
 *   <li>split: the request's events are sent again in halves, down to single events, so that only
 *       the refused ones fail;
 *   <li>fatal (a refused key, an unknown endpoint, a TLS certificate this JVM does not trust): the
 *       job fails without restarts;
 *   <li>pending (an asynchronous API took the request, its result is not known yet): the
 *       destination's follow-up (a status poll) goes after the wait it asked for, and its answer is
 *       read the same way. Polls spend no attempt and no retry budget, but one request's result is
 *       waited for at most {@code retry.max_duration} from its first pending answer; then its
 *       events are recorded failed, owed to the next sync. The batch keeps its in-flight slot while
 *       it waits, so the writer's checkpoint waits for the result too.
 * </ul>
 *
 * <p>Requests of one batch go out one at a time, so a batch never holds more than one of the
 * writer's in-flight slots; each waits for its slot in the destination's rate first. Callbacks run
 * on HTTP or scheduler threads, one after another. Every reason recorded is redacted first.
 */
final class BatchDelivery {
    private final ResultHandler<DeliveryEntry> handler;
    private final DestinationClient client;
    private final Destination destination;
    private final RetryPolicy retry;
    private final RetryBudget budget;
    private final RateLimiter limiter;
    private final DeliveryProgress progress;
    private final SinkMetrics metrics;
    private final DeliveryLog log;
    /** Requests still to send; the head goes next. */
    private final Deque<DestinationRequest> pending = new ArrayDeque<>();
    private final long deadlineNanos;
    private boolean firstRequest = true;
    private String lastRejection;
    /** When the request being followed up first answered pending, or null when none is. */
    private Long pendingSinceNanos;

    BatchDelivery(List<DeliveryEntry> batch, ResultHandler<DeliveryEntry> handler, DestinationClient client, RetryPolicy retry,
            RetryBudget budget, RateLimiter limiter, DeliveryProgress progress, SinkMetrics metrics, DeliveryLog log) {
        this.handler = handler;
        this.client = client;
        this.destination = client.destination();
        this.retry = retry;
        this.budget = budget;
        this.limiter = limiter;
        this.progress = progress;
        this.metrics = metrics;
        this.log = log;
        this.deadlineNanos = System.nanoTime() + retry.maxRetryDuration().toNanos();
        queue(List.copyOf(batch));
    }

    void start() {
        sendNext();
    }

    /** Puts the requests for {@code entries} at the head of the queue, in order; fails what no request can carry. */
    private void queue(List<DeliveryEntry> entries) {
        Destination.Requests requests = destination.requests(entries);
        for (Map.Entry<DeliveryEntry, String> e : requests.unsendable().entrySet()) {
            DeliveryEntry entry = e.getKey();
            RowError error = new RowError(RowError.Kind.INVALID, entry.key(), entry.messageId(), client.redact(e.getValue()), entry.keyPosition());
            progress.unsendable(error);
            log.invalid(error);
        }
        List<DestinationRequest> list = requests.requests();
        for (int i = list.size() - 1; i >= 0; i--) {
            pending.push(list.get(i));
        }
    }

    private void sendNext() {
        pendingSinceNanos = null;
        DestinationRequest next = pending.poll();
        if (next == null) {
            handler.complete();
            return;
        }
        if (!firstRequest && System.nanoTime() - deadlineNanos >= 0 && lastRejection != null) {
            // Isolating refused events can take many requests; the retry budget bounds it too,
            // so a checkpoint never waits much longer than maxRetryDuration for this batch.
            fail(next.entries(), "not delivered: the retry time budget (" + retry.maxRetryDuration()
                    + ") ran out while isolating events the destination refused (" + lastRejection + ")");
            sendNext();
            return;
        }
        firstRequest = false;
        send(next, 1);
    }

    /** Sends {@code request} once its slot in the destination's rate comes. */
    private void send(DestinationRequest request, int attempt) {
        // A follow-up asks about events already counted against the event rate.
        Duration wait = limiter.reserve(pendingSinceNanos != null ? 0 : request.entries().size());
        if (wait.isZero()) {
            sendNow(request, attempt);
        } else {
            later(() -> sendNow(request, attempt), wait);
        }
    }

    private void sendNow(DestinationRequest request, int attempt) {
        client.send(request).whenCompleteAsync((response, error) -> {
            try {
                if (error != null) {
                    onError(request, attempt, unwrap(error));
                } else {
                    onResponse(request, attempt, response);
                }
            } catch (Throwable bug) {
                handler.completeExceptionally(new IllegalStateException("sink could not handle the answer of " + client.endpoint(), bug));
            }
        }, client.callbacks());
    }

    private void onResponse(DestinationRequest request, int attempt, HttpResponse<byte[]> response) {
        DestinationAnswer answer = destination.classify(request, response.statusCode(), response.headers(), response.body());
        switch (answer.kind()) {
            case DELIVERED:
                delivered(request.entries());
                sendNext();
                break;
            case REJECTED:
                List<DeliveryEntry> others = new ArrayList<>();
                for (int i = 0; i < request.entries().size(); i++) {
                    String why = answer.rejected().get(i);
                    if (why != null) {
                        fail(List.of(request.entries().get(i)), why);
                    } else {
                        others.add(request.entries().get(i));
                    }
                }
                if (answer.othersDelivered()) {
                    delivered(others);
                } else if (!others.isEmpty()) {
                    queue(others);
                }
                sendNext();
                break;
            case RETRY:
                if (answer.throttled()) {
                    limiter.throttled();
                }
                retryOrFail(request, attempt, answer.reason(), answer.retryAfter());
                break;
            case SPLIT:
                lastRejection = client.redact(answer.reason());
                List<DeliveryEntry> entries = request.entries();
                if (entries.size() == 1) {
                    fail(entries, answer.reason());
                } else {
                    int half = entries.size() / 2;
                    queue(entries.subList(half, entries.size()));
                    queue(entries.subList(0, half));
                }
                sendNext();
                break;
            case PENDING:
                followUp(request, answer);
                break;
            case FATAL:
            default:
                // Wrapped so Flink does not restart the job: the same settings would fail the same way.
                handler.completeExceptionally(new SuppressRestartsException(new DestinationConfigurationException(client.redact(answer.reason()))));
                break;
        }
    }

    /** Sends the follow-up of a pending answer after its wait, or fails the events once their result is overdue. */
    private void followUp(DestinationRequest request, DestinationAnswer answer) {
        budget.succeeded(); // the destination answers; waiting for its result is not a failure
        long now = System.nanoTime();
        if (pendingSinceNanos == null) {
            pendingSinceNanos = now;
        }
        DestinationRequest next = answer.followUp();
        if (next.entries().size() != request.entries().size()) {
            throw new IllegalStateException(destination.name() + " followed up a request of " + request.entries().size()
                    + " events with one of " + next.entries().size());
        }
        Duration waited = Duration.ofNanos(now - pendingSinceNanos);
        Duration left = retry.maxRetryDuration().minus(waited);
        if (left.isNegative() || left.isZero()) {
            fail(request.entries(), answer.reason() + " but did not report their result within " + retry.maxRetryDuration()
                    + " (retry.max_duration); owed to the next sync");
            sendNext();
            return;
        }
        Duration after = answer.pendingAfter();
        // The last poll goes at the deadline, so a result that comes just in time is still read.
        later(() -> send(next, 1), after.compareTo(left) > 0 ? left : after);
    }

    private void delivered(List<DeliveryEntry> entries) {
        budget.succeeded();
        limiter.succeeded();
        for (DeliveryEntry e : entries) {
            if (e.mark() != null) {
                progress.resolvedAtMark(e.mark());
            }
        }
        progress.delivered(entries.size());
        metrics.eventsDelivered.inc(entries.size());
    }

    private void onError(DestinationRequest request, int attempt, Throwable error) {
        if (error instanceof RejectedExecutionException) {
            return; // the writer is closing; nobody waits for this batch any more
        }
        if (error instanceof DestinationConfigurationException) {
            // Raised before anything was sent, such as credentials the token endpoint refused.
            handler.completeExceptionally(new SuppressRestartsException(new DestinationConfigurationException(client.redact(error.getMessage()))));
            return;
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
        retryOrFail(request, attempt, what + ": " + error.getClass().getSimpleName() + ": " + error.getMessage(), Optional.empty());
    }

    private void retryOrFail(DestinationRequest request, int attempt, String reason, Optional<Duration> retryAfter) {
        Duration left = budget.failed();
        if (attempt >= retry.maxAttempts()) {
            fail(request.entries(), withAttempts(reason, attempt));
            sendNext();
            return;
        }
        Duration delay = retry.backoff(attempt, retryAfter, ThreadLocalRandom.current());
        if (delay.compareTo(left) >= 0 && retryAfter.isEmpty() && left.compareTo(Duration.ZERO) > 0) {
            // A drawn backoff longer than what is left of the budget: one last attempt when the
            // budget ends, rather than giving up with time unspent (with max_backoff near
            // max_duration a job stopped after a third of its budget). A Retry-After longer than
            // what is left is the destination's word, and stops the job at once.
            delay = left;
        } else if (delay.compareTo(left) >= 0) {
            // The events are not recorded failed: the job stops before this checkpoint commits, so
            // the next sync reads them again from the last committed position, with the rest.
            handler.completeExceptionally(new SuppressRestartsException(new DestinationUnavailableException("destination "
                    + client.endpoint() + " kept failing for " + budget.failingFor().toSeconds() + " s (retry.max_duration "
                    + retry.maxRetryDuration() + "), last " + client.redact(reason)
                    + (retryAfter.isPresent() ? " with Retry-After " + retryAfter.get().toSeconds() + " s" : "")
                    + "; the next sync continues from the last committed position")));
            return;
        }
        metrics.retries.inc();
        log.retry(headline(reason), attempt, retry.maxAttempts(), request.entries().size(), delay);
        later(() -> send(request, attempt + 1), delay);
    }

    private void later(Runnable task, Duration delay) {
        try {
            client.schedule(task, delay);
        } catch (RejectedExecutionException closing) {
            // the writer is closing; nobody waits for this batch any more
        }
    }

    private void fail(List<DeliveryEntry> entries, String reason) {
        String redacted = client.redact(reason);
        for (DeliveryEntry e : entries) {
            RowError error = new RowError(RowError.Kind.FAILED, e.key(), e.messageId(), redacted, e.keyPosition());
            progress.failed(error);
            log.failed(error);
        }
        metrics.eventsFailed.inc(entries.size());
    }

    /** "HTTP 503: busy" after 3 tries reads "HTTP 503 after 3 attempts: busy". */
    private static String withAttempts(String reason, int attempts) {
        int colon = reason.indexOf(": ");
        return colon > 0 ? reason.substring(0, colon) + " after " + attempts + " attempts" + reason.substring(colon)
                : reason + " after " + attempts + " attempts";
    }

    /** "HTTP 503: {...}" becomes "HTTP 503" for the retry log line, which must not show bodies. */
    private static String headline(String reason) {
        int colon = reason.indexOf(": ");
        return colon > 0 ? reason.substring(0, colon) : reason;
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

    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
