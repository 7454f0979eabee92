package io.backflow.sink.http;

import io.backflow.sink.DeliveryProgress;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import io.backflow.model.RowError;
import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.Destination;
import io.backflow.sink.DestinationLimits;
import io.backflow.sink.braze.BrazeDestination;
import io.backflow.sink.iterable.IterableDestination;
import io.backflow.sink.mixpanel.MixpanelDestination;
import io.backflow.testing.FakeApis;
import io.backflow.testing.HttpReceiver;
import io.backflow.testing.HttpReceiver.Response;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.connector.base.sink.writer.ResultHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Braze, Iterable and Mixpanel through the shared transport against local servers that speak each
 * API's documented shapes ({@link FakeApis}): how events become requests within the API's limits,
 * and how partial failures, throttling and refused keys are read.
 */
class DestinationDeliveryTest {
    private HttpReceiver server;
    private final List<DestinationClient> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpReceiver.start();
    }

    @AfterEach
    void stop() {
        clients.forEach(DestinationClient::close);
        server.close();
    }

    /** A Backflow event as the mapper builds it. */
    static DeliveryEntry track(int i, String userId, String event, String properties) {
        String messageId = new UUID(0, i).toString();
        String json = "{\"type\":\"track\",\"event\":\"" + event + "\"," + (userId == null ? "\"anonymousId\":\"anon-" + i + "\"" : "\"userId\":\"" + userId + "\"")
                + ",\"properties\":" + properties + ",\"timestamp\":\"2024-03-01T12:00:0" + (i % 10) + "Z\",\"messageId\":\"" + messageId
                + "\",\"context\":{\"library\":{\"name\":\"backflow\"}}}";
        return new DeliveryEntry("{\"id\":" + i + "}", messageId, json.getBytes(StandardCharsets.UTF_8), "[[\"long\"," + i + "]]", null);
    }

    static DeliveryEntry identify(int i, String userId, String traits) {
        String messageId = new UUID(1, i).toString();
        String json = "{\"type\":\"identify\",\"userId\":\"" + userId + "\",\"traits\":" + traits + ",\"timestamp\":\"2024-03-01T12:00:00Z\",\"messageId\":\""
                + messageId + "\",\"context\":{}}";
        return new DeliveryEntry("{\"id\":" + i + "}", messageId, json.getBytes(StandardCharsets.UTF_8), "[[\"long\"," + i + "]]", null);
    }

    /** Runs batches through one writer's transport; what it resolved is in {@link #result}. */
    private final class Writer {
        final DeliveryProgress progress = new DeliveryProgress();
        final SinkMetrics metrics = new SinkMetrics(new UnregisteredMetricsGroup());
        final DestinationClient client;
        final RetryPolicy retry = new RetryPolicy(5, Duration.ofMillis(5), Duration.ofMillis(50), Duration.ofSeconds(20));
        final RetryBudget budget = new RetryBudget(retry.maxRetryDuration());
        final RateLimiter limiter;

        Writer(Destination destination) {
            client = new DestinationClient(destination, Duration.ofSeconds(5), metrics, "test");
            clients.add(client);
            limiter = new RateLimiter(destination.limits().requestsPerSecond(), destination.limits().eventsPerSecond());
        }

        Exception deliver(List<DeliveryEntry> batch) throws Exception {
            CompletableFuture<Exception> done = new CompletableFuture<>();
            new BatchDelivery(batch, new ResultHandler<>() {
                @Override public void complete() { done.complete(null); }
                @Override public void completeExceptionally(Exception e) { done.complete(e); }
                @Override public void retryForEntries(List<DeliveryEntry> entries) { done.completeExceptionally(new AssertionError("no re-queue")); }
            }, client, retry, budget, limiter, progress, metrics, new DeliveryLog(client.endpoint())).start();
            return done.get(60, TimeUnit.SECONDS);
        }

        DeliveryCommittable result() throws java.io.IOException {
            return progress.drain("run", 0, 1);
        }
    }

    private static Set<String> failedKeys(DeliveryCommittable c) {
        return c.errors().stream().filter(e -> e.kind() == RowError.Kind.FAILED).map(RowError::key).collect(Collectors.toSet());
    }

    // ------------------------------------------------------------------ Braze

    private BrazeDestination braze(String purchaseEvent) {
        return new BrazeDestination(server.baseUrl(), "braze-key", purchaseEvent,
                new DestinationLimits(3 * BrazeDestination.OBJECTS_PER_ARRAY, 10_000_000, 100_000, 0, 0));
    }

    @Test
    void brazeSendsAttributesEventsAndPurchasesWithinSeventyFiveOfEachAndTakesThemAll() throws Exception {
        FakeApis.Taken taken = new FakeApis.Taken();
        server.respond(FakeApis.braze("braze-key", o -> false, taken));
        List<DeliveryEntry> batch = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            batch.add(identify(i, "u-" + i, "{\"plan\":\"pro\",\"email\":\"u" + i + "@example.com\"}"));
        }
        for (int i = 160; i < 320; i++) {
            batch.add(i % 4 == 0 ? track(i, "u-" + i, "Order Completed", "{\"product_id\":\"sku-" + i + "\",\"price\":9.5,\"currency\":\"EUR\",\"coupon\":\"X\"}")
                    : track(i, i % 7 == 0 ? null : "u-" + i, "Viewed", "{\"page\":\"/p/" + i + "\"}"));
        }
        Writer w = new Writer(braze("Order Completed"));
        assertThat(w.deliver(batch)).isNull();
        DeliveryCommittable c = w.result();
        assertThat(c.succeeded()).isEqualTo(320);
        assertThat(c.errors()).isEmpty();
        assertThat(taken.objects).hasSize(320);
        assertThat(server.requests()).allSatisfy(r -> assertThat(r.answeredStatus()).isEqualTo(201));
        JsonNode purchase = taken.objects.stream().filter(o -> o.get("_array").asText().equals("purchases")).findFirst().orElseThrow();
        assertThat(purchase.get("product_id").asText()).startsWith("sku-");
        assertThat(purchase.get("currency").asText()).isEqualTo("EUR");
        assertThat(purchase.get("properties").get("coupon").asText()).isEqualTo("X");
        JsonNode anonymous = taken.objects.stream().filter(o -> o.has("user_alias")).findFirst().orElseThrow();
        assertThat(anonymous.get("user_alias").get("alias_label").asText()).isEqualTo("anonymous_id");
        assertThat(anonymous.get("_update_existing_only").asBoolean()).isFalse();
        JsonNode attributes = taken.objects.get(0);
        assertThat(attributes.get("external_id").asText()).isEqualTo("u-0");
        assertThat(attributes.get("plan").asText()).isEqualTo("pro");
    }

    @Test
    void brazeFailsExactlyTheObjectsItsErrorsArrayNames() throws Exception {
        FakeApis.Taken taken = new FakeApis.Taken();
        server.respond(FakeApis.braze("braze-key", o -> Set.of("u-13", "u-77").contains(o.path("external_id").asText()), taken));
        List<DeliveryEntry> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            batch.add(i % 2 == 0 ? identify(i, "u-" + i, "{}") : track(i, "u-" + i, "Viewed", "{}"));
        }
        Writer w = new Writer(braze(null));
        assertThat(w.deliver(batch)).isNull();
        DeliveryCommittable c = w.result();
        assertThat(failedKeys(c)).containsExactlyInAnyOrder("{\"id\":13}", "{\"id\":77}");
        assertThat(c.errors()).allSatisfy(e -> assertThat(e.reason()).isEqualTo("braze refused the events object: 'events' object refused by the test"));
        assertThat(c.succeeded()).isEqualTo(98);
        assertThat(taken.objects).hasSize(98);
    }

    @Test
    void brazeWaitsForItsRateLimitResetAndSlowsDownAfterA429() throws Exception {
        FakeApis.Taken taken = new FakeApis.Taken();
        server.enqueue(Response.status(429).body("{\"message\":\"rate limited\"}").header("X-RateLimit-Reset",
                // Whole seconds: two from now is at least one second away, whatever the fraction now is.
                String.valueOf(Instant.now().plusSeconds(2).getEpochSecond())));
        server.respond(FakeApis.braze("braze-key", o -> false, taken));
        BrazeDestination braze = new BrazeDestination(server.baseUrl(), "braze-key", null, new DestinationLimits(75, 10_000_000, 100_000, 1_000, 0));
        Writer w = new Writer(braze);
        assertThat(w.deliver(List.of(track(1, "u-1", "Viewed", "{}")))).isNull();
        assertThat(w.result().succeeded()).isEqualTo(1);
        long waitedMs = (server.requests().get(1).arrivedNanos() - server.requests().get(0).arrivedNanos()) / 1_000_000;
        assertThat(waitedMs).as("until X-RateLimit-Reset").isGreaterThanOrEqualTo(900);
        assertThat(w.limiter.requestRate()).as("halved by the 429, and a delivery adds a twentieth back").isEqualTo(550);
    }

    @Test
    void brazeRefusesEventsItCannotCarryAndAWrongKeyStopsTheJob() throws Exception {
        FakeApis.Taken taken = new FakeApis.Taken();
        server.respond(FakeApis.braze("braze-key", o -> false, taken));
        DeliveryEntry record = new DeliveryEntry("{\"id\":9}", "m-9", "{\"type\":\"record\",\"action\":\"insert\",\"identifiers\":{\"id\":9},\"fields\":{}}"
                .getBytes(StandardCharsets.UTF_8), "[[\"long\",9]]", null);
        Writer w = new Writer(braze("Order Completed"));
        assertThat(w.deliver(List.of(record, track(2, "u-2", "Order Completed", "{\"price\":1}")))).isNull();
        assertThat(w.result().errors()).extracting(RowError::reason)
                .containsExactlyInAnyOrder("braze takes identify and track events, not record events", "a purchase needs the property product_id");

        Writer wrongKey = new Writer(new BrazeDestination(server.baseUrl(), "other-key", null, new DestinationLimits(75, 10_000_000, 100_000, 0, 0)));
        Exception e = wrongKey.deliver(List.of(track(3, "u-3", "Viewed", "{}")));
        assertThat(e.getCause().getMessage()).startsWith("braze refused the REST API key (HTTP 401)").contains("destination.api_key")
                .doesNotContain("other-key");
    }

    // ------------------------------------------------------------------ Iterable

    @Test
    void iterableTrackBulkCarriesTheMessageIdAsTheEventIdAndFailsExactlyTheRefusedUsers() throws Exception {
        FakeApis.Taken taken = new FakeApis.Taken();
        server.respond(FakeApis.iterable("it-key", item -> item.path("userId").asText().equals("u-5"), taken));
        List<DeliveryEntry> batch = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            batch.add(track(i, "u-" + i, "Purchase", "{\"total\":" + i + "}"));
        }
        Writer w = new Writer(new IterableDestination(server.baseUrl(), "it-key", IterableDestination.Api.TRACK_BULK, false,
                new DestinationLimits(10, 4_000_000, 100_000, 0, 0)));
        assertThat(w.deliver(batch)).isNull();
        DeliveryCommittable c = w.result();
        assertThat(failedKeys(c)).containsExactly("{\"id\":5}");
        assertThat(c.errors().get(0).reason()).isEqualTo("iterable: invalid user ids");
        assertThat(c.succeeded()).isEqualTo(29);
        assertThat(server.requests()).hasSize(3).allSatisfy(r -> assertThat(r.path()).isEqualTo("/api/events/trackBulk"));
        JsonNode first = taken.objects.get(0);
        assertThat(first.get("id").asText()).isEqualTo(new UUID(0, 0).toString());
        assertThat(first.get("createdAt").asLong()).isEqualTo(Instant.parse("2024-03-01T12:00:00Z").getEpochSecond());
        assertThat(first.get("dataFields").get("total").asInt()).isZero();
        assertThat(first.has("email")).isFalse();
    }

    @Test
    void iterableBulkUpdateNamesUsersByEmailWhenAskedAndAWrongKeyStopsTheJob() throws Exception {
        FakeApis.Taken taken = new FakeApis.Taken();
        server.respond(FakeApis.iterable("it-key", item -> item.path("email").asText().startsWith("bad"), taken));
        Writer w = new Writer(new IterableDestination(server.baseUrl(), "it-key", IterableDestination.Api.BULK_UPDATE, true,
                new DestinationLimits(1000, 4_000_000, 100_000, 0, 0)));
        assertThat(w.deliver(List.of(identify(1, "u-1", "{\"email\":\"a@example.com\",\"plan\":\"pro\"}"),
                identify(2, "u-2", "{\"email\":\"bad@example.com\"}"), identify(3, "u-3", "{\"plan\":\"free\"}")))).isNull();
        DeliveryCommittable c = w.result();
        assertThat(c.succeeded()).isEqualTo(1);
        assertThat(c.errors()).extracting(RowError::reason).containsExactlyInAnyOrder("iterable: invalid emails",
                "iterable is set to name users by email, and the event has no email in its traits");
        // The row without an email cannot be sent as it is: invalid, not a failure owed to the next sync.
        assertThat(c.errors()).filteredOn(e -> e.kind() == RowError.Kind.INVALID).extracting(RowError::key).containsExactly("{\"id\":3}");
        assertThat(c.failed()).isEqualTo(1);
        assertThat(c.invalid()).isEqualTo(1);
        assertThat(taken.objects.get(0).get("email").asText()).isEqualTo("a@example.com");
        assertThat(taken.objects.get(0).has("userId")).isFalse();
        assertThat(server.requests().get(0).path()).isEqualTo("/api/users/bulkUpdate");

        Writer wrongKey = new Writer(new IterableDestination(server.baseUrl(), "nope", IterableDestination.Api.BULK_UPDATE, false,
                new DestinationLimits(1000, 4_000_000, 100_000, 0, 0)));
        assertThat(wrongKey.deliver(List.of(identify(4, "u-4", "{}"))).getCause().getMessage()).startsWith("iterable refused the API key (HTTP 401)");
    }

    /**
     * Iterable stores emails in lower case and names failures by email even when the request named
     * users by id (the email is in the data fields). A failure it counts but does not name cannot
     * be told apart: every row of the request is refused, never counted delivered.
     */
    @Test
    void iterableFailuresNamedByEmailMatchAnyCaseAndUnnamedFailuresRefuseTheRequest() throws Exception {
        server.respond(r -> Response.status(200).body("{\"successCount\":2,\"failCount\":1,"
                + "\"failedUpdates\":{\"conflictEmails\":[\"mixed@example.com\"]}}"));
        Writer byId = new Writer(new IterableDestination(server.baseUrl(), "it-key", IterableDestination.Api.BULK_UPDATE, false,
                new DestinationLimits(1000, 4_000_000, 100_000, 0, 0)));
        assertThat(byId.deliver(List.of(identify(1, "u-1", "{\"email\":\"Mixed@Example.COM\"}"),
                identify(2, "u-2", "{\"email\":\"b@example.com\"}"), identify(3, "u-3", "{\"plan\":\"free\"}")))).isNull();
        DeliveryCommittable c = byId.result();
        assertThat(failedKeys(c)).containsExactly("{\"id\":1}");
        assertThat(c.errors().get(0).reason()).isEqualTo("iterable: conflict emails");
        assertThat(c.succeeded()).isEqualTo(2);

        server.respond(r -> Response.status(200).body("{\"successCount\":1,\"failCount\":2,\"failedUpdates\":{\"invalidEmails\":[]}}"));
        Writer unnamed = new Writer(new IterableDestination(server.baseUrl(), "it-key", IterableDestination.Api.BULK_UPDATE, true,
                new DestinationLimits(1000, 4_000_000, 100_000, 0, 0)));
        assertThat(unnamed.deliver(List.of(identify(4, "u-4", "{\"email\":\"d@example.com\"}"),
                identify(5, "u-5", "{\"email\":\"e@example.com\"}"), identify(6, "u-6", "{\"email\":\"f@example.com\"}")))).isNull();
        DeliveryCommittable u = unnamed.result();
        assertThat(failedKeys(u)).containsExactlyInAnyOrder("{\"id\":4}", "{\"id\":5}", "{\"id\":6}");
        assertThat(u.succeeded()).isZero();
    }

    // ------------------------------------------------------------------ Mixpanel

    @Test
    void mixpanelImportsInRequestsOfTwoThousandWithTheMessageIdAsInsertIdAndFailsOnlyTheFailedRecords() throws Exception {
        FakeApis.Taken taken = new FakeApis.Taken();
        server.respond(FakeApis.mixpanel("svc", "mp-secret", "123", e -> e.path("properties").path("distinct_id").asText().equals("u-2222"), taken));
        List<DeliveryEntry> batch = new ArrayList<>();
        for (int i = 0; i < 2500; i++) {
            batch.add(track(i, "u-" + i, "Viewed", "{\"n\":" + i + "}"));
        }
        Writer w = new Writer(new MixpanelDestination(server.baseUrl(), "123", "svc", "mp-secret", MixpanelDestination.API_LIMITS));
        assertThat(w.deliver(batch)).isNull();
        DeliveryCommittable c = w.result();
        assertThat(failedKeys(c)).containsExactly("{\"id\":2222}");
        assertThat(c.errors().get(0).reason()).isEqualTo("mixpanel refused the event: properties: refused by the test");
        assertThat(c.succeeded()).isEqualTo(2499);
        assertThat(server.requests()).extracting(r -> r.events().size()).containsExactly(2000, 500);
        Set<String> insertIds = new HashSet<>();
        taken.objects.forEach(e -> insertIds.add(e.get("properties").get("$insert_id").asText()));
        assertThat(insertIds).hasSize(2499).contains(new UUID(0, 7).toString());
        assertThat(taken.objects.get(0).get("properties").get("time").asLong()).isEqualTo(Instant.parse("2024-03-01T12:00:00Z").toEpochMilli());
    }

    @Test
    void mixpanelRefusesIdentifyEventsAndAWrongSecretStopsTheJob() throws Exception {
        FakeApis.Taken taken = new FakeApis.Taken();
        server.respond(FakeApis.mixpanel("svc", "mp-secret", "123", e -> false, taken));
        Writer w = new Writer(new MixpanelDestination(server.baseUrl(), "123", "svc", "mp-secret", MixpanelDestination.API_LIMITS));
        assertThat(w.deliver(List.of(identify(1, "u-1", "{}")))).isNull();
        assertThat(w.result().errors()).extracting(RowError::reason).containsExactly("mixpanel's import API takes track events, not identify events");
        assertThat(server.requestCount()).isZero();
        Writer wrong = new Writer(new MixpanelDestination(server.baseUrl(), "123", "svc", "wrong", MixpanelDestination.API_LIMITS));
        String message = wrong.deliver(List.of(track(2, "u-2", "Viewed", "{}"))).getCause().getMessage();
        assertThat(message).startsWith("mixpanel refused the credentials (HTTP 401)").doesNotContain("wrong");
    }
}
