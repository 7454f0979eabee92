package io.backflow.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backflow.sink.segment.SegmentDestination;
import io.backflow.sink.webhook.WebhookDestination;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The two destinations whose requests are the events themselves: their bodies, endpoints and chunks. */
class SegmentAndWebhookDestinationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DestinationLimits LIMITS = new DestinationLimits(500, 500_000, 32_768, 0, 0);

    private static DeliveryEntry entry(String json) {
        return new DeliveryEntry("k", "m", json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void segmentWrapsEventsInABatchArrayWithTheWriteKeyAsBasicAuth() throws Exception {
        SegmentDestination d = new SegmentDestination("https://api.example.com/", "wk", Map.of("X-Team", "growth"), LIMITS);
        DestinationRequest r = d.requests(List.of(entry("{\"a\":1}"), entry("{\"b\":\"ü\"}"))).requests().get(0);
        JsonNode root = JSON.readTree(r.body());
        assertThat(root.get("batch")).hasSize(2);
        assertThat(root.get("batch").get(1).get("b").asText()).isEqualTo("ü");
        assertThat(r.body().length).isEqualTo(SegmentDestination.overheadBytes() + 7 + 1 + 10);
        assertThat(r.uri()).isEqualTo(URI.create("https://api.example.com/v1/batch"));
        assertThat(r.headers()).containsEntry("Authorization", "Basic " + Base64.getEncoder().encodeToString("wk:".getBytes()))
                .containsEntry("X-Team", "growth");
        assertThat(d.secrets()).contains("wk", "growth");
    }

    @Test
    void theBatchPathGoesBeforeTheQueryString() {
        assertThat(new SegmentDestination("https://api.example.com/rudder/?region=eu&token=x", "wk", Map.of(), LIMITS)
                .requests(List.of(entry("{}"))).requests().get(0).uri())
                .isEqualTo(URI.create("https://api.example.com/rudder/v1/batch?region=eu&token=x"));
        assertThat(new SegmentDestination("http://localhost:8080", "wk", Map.of(), LIMITS).displayEndpoint()).isEqualTo("http://localhost:8080/v1/batch");
        assertThat(new SegmentDestination("https://h/x?token=s3cret", "wk", Map.of(), LIMITS).displayEndpoint()).isEqualTo("https://h/x/v1/batch?***");
    }

    @Test
    void webhookSendsAPlainArrayToItsUrl() throws Exception {
        WebhookDestination d = new WebhookDestination("https://hooks.example.com/in?sig=abc", Map.of(), LIMITS);
        DestinationRequest r = d.requests(List.of(entry("{\"a\":1}"))).requests().get(0);
        JsonNode root = JSON.readTree(r.body());
        assertThat(root.isArray()).isTrue();
        assertThat(root).hasSize(1);
        assertThat(r.uri()).isEqualTo(URI.create("https://hooks.example.com/in?sig=abc"));
    }

    @Test
    void requestsAreCutByEventCountAndBodySize() {
        WebhookDestination d = new WebhookDestination("https://h/x", Map.of(), new DestinationLimits(3, 30, 30, 0, 0));
        List<DeliveryEntry> seven = List.of(entry("{\"a\":1}"), entry("{\"a\":2}"), entry("{\"a\":3}"), entry("{\"a\":4}"),
                entry("{\"a\":5}"), entry("{\"a\":6}"), entry("{\"a\":7}"));
        List<DestinationRequest> requests = d.requests(seven).requests();
        // 7-byte events: three fit in 2 + 7 * 3 + 2 = 25 bytes, four would not fit 3 per request anyway.
        assertThat(requests).extracting(r -> r.entries().size()).containsExactly(3, 3, 1);
        assertThat(requests).allSatisfy(r -> assertThat(r.body().length).isLessThanOrEqualTo(30));
        WebhookDestination small = new WebhookDestination("https://h/x", Map.of(), new DestinationLimits(10, 20, 10, 0, 0));
        assertThat(small.requests(seven).requests()).extracting(r -> r.entries().size()).containsExactly(2, 2, 2, 1);
    }

    @Test
    void urlsWithCredentialsOrWithoutAHostAreRefused() {
        assertThat(Urls.problem("https://user:s3cret@api.example.com"))
                .isEqualTo("must not carry credentials (user:password@); put them in destination.write_key or destination.headers");
        assertThat(Urls.problem("ftp://x")).isEqualTo("must be an http:// or https:// URL with a host");
        assertThat(Urls.problem("https://api.example.com/x?y=1")).isNull();
    }
}
