package io.backflow.sink.segment;

import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.Destination;
import io.backflow.sink.DestinationAnswer;
import io.backflow.sink.DestinationLimits;
import io.backflow.sink.DestinationRequest;
import io.backflow.sink.EventArrays;
import io.backflow.sink.Urls;
import io.backflow.sink.http.HttpAnswers;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A RudderStack/Segment-compatible HTTP API: {@code POST <url>/v1/batch} with
 * {@code {"batch":[...]}}, the source's write key as the basic-auth user name (empty password).
 * Record events, deletes included, go in the same batch (RudderStack takes them for reverse ETL).
 * Its answers are read the standard way ({@link HttpAnswers#standard}).
 */
public final class SegmentDestination implements Destination {
    private static final long serialVersionUID = 1L;
    private static final String PREFIX = "{\"batch\":[";
    private static final String SUFFIX = "]}";
    /** Segment's HTTP API: 500 KB per batch, 32 KB per event; RudderStack takes the same. */
    public static final DestinationLimits API_LIMITS = new DestinationLimits(100_000, 100_000_000, 100_000_000, 0, 0);

    private final String url;
    private final String writeKey;
    private final LinkedHashMap<String, String> headers;
    private final DestinationLimits limits;

    public SegmentDestination(String url, String writeKey, Map<String, String> headers, DestinationLimits limits) {
        this.url = Objects.requireNonNull(url, "destination.url");
        if (writeKey == null || writeKey.isEmpty()) {
            throw new IllegalArgumentException("destination.write_key is required for an http destination");
        }
        this.writeKey = writeKey;
        this.headers = new LinkedHashMap<>(headers);
        this.limits = limits.within(API_LIMITS);
        endpoint();
    }

    /** {@code /v1/batch} at the end of the URL's path, before any query string. */
    URI endpoint() {
        return Urls.withPath(url, "/v1/batch");
    }

    /** Bytes a request adds around its events besides the commas. */
    public static int overheadBytes() {
        return EventArrays.overhead(PREFIX, SUFFIX);
    }

    @Override
    public int requestOverheadBytes() {
        return overheadBytes();
    }

    @Override
    public String name() {
        return "http";
    }

    @Override
    public DestinationLimits limits() {
        return limits;
    }

    @Override
    public boolean canDelete() {
        return true;
    }

    @Override
    public String displayEndpoint() {
        return Urls.display(endpoint());
    }

    @Override
    public List<String> secrets() {
        List<String> out = new ArrayList<>(headers.values());
        out.add(writeKey);
        out.add(basicToken());
        return out;
    }

    private String basicToken() {
        return Base64.getEncoder().encodeToString((writeKey + ":").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public Requests requests(List<DeliveryEntry> events) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put("Authorization", "Basic " + basicToken());
        return EventArrays.posts(endpoint(), h, events, limits, PREFIX, SUFFIX);
    }

    @Override
    public DestinationAnswer classify(DestinationRequest request, int status, HttpHeaders responseHeaders, byte[] body) {
        return HttpAnswers.standard(this, request, status, responseHeaders, body);
    }

    @Override
    public String configurationError(int status) {
        return status == 401 || status == 403
                ? "destination refused the write key (HTTP " + status + ") at " + displayEndpoint() + "; check destination.write_key"
                : Destination.super.configurationError(status);
    }

    @Override
    public String toString() {
        return "SegmentDestination{" + displayEndpoint() + ", write_key=***, headers=" + headers.keySet() + "}";
    }
}
