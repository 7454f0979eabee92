package io.backflow.sink;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a destination's answer to one request means for the events it carried, as the
 * destination's classifier reads it; the shared transport acts on it.
 *
 * <ul>
 *   <li>{@link Kind#DELIVERED}: every event was taken.
 *   <li>{@link Kind#REJECTED}: the events at {@link #rejected()} indexes were refused, each with a
 *       reason; the others were taken ({@link #othersDelivered()}) or, where the API takes nothing
 *       from a request it refuses in part, are sent again without the refused ones.
 *   <li>{@link Kind#RETRY}: nothing was taken, but it may be later: sent again after a backoff, or
 *       after {@link #retryAfter()}; {@link #throttled()} when the destination said it is over
 *       its rate, which slows the sender down.
 *   <li>{@link Kind#SPLIT}: some event was refused but the answer does not say which: the request is
 *       split in halves until the refused ones are alone.
 *   <li>{@link Kind#FATAL}: Backflow's own settings are wrong (a refused key, an unknown endpoint):
 *       the sync stops without restarts, with {@link #reason()}.
 *   <li>{@link Kind#PENDING}: the destination accepted the request, but what became of its events
 *       is not known yet (an asynchronous API): the transport sends {@link #followUp()}, which
 *       carries the same events, after {@link #pendingAfter()}, and reads its answer the same way
 *       (pending again, delivered, refused, split...). A follow-up is not a retry: it spends no
 *       attempt and no retry budget. The wait for one request's result is bounded by
 *       {@code retry.max_duration} from the first pending answer; past it the events are recorded
 *       failed, owed to the next sync.
 * </ul>
 */
public final class DestinationAnswer {
    /** See the class comment. */
    public enum Kind { DELIVERED, REJECTED, RETRY, SPLIT, FATAL, PENDING }

    private static final DestinationAnswer DELIVERED = new DestinationAnswer(Kind.DELIVERED, null, Map.of(), true, null, false, null);

    private final Kind kind;
    private final String reason;
    private final Map<Integer, String> rejected;
    private final boolean othersDelivered;
    private final Duration retryAfter;
    private final boolean throttled;
    private final DestinationRequest followUp;

    private DestinationAnswer(Kind kind, String reason, Map<Integer, String> rejected, boolean othersDelivered, Duration retryAfter,
            boolean throttled, DestinationRequest followUp) {
        this.kind = kind;
        this.reason = reason;
        this.rejected = Map.copyOf(rejected);
        this.othersDelivered = othersDelivered;
        this.retryAfter = retryAfter;
        this.throttled = throttled;
        this.followUp = followUp;
    }

    public static DestinationAnswer delivered() {
        return DELIVERED;
    }

    /** Some events refused (index to reason), the others taken; an empty map is {@link #delivered()}. */
    public static DestinationAnswer rejected(Map<Integer, String> reasons) {
        return reasons.isEmpty() ? DELIVERED : new DestinationAnswer(Kind.REJECTED, null, reasons, true, null, false, null);
    }

    /** Some events refused and nothing taken: the others go again in a request of their own. */
    public static DestinationAnswer rejectedNothingTaken(Map<Integer, String> reasons) {
        if (reasons.isEmpty()) {
            throw new IllegalArgumentException("a refusal that names no event is a split or a retry");
        }
        return new DestinationAnswer(Kind.REJECTED, null, reasons, false, null, false, null);
    }

    /** Nothing taken yet; send again after the backoff, or after {@code retryAfter} when given. */
    public static DestinationAnswer retry(String reason, Duration retryAfter) {
        return new DestinationAnswer(Kind.RETRY, Objects.requireNonNull(reason), Map.of(), false, retryAfter, false, null);
    }

    /** Over the destination's rate: retry, and slow down. */
    public static DestinationAnswer throttled(String reason, Duration retryAfter) {
        return new DestinationAnswer(Kind.RETRY, Objects.requireNonNull(reason), Map.of(), false, retryAfter, true, null);
    }

    public static DestinationAnswer split(String reason) {
        return new DestinationAnswer(Kind.SPLIT, Objects.requireNonNull(reason), Map.of(), false, null, false, null);
    }

    public static DestinationAnswer fatal(String reason) {
        return new DestinationAnswer(Kind.FATAL, Objects.requireNonNull(reason), Map.of(), false, null, false, null);
    }

    /**
     * Accepted, result not known yet: send {@code followUp} (carrying the same events, in the same
     * order) after {@code after}. {@code accepted} says what was accepted, for the reason recorded
     * if no result comes in time, such as "the destination accepted the rows (request id X)".
     */
    public static DestinationAnswer pending(DestinationRequest followUp, Duration after, String accepted) {
        if (after == null || after.isNegative()) {
            throw new IllegalArgumentException("a pending answer needs a wait of 0 or more, got " + after);
        }
        return new DestinationAnswer(Kind.PENDING, Objects.requireNonNull(accepted), Map.of(), false, after, false,
                Objects.requireNonNull(followUp, "followUp"));
    }

    /** {@link #pending(DestinationRequest, Duration, String)} that names nothing in particular. */
    public static DestinationAnswer pending(DestinationRequest followUp, Duration after) {
        return pending(followUp, after, "the destination accepted the events");
    }

    public Kind kind() { return kind; }
    /** Why (for RETRY, SPLIT, FATAL), as the destination put it; for PENDING what was accepted; null otherwise. */
    public String reason() { return reason; }
    /** REJECTED: index of each refused event to its reason. */
    public Map<Integer, String> rejected() { return rejected; }
    /** REJECTED: whether the events not refused were taken. */
    public boolean othersDelivered() { return othersDelivered; }
    /** RETRY: when the destination said to try again, if it did. */
    public Optional<Duration> retryAfter() { return Optional.ofNullable(retryAfter); }
    /** PENDING: the request that asks for the result. */
    public DestinationRequest followUp() { return followUp; }
    /** PENDING: how long to wait before sending {@link #followUp()}. */
    public Duration pendingAfter() { return retryAfter; }
    /** RETRY: the destination is over its rate. */
    public boolean throttled() { return throttled; }

    @Override
    public String toString() {
        return kind + (reason == null ? "" : ": " + reason) + (rejected.isEmpty() ? "" : " " + rejected.keySet());
    }
}
