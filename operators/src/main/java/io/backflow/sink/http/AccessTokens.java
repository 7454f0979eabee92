package io.backflow.sink.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.backflow.sink.Events;
import io.backflow.sink.TokenEndpoint;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongSupplier;

/**
 * One writer's OAuth2 client-credentials access token for its destination's
 * {@link TokenEndpoint}: fetched on first use, cached, and fetched again once less than
 * max(60 s, 10% of its lifetime) is left, or when the destination refused it (a 401). Concurrent
 * requests share one fetch.
 *
 * <p>A token endpoint that refuses the credentials (400, 401, 403) is a configuration error naming
 * the settings; 408, 429, 5xx and I/O errors are {@link TokenUnavailableException}s, which the
 * transport retries like any I/O error. The tokens issued are kept (the last few) so that answers
 * echoing one can be redacted.
 */
final class AccessTokens {
    private static final Duration MIN_MARGIN = Duration.ofSeconds(60);
    private static final int REMEMBERED = 16;

    /** The token endpoint answered what may pass: the request that needed the token is retried. */
    static final class TokenUnavailableException extends IOException {
        private static final long serialVersionUID = 1L;

        TokenUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final TokenEndpoint endpoint;
    private final HttpClient http;
    private final Duration timeout;
    private final LongSupplier clock;
    private final Deque<String> issued = new ArrayDeque<>();
    private String token;
    private long renewAtNanos;
    private CompletableFuture<String> fetching;
    private int fetches;

    AccessTokens(TokenEndpoint endpoint, HttpClient http, Duration timeout) {
        this(endpoint, http, timeout, System::nanoTime);
    }

    AccessTokens(TokenEndpoint endpoint, HttpClient http, Duration timeout, LongSupplier clock) {
        this.endpoint = endpoint;
        this.http = http;
        this.timeout = timeout;
        this.clock = clock;
    }

    /** A token good for a while yet: the cached one, or a new one. */
    synchronized CompletableFuture<String> current() {
        if (token != null && clock.getAsLong() - renewAtNanos < 0) {
            return CompletableFuture.completedFuture(token);
        }
        return fetch();
    }

    /** A token other than {@code refused}, which the destination answered 401 to. */
    synchronized CompletableFuture<String> renew(String refused) {
        if (token != null && !token.equals(refused) && clock.getAsLong() - renewAtNanos < 0) {
            return CompletableFuture.completedFuture(token); // another request renewed it already
        }
        token = null;
        return fetch();
    }

    /** The tokens issued lately, for redaction. */
    synchronized List<String> issued() {
        return List.copyOf(issued);
    }

    /** How many times a token was asked for (tests). */
    synchronized int fetches() {
        return fetches;
    }

    private CompletableFuture<String> fetch() {
        if (fetching != null) {
            return fetching;
        }
        fetches++;
        HttpRequest request = HttpRequest.newBuilder(endpoint.uri())
                .timeout(timeout)
                .header("User-Agent", "backflow")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(endpoint.body()))
                .build();
        CompletableFuture<String> f;
        try {
            f = http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).handle((response, error) -> {
                if (error != null) {
                    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                    throw new CompletionException(new TokenUnavailableException("token endpoint " + endpoint.display() + " could not be reached: "
                            + cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause));
                }
                return read(response.statusCode(), response.body());
            });
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<String> started = f;
        fetching = started;
        started.whenComplete((t, e) -> done(started));
        return started;
    }

    private synchronized void done(CompletableFuture<String> f) {
        if (fetching == f) {
            fetching = null;
        }
    }

    private String read(int status, byte[] body) {
        String answer = "HTTP " + status + ": " + HttpAnswers.excerpt(body);
        if (status == 200) {
            JsonNode json;
            try {
                json = Events.JSON.readTree(body);
            } catch (IOException e) {
                json = null;
            }
            String accessToken = json == null ? null : Events.text(json, "access_token");
            if (accessToken == null) {
                // Not redacted here: the caller redacts, and this answer held no token.
                throw new CompletionException(new TokenUnavailableException("token endpoint " + endpoint.display()
                        + " answered 200 without an access_token", null));
            }
            long lifetimeSeconds = json.path("expires_in").asLong(0);
            issued(accessToken, Duration.ofSeconds(Math.max(0, lifetimeSeconds)));
            return accessToken;
        }
        if (status == 408 || status == 429 || status >= 500) {
            throw new CompletionException(new TokenUnavailableException("token endpoint " + endpoint.display() + " answered " + answer, null));
        }
        if (status == 400 || status == 401 || status == 403) {
            throw new DestinationConfigurationException("token endpoint " + endpoint.display() + " refused the client credentials (" + answer
                    + "); check " + endpoint.credentialSettings());
        }
        throw new DestinationConfigurationException("no token endpoint at " + endpoint.display() + " (" + answer + "); check "
                + endpoint.urlSetting());
    }

    private synchronized void issued(String accessToken, Duration lifetime) {
        token = accessToken;
        issued.addLast(accessToken);
        while (issued.size() > REMEMBERED) {
            issued.removeFirst();
        }
        Duration margin = lifetime.dividedBy(10);
        if (margin.compareTo(MIN_MARGIN) < 0) {
            margin = MIN_MARGIN;
        }
        // A token shorter-lived than its margin is used for the requests waiting on it, then renewed.
        renewAtNanos = clock.getAsLong() + Math.max(0, lifetime.minus(margin).toNanos());
    }
}
