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
}
