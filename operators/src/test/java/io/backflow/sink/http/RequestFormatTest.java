package io.backflow.sink.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestFormatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static DeliveryEntry entry(String json) {
        return new DeliveryEntry("k", "m", json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void segmentBatchWrapsEventsInABatchArray() throws Exception {
        List<DeliveryEntry> entries = List.of(entry("{\"a\":1}"), entry("{\"b\":\"ü\"}"));
        byte[] body = RequestFormat.SEGMENT_BATCH.body(entries);
        JsonNode root = JSON.readTree(body);
        assertThat(root.get("batch")).hasSize(2);
        assertThat(root.get("batch").get(1).get("b").asText()).isEqualTo("ü");
        assertThat(body.length).isEqualTo(RequestFormat.SEGMENT_BATCH.envelopeBytes() + 7 + 1 + 10);
    }

    @Test
    void webhookSendsAPlainArray() throws Exception {
        JsonNode root = JSON.readTree(RequestFormat.WEBHOOK.body(List.of(entry("{\"a\":1}"))));
        assertThat(root.isArray()).isTrue();
        assertThat(root).hasSize(1);
        assertThat(JSON.readTree(RequestFormat.WEBHOOK.body(List.of()))).isEmpty();
    }

    @Test
    void endpoints() {
        assertThat(RequestFormat.SEGMENT_BATCH.endpoint("https://api.example.com/").toString()).isEqualTo("https://api.example.com/v1/batch");
        assertThat(RequestFormat.SEGMENT_BATCH.endpoint("https://api.example.com").toString()).isEqualTo("https://api.example.com/v1/batch");
        assertThat(RequestFormat.WEBHOOK.endpoint("https://hooks.example.com/x?y=1").toString()).isEqualTo("https://hooks.example.com/x?y=1");
    }

    @org.junit.jupiter.api.Test
    void theBatchPathGoesBeforeTheQueryStringAndCredentialsInTheUrlAreRefused() {
        org.junit.jupiter.api.Assertions.assertEquals(java.net.URI.create("https://api.example.com/rudder/v1/batch?region=eu&token=x"),
                RequestFormat.SEGMENT_BATCH.endpoint("https://api.example.com/rudder/?region=eu&token=x"));
        org.junit.jupiter.api.Assertions.assertEquals(java.net.URI.create("http://localhost:8080/v1/batch"),
                RequestFormat.SEGMENT_BATCH.endpoint("http://localhost:8080"));
        org.junit.jupiter.api.Assertions.assertEquals(java.net.URI.create("https://hooks.example.com/in?sig=abc"),
                RequestFormat.WEBHOOK.endpoint("https://hooks.example.com/in?sig=abc"));
        org.junit.jupiter.api.Assertions.assertEquals(
                "must not carry credentials (user:password@); put them in destination.write_key or destination.headers",
                RequestFormat.urlProblem("https://user:s3cret@api.example.com"));
        org.junit.jupiter.api.Assertions.assertEquals("must be an http:// or https:// URL with a host", RequestFormat.urlProblem("ftp://x"));
        org.junit.jupiter.api.Assertions.assertNull(RequestFormat.urlProblem("https://api.example.com/x?y=1"));
    }
}
