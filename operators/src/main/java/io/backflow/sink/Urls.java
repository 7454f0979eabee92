package io.backflow.sink;

import java.net.URI;

/** The rules every destination URL follows, and the form of it that messages may show. */
public final class Urls {
    private Urls() {}

    /**
     * What is wrong with a destination URL, or null when nothing is: it must be http(s) with a host,
     * and carry no credentials ({@code https://user:secret@host}), which the HTTP client would not
     * send and logs would show; credentials go in the destination's key or headers.
     */
    public static String problem(String url) {
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

    /** The URL, checked by {@link #problem}; the message names the field. */
    public static URI parse(String url) {
        String problem = problem(url);
        if (problem != null) {
            throw new IllegalArgumentException("destination.url " + problem);
        }
        return URI.create(url);
    }

    /** {@code path} appended to the base URL's path, before its query string. */
    public static URI withPath(String url, String path) {
        URI base = parse(url);
        String basePath = base.getRawPath() == null ? "" : base.getRawPath();
        if (basePath.endsWith("/")) {
            basePath = basePath.substring(0, basePath.length() - 1);
        }
        return URI.create(base.getScheme() + "://" + base.getRawAuthority() + basePath + path
                + (base.getRawQuery() == null ? "" : "?" + base.getRawQuery()));
    }

    /** For logs and messages: scheme, host, port and path; a query string, where secrets live, shown as {@code ?***}. */
    public static String display(URI u) {
        return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort()) + (u.getRawPath() == null ? "" : u.getRawPath())
                + (u.getRawQuery() == null ? "" : "?***");
    }
}
