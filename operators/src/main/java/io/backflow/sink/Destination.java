package io.backflow.sink;

import java.io.Serializable;
import java.net.http.HttpHeaders;
import java.util.List;

/**
 * One destination API, as a small set of parts every destination package has with the same names:
 * its limits, how a batch of events becomes requests (the request builder), and what an answer
 * means (a pure classifier from status, headers and body to a {@link DestinationAnswer}). The
 * transport, retries with backoff and {@code Retry-After}, the retry budget, batch splitting, rate
 * limiting and in-flight limits are shared and written once ({@code io.backflow.sink.http}).
 *
 * <p>Events arrive as Backflow builds them: RudderStack/Segment-style {@code track},
 * {@code identify} and {@code record} JSON ({@link DeliveryEntry#payload()}); each destination turns
 * them into its own shape.
 */
public interface Destination extends Serializable {
    /** A short name for messages and metrics, such as {@code braze}. */
    String name();

    /** What the API takes at most, with any lower limits the connection asked for. */
    DestinationLimits limits();

    /** Whether the destination can take deletes (record events with {@code action: "delete"}), which mirror mode sends. */
    boolean canDelete();

    /**
     * Bytes a request adds around its events besides one separator between two (a JSON array's
     * brackets, a wrapper object), so batches can be cut near the request size limit.
     */
    default int requestOverheadBytes() {
        return 0;
    }

    /** Where requests go, for messages and logs: no credentials, no query string. */
    String displayEndpoint();

    /**
     * The secrets requests carry (keys, tokens), replaced by {@code ***} in any answer that is
     * stored or logged. The access tokens of a {@link #tokenEndpoint()} are added by the transport.
     */
    List<String> secrets();

    /**
     * Where OAuth2 client-credentials access tokens come from, when the API takes them; the
     * transport then adds {@code Authorization: Bearer <token>} to every request as it sends it,
     * renews the token before it expires, and on a 401 fetches a new one and sends once more.
     */
    default java.util.Optional<TokenEndpoint> tokenEndpoint() {
        return java.util.Optional.empty();
    }

    /**
     * The requests that carry {@code events} (at most {@link #limits()} events and bytes each), in
     * order. An event this destination cannot carry at all goes into
     * {@link Requests#unsendable()} with the reason.
     */
    Requests requests(List<DeliveryEntry> events);

    /** What the answer {@code status}, {@code headers}, {@code body} to {@code request} means. */
    DestinationAnswer classify(DestinationRequest request, int status, HttpHeaders headers, byte[] body);

    /**
     * The reason for a configuration error a status means (401, 403, 404 and the like), naming the
     * setting to fix; the classifier uses it for {@link DestinationAnswer#fatal}.
     */
    default String configurationError(int status) {
        return status == 401 || status == 403
                ? "destination refused the credentials (HTTP " + status + ") at " + displayEndpoint() + "; check destination.api_key"
                : status == 404 ? "destination has no endpoint at " + displayEndpoint() + " (HTTP 404); check destination.url"
                : "destination answered HTTP " + status + " at " + displayEndpoint() + ", which Backflow does not follow; check destination.url";
    }

    /** What a batch became: the requests to send, and the events that no request can carry. */
    record Requests(List<DestinationRequest> requests, java.util.Map<DeliveryEntry, String> unsendable) {
        public Requests {
            requests = List.copyOf(requests);
            unsendable = java.util.Map.copyOf(unsendable);
        }

        public static Requests of(List<DestinationRequest> requests) {
            return new Requests(requests, java.util.Map.of());
        }
    }
}
