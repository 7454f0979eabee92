package io.backflow.sink.http;

import java.net.URI;
import java.nio.charset.StandardCharsets;

/** How events are wrapped into one HTTP request, and where it goes. */
public enum RequestFormat {
    /** Segment/RudderStack HTTP API: {@code POST <url>/v1/batch} with {@code {"batch":[...]}}, write key as basic-auth user. */
    SEGMENT_BATCH("{\"batch\":[", "]}") {
        /** {@code /v1/batch} goes at the end of the path, before any query string the URL has. */
        @Override
        URI endpoint(String url) {
            URI base = URI.create(url);
            String path = base.getRawPath() == null ? "" : stripTrailingSlash(base.getRawPath());
            return URI.create(base.getScheme() + "://" + base.getRawAuthority() + path + "/v1/batch"
                    + (base.getRawQuery() == null ? "" : "?" + base.getRawQuery()));
        }
    },
    /** A generic webhook: {@code POST <url>} with a JSON array of events and the configured headers. */
    WEBHOOK("[", "]") {
        @Override
        URI endpoint(String url) {
            return URI.create(url);
        }
    };

    private final byte[] prefix;
    private final byte[] suffix;

    RequestFormat(String prefix, String suffix) {
        this.prefix = prefix.getBytes(StandardCharsets.UTF_8);
        this.suffix = suffix.getBytes(StandardCharsets.UTF_8);
    }

    abstract URI endpoint(String url);

    /**
     * What is wrong with a destination URL, or null when nothing is: it must be http(s) with a host,
     * and carry no credentials ({@code https://user:secret@host}), which the HTTP client would not
     * send and logs would show; credentials go in {@code write_key} or {@code headers}.
     */
    public static String urlProblem(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return "is not a valid URL: " + e.getMessage().replace(url, "<url>");
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https")) || uri.getHost() == null) {
            return "must be an http:// or https:// URL with a host";
        }
        if (uri.getRawUserInfo() != null) {
            return "must not carry credentials (user:password@); put them in destination.write_key or destination.headers";
        }
        return null;
    }

    /** Bytes the wrapper adds around the events of one request. */
    int envelopeBytes() {
        return prefix.length + suffix.length;
    }

    /** The request body: each payload is already JSON, so they are joined without re-encoding. */
    byte[] body(java.util.List<DeliveryEntry> entries) {
        int size = envelopeBytes() + Math.max(0, entries.size() - 1);
        for (DeliveryEntry e : entries) {
            size += e.payload().length;
        }
        byte[] body = new byte[size];
        int at = 0;
        System.arraycopy(prefix, 0, body, at, prefix.length);
        at += prefix.length;
        for (int i = 0; i < entries.size(); i++) {
            if (i > 0) {
                body[at++] = ',';
            }
            byte[] p = entries.get(i).payload();
            System.arraycopy(p, 0, body, at, p.length);
            at += p.length;
        }
        System.arraycopy(suffix, 0, body, at, suffix.length);
        return body;
    }

    private static String stripTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
