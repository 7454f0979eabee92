package io.backflow.sink;

import java.io.Serializable;

/**
 * What a destination's API takes at most: events and bytes per request, bytes per event, and the
 * request and event rates. The connection file may ask for less, never for more; the rates are
 * shared by the sink's parallel subtasks (each gets its share), and a 0 rate means unlimited.
 *
 * @param eventsPerRequest events one request carries at most
 * @param bytesPerRequest bytes of one request body at most
 * @param bytesPerEvent bytes of one event (as Backflow builds it) at most
 * @param requestsPerSecond requests per second, 0 for no limit
 * @param eventsPerSecond events per second, 0 for no limit
 */
public record DestinationLimits(int eventsPerRequest, long bytesPerRequest, long bytesPerEvent, double requestsPerSecond,
        double eventsPerSecond) implements Serializable {

    public DestinationLimits {
        if (eventsPerRequest < 1 || bytesPerRequest < 1 || bytesPerEvent < 1 || requestsPerSecond < 0 || eventsPerSecond < 0) {
            throw new IllegalArgumentException("destination limits must be positive (rates may be 0 for none): " + this);
        }
    }

    /** These limits, at most {@code other}'s: what a connection asks for within what the API allows. */
    public DestinationLimits within(DestinationLimits other) {
        return new DestinationLimits(Math.min(eventsPerRequest, other.eventsPerRequest), Math.min(bytesPerRequest, other.bytesPerRequest),
                Math.min(bytesPerEvent, other.bytesPerEvent), lower(requestsPerSecond, other.requestsPerSecond),
                lower(eventsPerSecond, other.eventsPerSecond));
    }

    /** The lower of two rates, where 0 means unlimited. */
    private static double lower(double a, double b) {
        return a == 0 ? b : b == 0 ? a : Math.min(a, b);
    }
}
