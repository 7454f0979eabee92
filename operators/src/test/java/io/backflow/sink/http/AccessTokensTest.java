package io.backflow.sink.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.backflow.sink.TokenEndpoint;
import io.backflow.testing.FakeSfmc;
import io.backflow.testing.HttpReceiver;
import io.backflow.testing.HttpReceiver.Response;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The access token cache against a local token route, on a clock the test moves. */
class AccessTokensTest {
    private HttpReceiver server;
    private final HttpClient http = HttpClient.newHttpClient();
    private final AtomicLong now = new AtomicLong(0);

    @BeforeEach
    void start() throws Exception {
        server = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private AccessTokens tokens(String secret) {
        byte[] body = ("{\"grant_type\":\"client_credentials\",\"client_id\":\"id\",\"client_secret\":\"" + secret + "\"}").getBytes(StandardCharsets.UTF_8);
        return new AccessTokens(new TokenEndpoint(URI.create(server.baseUrl() + "/v2/token"), body, "destination.client_id and destination.client_secret",
                "destination.auth_url"), http, Duration.ofSeconds(5), now::get);
    }

    private static String get(java.util.concurrent.CompletableFuture<String> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void aTokenIsCachedUntilTenPercentOfItsLifetimeIsLeft() throws Exception {
        server.respond(new FakeSfmc("id", "s3cret", "DE", "SubscriberKey", i -> false).expiresIn(1079));
        AccessTokens tokens = tokens("s3cret");
        String first = get(tokens.current());
        advance(Duration.ofSeconds(971)); // 108 s left, more than 10% (107.9 s)
        assertThat(get(tokens.current())).isEqualTo(first);
        assertThat(tokens.fetches()).isEqualTo(1);
        advance(Duration.ofSeconds(1)); // 107 s left
        String second = get(tokens.current());
        assertThat(second).isNotEqualTo(first);
        assertThat(tokens.fetches()).isEqualTo(2);
        assertThat(tokens.issued()).containsExactly(first, second);
    }

    @Test
    void aShortTokenIsRenewedWhenLessThanSixtySecondsAreLeft() throws Exception {
        server.respond(new FakeSfmc("id", "s3cret", "DE", "SubscriberKey", i -> false).expiresIn(300));
        AccessTokens tokens = tokens("s3cret");
        String first = get(tokens.current());
        advance(Duration.ofSeconds(239));
        assertThat(get(tokens.current())).isEqualTo(first);
        advance(Duration.ofSeconds(1));
        assertThat(get(tokens.current())).isNotEqualTo(first);
    }

    @Test
    void renewingARefusedTokenFetchesOnceAndAnotherRequestsRefusalOfTheOldOneDoesNot() throws Exception {
        server.respond(new FakeSfmc("id", "s3cret", "DE", "SubscriberKey", i -> false));
        AccessTokens tokens = tokens("s3cret");
        String first = get(tokens.current());
        String second = get(tokens.renew(first));
        assertThat(second).isNotEqualTo(first);
        assertThat(get(tokens.renew(first))).as("already renewed").isEqualTo(second);
        assertThat(tokens.fetches()).isEqualTo(2);
    }

    @Test
    void refusedCredentialsAreAConfigurationErrorAndA503IsRetryable() throws Exception {
        server.respond(new FakeSfmc("id", "s3cret", "DE", "SubscriberKey", i -> false));
        assertThatThrownBy(() -> get(tokens("wrong").current())).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(DestinationConfigurationException.class)
                .hasMessageContaining("refused the client credentials (HTTP 401: ").hasMessageContaining("invalid_client")
                .hasMessageEndingWith("; check destination.client_id and destination.client_secret");

        server.enqueue(Response.status(503).body("{\"message\":\"busy\"}"));
        AccessTokens tokens = tokens("s3cret");
        assertThatThrownBy(() -> get(tokens.current())).cause().isInstanceOf(AccessTokens.TokenUnavailableException.class)
                .hasMessage("token endpoint " + server.baseUrl() + "/v2/token answered HTTP 503: {\"message\":\"busy\"}");
        assertThat(get(tokens.current())).as("the next try fetches again").startsWith("tok-");
    }
}
