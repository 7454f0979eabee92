package io.backflow.sink.braze;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.Destination;
import io.backflow.sink.DestinationAnswer;
import io.backflow.sink.DestinationLimits;
import io.backflow.sink.DestinationRequest;
import io.backflow.sink.Events;
import io.backflow.sink.Urls;
import io.backflow.sink.http.HttpAnswers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Braze's {@code POST /users/track} (REST API, a workspace's own instance URL such as
 * {@code https://rest.iad-01.braze.com}, {@code Authorization: Bearer <REST API key>}):
 *
 * <ul>
 *   <li>identify events become {@code attributes} objects: {@code external_id} from the userId
 *       (or, for an anonymous user, a {@code user_alias} with label {@code anonymous_id} and
 *       {@code _update_existing_only: false}), and the traits;
 *   <li>track events become {@code events}: {@code name}, {@code time}, {@code properties};
 *       those named as {@code purchase_event} become {@code purchases}, with {@code product_id},
 *       {@code currency}, {@code price} and {@code quantity} taken from the properties of those
 *       names.
 * </ul>
 *
 * <p>A request carries at most 75 objects of each array (Braze's documented limit; one page of
 * its docs says 75 in total, so the default batch is 75 objects in all) and requests are paced at
 * 1,000 a second (3,000 per 3 seconds per workspace). A 2xx answer with an {@code errors} array
 * ({@code {"type", "input_array", "index"}}) fails only the objects it names; the others were
 * taken. A 429 slows down and waits for {@code X-RateLimit-Reset}. Braze cannot take deletes here
 * ({@code /users/delete} is another endpoint), so mirror mode is refused.
 */
public final class BrazeDestination implements Destination {
    private static final long serialVersionUID = 1L;

    /** Per array of one request. */
    public static final int OBJECTS_PER_ARRAY = 75;
    /** Up to 225 objects (75 of each array), 1,000 requests a second; Braze documents no body size limit. */
    public static final DestinationLimits API_LIMITS = new DestinationLimits(3 * OBJECTS_PER_ARRAY, 100_000_000, 100_000_000, 1_000, 0);
    /** What a connection gets unless it asks for less: 75 objects a request, the lower of Braze's two documented readings. */
    public static final int DEFAULT_BATCH = OBJECTS_PER_ARRAY;

    private final String url;
    private final String apiKey;
    private final String purchaseEvent;
    private final DestinationLimits limits;

    /**
     * @param url the workspace's REST endpoint, such as {@code https://rest.iad-01.braze.com}
     * @param purchaseEvent the track event name sent as a purchase, or null for none
     */
    public BrazeDestination(String url, String apiKey, String purchaseEvent, DestinationLimits limits) {
        this.url = Objects.requireNonNull(url, "destination.url");
        if (apiKey == null || apiKey.isEmpty()) {
            throw new IllegalArgumentException("destination.api_key is required for braze (a REST API key with users.track)");
        }
        this.apiKey = apiKey;
        this.purchaseEvent = purchaseEvent;
        this.limits = limits.within(API_LIMITS);
        Urls.withPath(url, "/users/track");
    }

    @Override
    public String name() {
        return "braze";
    }

    @Override
    public DestinationLimits limits() {
        return limits;
    }

    @Override
    public boolean canDelete() {
        return false;
    }

    @Override
    public String displayEndpoint() {
        return Urls.display(Urls.withPath(url, "/users/track"));
    }

    @Override
    public List<String> secrets() {
        return List.of(apiKey, "Bearer " + apiKey);
    }

    /** Which array of the body an event went into, and at which index, for reading {@code errors}. */
    private record Placed(String array, int index) {}

    @Override
    public Requests requests(List<DeliveryEntry> events) {
        URI uri = Urls.withPath(url, "/users/track");
        Map<String, String> headers = Map.of("Authorization", "Bearer " + apiKey);
        Map<DeliveryEntry, String> unsendable = new IdentityHashMap<>();
        List<DestinationRequest> out = new ArrayList<>();
        Body body = new Body();
        for (DeliveryEntry entry : events) {
            JsonNode event = Events.parse(entry);
            ObjectNode object = Events.JSON.createObjectNode();
            String type = Events.text(event, "type");
            String problem = "identify".equals(type) || "track".equals(type) ? identify(event, object)
                    : "braze takes identify and track events, not " + type + " events";
            String array = null;
            if (problem == null) {
                if ("identify".equals(type)) {
                    array = "attributes";
                    JsonNode traits = event.get("traits");
                    if (traits != null && traits.isObject()) {
                        traits.fields().forEachRemaining(f -> {
                            if (!object.has(f.getKey())) {
                                object.set(f.getKey(), f.getValue());
                            }
                        });
                    }
                } else if ("track".equals(type)) {
                    String name = Events.text(event, "event");
                    JsonNode properties = event.get("properties");
                    object.put("time", Events.text(event, "timestamp"));
                    if (name != null && name.equals(purchaseEvent)) {
                        array = "purchases";
                        problem = purchase(properties, object);
                    } else {
                        array = "events";
                        object.put("name", name);
                        if (properties != null && properties.isObject()) {
                            object.set("properties", properties);
                        }
                    }
                } else {
                    problem = "braze takes identify and track events, not " + type + " events";
                }
            }
            if (problem != null) {
                unsendable.put(entry, problem);
                continue;
            }
            byte[] bytes = Events.bytes(object);
            if (!body.fits(array, bytes.length, limits)) {
                out.add(body.request(uri, headers));
                body = new Body();
            }
            body.add(array, object, bytes.length, entry);
        }
        if (!body.isEmpty()) {
            out.add(body.request(uri, headers));
        }
        return new Requests(out, unsendable);
    }

    /** Who the object is about; a problem when the event names nobody. */
    private static String identify(JsonNode event, ObjectNode object) {
        String userId = Events.text(event, "userId");
        String anonymousId = Events.text(event, "anonymousId");
        if (userId != null) {
            object.put("external_id", userId);
            return null;
        }
        if (anonymousId != null) {
            ObjectNode alias = object.putObject("user_alias");
            alias.put("alias_name", anonymousId);
            alias.put("alias_label", "anonymous_id");
            // Braze only creates an alias-only user when told to.
            object.put("_update_existing_only", false);
            return null;
        }
        return "braze needs a userId (external_id) or an anonymousId (user alias)";
    }

    private static String purchase(JsonNode properties, ObjectNode object) {
        if (properties == null || !properties.isObject()) {
            return "a purchase needs properties product_id, price and currency";
        }
        ObjectNode rest = properties.deepCopy();
        for (String field : new String[] {"product_id", "price", "currency"}) {
            JsonNode v = rest.remove(field);
            if (v == null || v.isNull()) {
                return "a purchase needs the property " + field;
            }
            object.set(field, v);
        }
        JsonNode quantity = rest.remove("quantity");
        if (quantity != null && !quantity.isNull()) {
            object.set("quantity", quantity);
        }
        if (rest.size() > 0) {
            object.set("properties", rest);
        }
        return null;
    }

    /** One request's body being filled: its three arrays and which event went where. */
    private static final class Body {
        final ObjectNode root = Events.JSON.createObjectNode();
        final Map<String, Integer> counts = new HashMap<>();
        final List<DeliveryEntry> entries = new ArrayList<>();
        final Map<Placed, Integer> entryAt = new HashMap<>();
        long bytes = 2;

        boolean fits(String array, int objectBytes, DestinationLimits limits) {
            int total = entries.size();
            return total < limits.eventsPerRequest() && counts.getOrDefault(array, 0) < OBJECTS_PER_ARRAY
                    && (total == 0 || bytes + objectBytes + 16 <= limits.bytesPerRequest());
        }

        void add(String array, ObjectNode object, int objectBytes, DeliveryEntry entry) {
            ArrayNode a = root.has(array) ? (ArrayNode) root.get(array) : root.putArray(array);
            entryAt.put(new Placed(array, a.size()), entries.size());
            a.add(object);
            counts.merge(array, 1, Integer::sum);
            entries.add(entry);
            bytes += objectBytes + 1 + (a.size() == 1 ? array.length() + 5 : 0);
        }

        boolean isEmpty() {
            return entries.isEmpty();
        }

        DestinationRequest request(URI uri, Map<String, String> headers) {
            return DestinationRequest.post(uri, headers, Events.bytes(root), entries, Map.copyOf(entryAt));
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public DestinationAnswer classify(DestinationRequest request, int status, HttpHeaders headers, byte[] body) {
        if (status >= 200 && status < 300) {
            Map<Placed, Integer> entryAt = (Map<Placed, Integer>) request.context();
            Map<Integer, String> rejected = new HashMap<>();
            Iterable<JsonNode> errors = errors(body);
            for (JsonNode e : errors) {
                Integer at = entryAt.get(new Placed(e.path("input_array").asText(), e.path("index").asInt(-1)));
                if (at != null) {
                    rejected.put(at, "braze refused the " + e.path("input_array").asText() + " object: " + e.path("type").asText());
                }
            }
            return DestinationAnswer.rejected(rejected);
        }
        if (status == 429) {
            return DestinationAnswer.throttled("HTTP 429: " + HttpAnswers.excerpt(body), untilReset(headers).orElse(null));
        }
        return HttpAnswers.standard(this, request, status, headers, body);
    }

    private static Iterable<JsonNode> errors(byte[] body) {
        try {
            JsonNode root = Events.JSON.readTree(body);
            JsonNode errors = root == null ? null : root.get("errors");
            return errors != null && errors.isArray() ? errors : List.of();
        } catch (IOException e) {
            // A 2xx whose body is not JSON took the request.
            return List.of();
        }
    }

    /** Braze's {@code X-RateLimit-Reset}: when the window resets, in UTC epoch seconds. */
    private static java.util.Optional<Duration> untilReset(HttpHeaders headers) {
        java.util.Optional<Duration> retryAfter = HttpAnswers.retryAfter(headers);
        if (retryAfter.isPresent()) {
            return retryAfter;
        }
        return headers.firstValue("X-RateLimit-Reset").flatMap(v -> {
            try {
                Duration d = Duration.between(Instant.now(), Instant.ofEpochSecond(Long.parseLong(v.trim())));
                return java.util.Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (NumberFormatException e) {
                return java.util.Optional.empty();
            }
        });
    }

    @Override
    public String configurationError(int status) {
        return status == 401 || status == 403 || status == 404
                ? "braze refused the REST API key (HTTP " + status + ") at " + displayEndpoint()
                        + "; check destination.api_key (it needs the users.track permission) and destination.url (your instance's REST endpoint)"
                : Destination.super.configurationError(status);
    }

    @Override
    public String toString() {
        return "BrazeDestination{" + displayEndpoint() + ", api_key=***" + (purchaseEvent == null ? "" : ", purchase_event=" + purchaseEvent) + "}";
    }
}
