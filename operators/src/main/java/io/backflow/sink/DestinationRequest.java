package io.backflow.sink;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One HTTP request a destination builds from a batch of events, with the events it carries in
 * the order the destination's answer refers to them (Braze's {@code index}, Iterable's
 * positions), and whatever the destination needs to read that answer.
 *
 * @param method {@code POST}, {@code PUT} or {@code GET}
 * @param headers extra headers; Content-Type and User-Agent are set by the transport, and so is
 *     {@code Authorization} for a destination with a token endpoint ({@link Destination#tokenEndpoint()})
 * @param entries the events, index by index
 * @param context the destination's own note for reading the answer (for example which body array
 *     an index belongs to), or null
 */
public record DestinationRequest(String method, URI uri, Map<String, String> headers, byte[] body, List<DeliveryEntry> entries, Object context) {
    public DestinationRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(uri, "uri");
        headers = Map.copyOf(headers);
        Objects.requireNonNull(body, "body");
        entries = List.copyOf(entries);
    }

    /** A POST of {@code body} carrying {@code entries}. */
    public static DestinationRequest post(URI uri, Map<String, String> headers, byte[] body, List<DeliveryEntry> entries, Object context) {
        return new DestinationRequest("POST", uri, headers, body, entries, context);
    }

    /** A PUT of {@code body} carrying {@code entries}. */
    public static DestinationRequest put(URI uri, Map<String, String> headers, byte[] body, List<DeliveryEntry> entries, Object context) {
        return new DestinationRequest("PUT", uri, headers, body, entries, context);
    }

    /** A GET (no body) about {@code entries}, such as a poll for the result of an accepted request. */
    public static DestinationRequest get(URI uri, Map<String, String> headers, List<DeliveryEntry> entries, Object context) {
        return new DestinationRequest("GET", uri, headers, new byte[0], entries, context);
    }

    @Override
    public String toString() {
        return method + " " + uri.getScheme() + "://" + uri.getHost() + uri.getRawPath() + " (" + entries.size() + " events, " + body.length + " bytes)";
    }
}
