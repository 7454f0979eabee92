package io.backflow.sink.webhook;

import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.Destination;
import io.backflow.sink.DestinationAnswer;
import io.backflow.sink.DestinationLimits;
import io.backflow.sink.DestinationRequest;
import io.backflow.sink.EventArrays;
import io.backflow.sink.Urls;
import io.backflow.sink.http.HttpAnswers;
import java.net.http.HttpHeaders;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A generic webhook: {@code POST <url>} with a JSON array of events and the configured headers
 * (an Authorization header, a signature). Its answers are read the standard way
 * ({@link HttpAnswers#standard}).
 */
public final class WebhookDestination implements Destination {
    private static final long serialVersionUID = 1L;
    private static final String PREFIX = "[";
    private static final String SUFFIX = "]";
    /** A webhook's limits are whoever runs it: these are only Backflow's outer bounds. */
    public static final DestinationLimits API_LIMITS = new DestinationLimits(100_000, 100_000_000, 100_000_000, 0, 0);

    private final String url;
    private final LinkedHashMap<String, String> headers;
    private final DestinationLimits limits;

    public WebhookDestination(String url, Map<String, String> headers, DestinationLimits limits) {
        this.url = Objects.requireNonNull(url, "destination.url");
        this.headers = new LinkedHashMap<>(headers);
        this.limits = limits.within(API_LIMITS);
        Urls.parse(url);
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
        return "webhook";
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
        return Urls.display(Urls.parse(url));
    }

    @Override
    public List<String> secrets() {
        return new ArrayList<>(headers.values());
    }

    @Override
    public Requests requests(List<DeliveryEntry> events) {
        return EventArrays.posts(Urls.parse(url), headers, events, limits, PREFIX, SUFFIX);
    }

    @Override
    public DestinationAnswer classify(DestinationRequest request, int status, HttpHeaders responseHeaders, byte[] body) {
        return HttpAnswers.standard(this, request, status, responseHeaders, body);
    }

    @Override
    public String configurationError(int status) {
        return status == 401 || status == 403
                ? "destination refused the request credentials (HTTP " + status + ") at " + displayEndpoint() + "; check destination.headers"
                : Destination.super.configurationError(status);
    }

    @Override
    public String toString() {
        return "WebhookDestination{" + displayEndpoint() + ", headers=" + headers.keySet() + "}";
    }
}
