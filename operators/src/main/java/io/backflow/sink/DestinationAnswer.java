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
 * </ul>
 */
public final class DestinationAnswer {
    /** See the class comment. */
    public enum Kind { DELIVERED, REJECTED, RETRY, SPLIT, FATAL }

    private static final DestinationAnswer DELIVERED = new DestinationAnswer(Kind.DELIVERED, null, Map.of(), true, null, false);

    private final Kind kind;
    private final String reason;
    private final Map<Integer, String> rejected;
    private final boolean othersDelivered;
    private final Duration retryAfter;
    private final boolean throttled;

    private DestinationAnswer(Kind kind, String reason, Map<Integer, String> rejected, boolean othersDelivered, Duration retryAfter,
            boolean throttled) {
        this.kind = kind;
        this.reason = reason;
        this.rejected = Map.copyOf(rejected);
        this.othersDelivered = othersDelivered;
        this.retryAfter = retryAfter;
        this.throttled = throttled;
    }

    public static DestinationAnswer delivered() {
        return DELIVERED;
    }

    /** Some events refused (index to reason), the others taken; an empty map is {@link #delivered()}. */
    public static DestinationAnswer rejected(Map<Integer, String> reasons) {
        return reasons.isEmpty() ? DELIVERED : new DestinationAnswer(Kind.REJECTED, null, reasons, true, null, false);
    }

    /** Some events refused and nothing taken: the others go again in a request of their own. */
    public static DestinationAnswer rejectedNothingTaken(Map<Integer, String> reasons) {
        if (reasons.isEmpty()) {
            throw new IllegalArgumentException("a refusal that names no event is a split or a retry");
        }
        return new DestinationAnswer(Kind.REJECTED, null, reasons, false, null, false);
    }

    /** Nothing taken yet; send again after the backoff, or after {@code retryAfter} when given. */
    public static DestinationAnswer retry(String reason, Duration retryAfter) {
        return new DestinationAnswer(Kind.RETRY, Objects.requireNonNull(reason), Map.of(), false, retryAfter, false);
    }

    /** Over the destination's rate: retry, and slow down. */
    public static DestinationAnswer throttled(String reason, Duration retryAfter) {
        return new DestinationAnswer(Kind.RETRY, Objects.requireNonNull(reason), Map.of(), false, retryAfter, true);
    }

    public static DestinationAnswer split(String reason) {
        return new DestinationAnswer(Kind.SPLIT, Objects.requireNonNull(reason), Map.of(), false, null, false);
    }

    public static DestinationAnswer fatal(String reason) {
        return new DestinationAnswer(Kind.FATAL, Objects.requireNonNull(reason), Map.of(), false, null, false);
    }

    public Kind kind() { return kind; }
    /** Why (for RETRY, SPLIT, FATAL), as the destination put it; null otherwise. */
    public String reason() { return reason; }
    /** REJECTED: index of each refused event to its reason. */
    public Map<Integer, String> rejected() { return rejected; }
    /** REJECTED: whether the events not refused were taken. */
    public boolean othersDelivered() { return othersDelivered; }
    /** RETRY: when the destination said to try again, if it did. */
    public Optional<Duration> retryAfter() { return Optional.ofNullable(retryAfter); }
    /** RETRY: the destination is over its rate. */
    public boolean throttled() { return throttled; }

    @Override
    public String toString() {
        return kind + (reason == null ? "" : ": " + reason) + (rejected.isEmpty() ? "" : " " + rejected.keySet());
    }
}
