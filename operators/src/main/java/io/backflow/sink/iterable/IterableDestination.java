package io.backflow.sink.iterable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.sink.Chunks;
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
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Iterable's bulk APIs ({@code https://api.iterable.com}, or {@code https://api.eu.iterable.com},
 * header {@code Api-Key}): track events go to {@code POST /api/events/trackBulk} as
 * {@code {"events":[{userId|email, eventName, createdAt, dataFields, id}]}} (the messageId is the
 * event's {@code id}, so a re-sent event updates itself instead of counting twice), identify
 * events to {@code POST /api/users/bulkUpdate} as {@code {"users":[{userId|email, dataFields,
 * preferUserId}]}}. A user is named by userId, or by email ({@code identify_by: email}: the
 * traits' or properties' {@code email}), never both, as Iterable asks.
 *
 * <p>Limits: a 4 MB body (documented for bulkUpdate; used for both), 1,000 events a request (the
 * count is not documented), 10 requests a second for trackBulk and 5 for bulkUpdate, per project.
 * A 200 answer lists what failed by identifier ({@code failedUpdates.invalidUserIds},
 * {@code notFoundEmails}, {@code conflictEmails}, the older top-level {@code invalidEmails} and
 * {@code invalidUserIds}, and for trackBulk {@code disallowedEventNames}): exactly those events
 * fail; the others were taken. Iterable has no bulk delete, so mirror mode is refused.
 */
public final class IterableDestination implements Destination {
    private static final long serialVersionUID = 1L;

    /** Which API a connection's events go to. */
    public enum Api {
        /** Track events. */
        TRACK_BULK("/api/events/trackBulk", "events", 10),
        /** Identify events. */
        BULK_UPDATE("/api/users/bulkUpdate", "users", 5);

        final String path;
        final String array;
        final double requestsPerSecond;

        Api(String path, String array, double requestsPerSecond) {
            this.path = path;
            this.array = array;
            this.requestsPerSecond = requestsPerSecond;
        }
    }

    /** 4 MB bodies; the per-request count is not documented, so Backflow stays at 1,000. */
    public static DestinationLimits apiLimits(Api api) {
        return new DestinationLimits(1_000, 4_000_000, 4_000_000, api.requestsPerSecond, 0);
    }

    private final String url;
    private final String apiKey;
    private final Api api;
    private final boolean byEmail;
    private final DestinationLimits limits;

    /** @param byEmail name users by email (from the traits or properties) instead of userId */
    public IterableDestination(String url, String apiKey, Api api, boolean byEmail, DestinationLimits limits) {
        this.url = Objects.requireNonNull(url, "destination.url");
        if (apiKey == null || apiKey.isEmpty()) {
            throw new IllegalArgumentException("destination.api_key is required for iterable (a server-side API key)");
        }
        this.apiKey = apiKey;
        this.api = Objects.requireNonNull(api);
        this.byEmail = byEmail;
        this.limits = limits.within(apiLimits(api));
        Urls.withPath(url, api.path);
    }

    @Override
    public String name() {
        return "iterable";
    }

    @Override
    public DestinationLimits limits() {
        return limits;
    }

    @Override
    public int requestOverheadBytes() {
        return api.array.length() + 6;
    }

    @Override
    public boolean canDelete() {
        return false;
    }

    @Override
    public String displayEndpoint() {
        return Urls.display(Urls.withPath(url, api.path));
    }

    @Override
    public List<String> secrets() {
        return List.of(apiKey);
    }

    /** Per event of a request: how Iterable's answer names it. */
    private record Who(String userId, String email, String eventName) {}

    @Override
    public Requests requests(List<DeliveryEntry> events) {
        Map<DeliveryEntry, String> unsendable = new IdentityHashMap<>();
        List<DeliveryEntry> sendable = new ArrayList<>();
        Map<DeliveryEntry, ObjectNode> objects = new IdentityHashMap<>();
        Map<DeliveryEntry, byte[]> bytes = new IdentityHashMap<>();
        for (DeliveryEntry entry : events) {
            JsonNode event = Events.parse(entry);
            ObjectNode object = Events.JSON.createObjectNode();
            String problem = build(event, entry, object);
            if (problem != null) {
                unsendable.put(entry, problem);
                continue;
            }
            sendable.add(entry);
            objects.put(entry, object);
            bytes.put(entry, Events.bytes(object));
        }
        URI uri = Urls.withPath(url, api.path);
        Map<String, String> headers = Map.of("Api-Key", apiKey);
        List<DestinationRequest> out = new ArrayList<>();
        for (List<DeliveryEntry> chunk : Chunks.of(sendable, limits.eventsPerRequest(), limits.bytesPerRequest(), requestOverheadBytes(), 1,
                e -> bytes.get(e).length)) {
            ObjectNode root = Events.JSON.createObjectNode();
            ArrayNode array = root.putArray(api.array);
            List<Who> who = new ArrayList<>();
            for (DeliveryEntry e : chunk) {
                ObjectNode o = objects.get(e);
                array.add(o);
                // The email a failure may be named by: the user's, or (naming users by id) the one in the data fields.
                String email = Events.text(o, "email");
                if (email == null && o.get("dataFields") != null) {
                    email = Events.text(o.get("dataFields"), "email");
                }
                who.add(new Who(Events.text(o, "userId"), email == null ? null : email.toLowerCase(java.util.Locale.ROOT),
                        Events.text(o, "eventName")));
            }
            out.add(DestinationRequest.post(uri, headers, Events.bytes(root), chunk, List.copyOf(who)));
        }
        return new Requests(out, unsendable);
    }

    private String build(JsonNode event, DeliveryEntry entry, ObjectNode object) {
        String type = Events.text(event, "type");
        boolean track = api == Api.TRACK_BULK;
        if (!(track ? "track" : "identify").equals(type)) {
            return "this iterable destination takes " + (track ? "track" : "identify") + " events, not " + type;
        }
        JsonNode fields = event.get(track ? "properties" : "traits");
        if (byEmail) {
            String email = fields == null ? null : Events.text(fields, "email");
            if (email == null) {
                return "iterable is set to name users by email, and the event has no email in its " + (track ? "properties" : "traits");
            }
            object.put("email", email);
        } else {
            String userId = Events.text(event, "userId");
            if (userId == null) {
                return "iterable needs a userId (or identify_by: email)";
            }
            object.put("userId", userId);
        }
        if (track) {
            object.put("eventName", Events.text(event, "event"));
            String at = Events.text(event, "timestamp");
            if (at != null) {
                try {
                    object.put("createdAt", Instant.parse(at).getEpochSecond());
                } catch (DateTimeParseException e) {
                    // Backflow writes ISO instants; anything else falls back to Iterable's receive time.
                }
            }
            object.put("id", entry.messageId());
            if (fields != null && fields.isObject()) {
                object.set("dataFields", fields);
            }
        } else {
            object.set("dataFields", fields != null && fields.isObject() ? fields : Events.JSON.createObjectNode());
            object.put("preferUserId", !byEmail);
        }
        return null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public DestinationAnswer classify(DestinationRequest request, int status, HttpHeaders headers, byte[] body) {
        JsonNode answer = json(body);
        String code = answer == null ? "" : answer.path("code").asText();
        if (status == 200) {
            List<Who> who = (List<Who>) request.context();
            Map<String, String> byUserId = new HashMap<>();
            Map<String, String> byEmailAddress = new HashMap<>();
            Map<String, String> byEventName = new HashMap<>();
            JsonNode failed = answer == null ? null : answer.get("failedUpdates");
            if (failed != null && failed.isObject()) {
                failed.fields().forEachRemaining(f -> collect(f.getKey(), f.getValue(), byUserId, byEmailAddress));
            }
            if (answer != null) {
                collect("invalidUserIds", answer.get("invalidUserIds"), byUserId, byEmailAddress);
                collect("invalidEmails", answer.get("invalidEmails"), byUserId, byEmailAddress);
                JsonNode disallowed = answer.get("disallowedEventNames");
                if (disallowed != null && disallowed.isArray()) {
                    disallowed.forEach(n -> byEventName.put(n.asText(), "iterable does not allow the event name"));
                }
            }
            Map<Integer, String> rejected = new HashMap<>();
            for (int i = 0; i < who.size(); i++) {
                Who w = who.get(i);
                String why = w.userId() != null ? byUserId.get(w.userId()) : null;
                if (why == null && w.email() != null) {
                    why = byEmailAddress.get(w.email());
                }
                if (why == null && w.eventName() != null) {
                    why = byEventName.get(w.eventName());
                }
                if (why != null) {
                    rejected.put(i, why);
                }
            }
            // Iterable counts its failures; when it names fewer than it counts, the rest cannot be
            // told from the rows it took, so every row of the request not named is refused too:
            // sent again, it updates the same user or event (events carry their messageId as id).
            int failCount = answer == null ? 0 : answer.path("failCount").asInt(0);
            if (failCount > rejected.size()) {
                String why = "iterable counted " + failCount + " failures in the request and named " + rejected.size()
                        + " of them; the others cannot be told apart, so the request's rows are sent again";
                for (int i = 0; i < who.size(); i++) {
                    rejected.putIfAbsent(i, why);
                }
            }
            return DestinationAnswer.rejected(rejected);
        }
        if (status == 429 || code.equals("RateLimitExceeded")) {
            return DestinationAnswer.throttled("HTTP " + status + ": " + HttpAnswers.excerpt(body), HttpAnswers.retryAfter(headers).orElse(null));
        }
        if (status == 401 || code.equals("BadApiKey") || code.equals("Unauthorized")) {
            return DestinationAnswer.fatal(configurationError(401));
        }
        return HttpAnswers.standard(this, request, status, headers, body);
    }

    /** Adds the identifiers of one {@code failedUpdates} list (its name says whether they are user ids or emails). */
    private static void collect(String list, JsonNode values, Map<String, String> byUserId, Map<String, String> byEmail) {
        if (values == null || !values.isArray()) {
            return;
        }
        String why = "iterable: " + list.replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(java.util.Locale.ROOT);
        boolean userIds = list.endsWith("UserIds");
        // Iterable keeps emails in lower case; the rows may not.
        values.forEach(v -> {
            if (userIds) {
                byUserId.put(v.asText(), why);
            } else {
                byEmail.put(v.asText().toLowerCase(java.util.Locale.ROOT), why);
            }
        });
    }

    private static JsonNode json(byte[] body) {
        try {
            return body == null || body.length == 0 ? null : Events.JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public String configurationError(int status) {
        return status == 401 || status == 403
                ? "iterable refused the API key (HTTP " + status + ") at " + displayEndpoint() + "; check destination.api_key (a server-side key)"
                : Destination.super.configurationError(status);
    }

    @Override
    public String toString() {
        return "IterableDestination{" + displayEndpoint() + ", api_key=***" + (byEmail ? ", by email" : "") + "}";
    }
}
