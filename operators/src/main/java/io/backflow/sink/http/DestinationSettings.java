package io.backflow.sink.http;

import java.io.Serializable;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how the sink sends events: request format, URL, write key, extra headers, timeout
 * and retry policy. Its {@link #toString()} never shows the write key or header values.
 */
final class DestinationSettings implements Serializable {
    private static final long serialVersionUID = 1L;

    private final RequestFormat format;
    private final String url;
    private final String writeKey;
    private final LinkedHashMap<String, String> headers;
    private final Duration requestTimeout;
    private final RetryPolicy retryPolicy;

    DestinationSettings(RequestFormat format, String url, String writeKey, Map<String, String> headers,
            Duration requestTimeout, RetryPolicy retryPolicy) {
        this.format = Objects.requireNonNull(format, "format");
        this.url = Objects.requireNonNull(url, "url");
        this.writeKey = writeKey;
        this.headers = new LinkedHashMap<>(headers);
        this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
        this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
        // Fail when the job is built, not on the first request.
        endpoint();
        for (String name : this.headers.keySet()) {
            try {
                HttpRequest.newBuilder(endpoint()).header(name, this.headers.get(name));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("destination.headers: header '" + name + "' cannot be set: " + e.getMessage(), e);
            }
        }
    }

    RequestFormat format() { return format; }
    Duration requestTimeout() { return requestTimeout; }
    RetryPolicy retryPolicy() { return retryPolicy; }

    /** The endpoint for logs and messages: no user info and no query string, where secrets live. */
    String displayEndpoint() {
        URI u = endpoint();
        return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort()) + (u.getRawPath() == null ? "" : u.getRawPath())
                + (u.getRawQuery() == null ? "" : "?***");
    }

    URI endpoint() {
        String problem = RequestFormat.urlProblem(url);
        if (problem != null) {
            throw new IllegalArgumentException("destination.url " + problem);
        }
        try {
            URI uri = format.endpoint(url);
            if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                    || uri.getHost() == null) {
                throw new IllegalArgumentException("destination.url must be an http(s) URL with a host, got " + url);
            }
            return uri;
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("destination.url")) {
                throw e;
            }
            throw new IllegalArgumentException("destination.url is not a valid URL", e);
        }
    }

    HttpRequest request(List<DeliveryEntry> entries) {
        HttpRequest.Builder b = HttpRequest.newBuilder(endpoint())
                .timeout(requestTimeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", "backflow");
        for (Map.Entry<String, String> h : headers.entrySet()) {
            b.header(h.getKey(), h.getValue());
        }
        if (format == RequestFormat.SEGMENT_BATCH && writeKey != null) {
            // Segment's HTTP API: the write key is the basic-auth user name, the password is empty.
            String token = Base64.getEncoder().encodeToString((writeKey + ":").getBytes(StandardCharsets.UTF_8));
            b.header("Authorization", "Basic " + token);
        }
        return b.POST(HttpRequest.BodyPublishers.ofByteArray(format.body(entries))).build();
    }

    /**
     * {@code text} without the secrets the requests carry: the write key, its basic-auth token and
     * every header value (an API key, a bearer token). A destination's error body can echo the
     * request's headers, and such bodies are stored in the ledger and logged.
     */
    String redact(String text) {
        if (text == null) {
            return null;
        }
        java.util.List<String> secrets = new java.util.ArrayList<>(headers.values());
        if (writeKey != null && !writeKey.isEmpty()) {
            secrets.add(Base64.getEncoder().encodeToString((writeKey + ":").getBytes(StandardCharsets.UTF_8)));
            secrets.add(writeKey);
        }
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort((a, b) -> Integer.compare(b.length(), a.length()));
        String out = text;
        for (String secret : secrets) {
            // Short values (a header like "1") would redact half the text and protect nothing.
            if (secret != null && secret.length() >= 4) {
                out = out.replace(secret, "***");
                int space = secret.indexOf(' ');
                if (space > 0 && secret.length() - space > 4) {
                    // "Bearer abc..." echoed as just the token.
                    out = out.replace(secret.substring(space + 1), "***");
                }
            }
        }
        return out;
    }

    /** The one-line error for an answer that says Backflow's own settings are wrong. */
    DestinationConfigurationException configurationError(int status) {
        String where = displayEndpoint();
        String msg;
        if (status == 401 || status == 403) {
            msg = format == RequestFormat.SEGMENT_BATCH
                    ? "destination refused the write key (HTTP " + status + ") at " + where + "; check destination.write_key"
                    : "destination refused the request credentials (HTTP " + status + ") at " + where + "; check destination.headers";
        } else if (status == 404) {
            msg = "destination has no endpoint at " + where + " (HTTP 404); check destination.url";
        } else {
            msg = "destination answered HTTP " + status + " at " + where + ", which Backflow does not follow; check destination.url";
        }
        return new DestinationConfigurationException(msg);
    }

    @Override
    public String toString() {
        return "DestinationSettings{format=" + format + ", endpoint=" + displayEndpoint() + ", writeKey="
                + (writeKey == null ? "none" : "***") + ", headers=" + headers.keySet()
                + ", requestTimeout=" + requestTimeout + ", " + retryPolicy + "}";
    }
}
