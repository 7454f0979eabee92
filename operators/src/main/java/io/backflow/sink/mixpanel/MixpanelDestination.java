package io.backflow.sink.mixpanel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.sink.Chunks;
import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.Destination;
import io.backflow.sink.DestinationAnswer;
import io.backflow.sink.DestinationLimits;
import io.backflow.sink.DestinationRequest;
import io.backflow.sink.EventArrays;
import io.backflow.sink.Events;
import io.backflow.sink.Urls;
import io.backflow.sink.http.HttpAnswers;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Mixpanel's Import API ({@code POST https://api.mixpanel.com/import?strict=1}, or the
 * {@code api-eu} and {@code api-in} hosts): track events as {@code {"event", "properties":
 * {"time", "distinct_id", "$insert_id", ...}}} in a JSON array. The messageId is the
 * {@code $insert_id} (a UUID: 36 characters, letters, digits and dashes, as Mixpanel requires),
 * so Mixpanel drops a re-sent event. Auth: a service account ({@code service_account},
 * {@code secret}, {@code project_id}) or a project token, both as HTTP basic auth.
 *
 * <p>Limits: 2,000 events a request; 2 MB a body (the docs say 10 MB in one place and 2 MB in the
 * 413 example: Backflow stays at the lower), 1 MB an event. With {@code strict=1} a 400 lists the
 * records that failed validation ({@code failed_records[].index}, {@code field}, {@code message})
 * and the others were imported: exactly those events fail. 429, 502 and 503 are retried with
 * backoff (Mixpanel sends no Retry-After). Identify events go to Mixpanel's profile API, which is
 * not built; Mixpanel cannot delete events here, so mirror mode is refused.
 */
public final class MixpanelDestination implements Destination {
    private static final long serialVersionUID = 1L;
    public static final DestinationLimits API_LIMITS = new DestinationLimits(2_000, 2_000_000, 1_000_000, 0, 0);

    private final String url;
    private final String projectId;
    private final String user;
    private final String secret;
    private final DestinationLimits limits;

    /**
     * @param projectId the project id (with a service account), or null (with a project token)
     * @param user the service account's user name, or the project token
     * @param secret the service account's secret, or null with a project token
     */
    public MixpanelDestination(String url, String projectId, String user, String secret, DestinationLimits limits) {
        this.url = Objects.requireNonNull(url, "destination.url");
        if (user == null || user.isEmpty()) {
            throw new IllegalArgumentException("destination.service_account (with secret and project_id) or destination.project_token is required for mixpanel");
        }
        if (secret != null && (projectId == null || projectId.isEmpty())) {
            throw new IllegalArgumentException("destination.project_id is required with a mixpanel service account");
        }
        this.projectId = projectId;
        this.user = user;
        this.secret = secret;
        this.limits = limits.within(API_LIMITS);
        endpoint();
    }

    private URI endpoint() {
        URI base = Urls.withPath(url, "/import");
        String query = "strict=1" + (projectId == null ? "" : "&project_id=" + java.net.URLEncoder.encode(projectId, StandardCharsets.UTF_8));
        return URI.create(base + (base.getRawQuery() == null ? "?" : "&") + query);
    }

    @Override
    public String name() {
        return "mixpanel";
    }

    @Override
    public DestinationLimits limits() {
        return limits;
    }

    @Override
    public int requestOverheadBytes() {
        return 2;
    }

    @Override
    public boolean canDelete() {
        return false;
    }

    @Override
    public String displayEndpoint() {
        URI u = endpoint();
        return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort()) + u.getRawPath() + "?strict=1";
    }

    @Override
    public List<String> secrets() {
        List<String> out = new ArrayList<>(List.of(user, basicToken()));
        if (secret != null) {
            out.add(secret);
        }
        return out;
    }

    private String basicToken() {
        return Base64.getEncoder().encodeToString((user + ":" + (secret == null ? "" : secret)).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public Requests requests(List<DeliveryEntry> events) {
        Map<DeliveryEntry, String> unsendable = new IdentityHashMap<>();
        List<DeliveryEntry> sendable = new ArrayList<>();
        for (DeliveryEntry entry : events) {
            JsonNode event = Events.parse(entry);
            ObjectNode object = Events.JSON.createObjectNode();
            String problem = build(event, entry, object);
            if (problem != null) {
                unsendable.put(entry, problem);
            } else {
                sendable.add(new DeliveryEntry(entry.key(), entry.messageId(), Events.bytes(object), entry.keyPositionValue(), entry.mark()));
            }
        }
        // The request carries the reshaped events; the answer's indexes refer to them, in order.
        List<DeliveryEntry> originals = new ArrayList<>();
        for (DeliveryEntry e : events) {
            if (!unsendable.containsKey(e)) {
                originals.add(e);
            }
        }
        URI uri = endpoint();
        Map<String, String> headers = Map.of("Authorization", "Basic " + basicToken());
        List<DestinationRequest> out = new ArrayList<>();
        int at = 0;
        for (List<DeliveryEntry> chunk : Chunks.of(sendable, limits.eventsPerRequest(), limits.bytesPerRequest(), 2, 1, e -> e.payload().length)) {
            List<DeliveryEntry> carried = originals.subList(at, at + chunk.size());
            at += chunk.size();
            out.add(DestinationRequest.post(uri, headers, EventArrays.body("[", chunk, "]"), carried, null));
        }
        return new Requests(out, unsendable);
    }

    private static String build(JsonNode event, DeliveryEntry entry, ObjectNode object) {
        String type = Events.text(event, "type");
        if (!"track".equals(type)) {
            return "mixpanel's import API takes track events, not " + type + " events";
        }
        String distinctId = Events.text(event, "userId") != null ? Events.text(event, "userId") : Events.text(event, "anonymousId");
        object.put("event", Events.text(event, "event"));
        ObjectNode properties = object.putObject("properties");
        JsonNode given = event.get("properties");
        if (given != null && given.isObject()) {
            properties.setAll((ObjectNode) given);
        }
        String at = Events.text(event, "timestamp");
        try {
            properties.put("time", at == null ? System.currentTimeMillis() : Instant.parse(at).toEpochMilli());
        } catch (DateTimeParseException e) {
            return "mixpanel needs a time; the event's timestamp '" + at + "' is not an instant";
        }
        properties.put("distinct_id", distinctId);
        properties.put("$insert_id", entry.messageId());
        return null;
    }

    @Override
    public DestinationAnswer classify(DestinationRequest request, int status, HttpHeaders headers, byte[] body) {
        if (status == 400) {
            JsonNode failed = failedRecords(body);
            if (failed != null && failed.isArray() && failed.size() > 0) {
                Map<Integer, String> rejected = new HashMap<>();
                for (JsonNode f : failed) {
                    int index = f.path("index").asInt(-1);
                    if (index >= 0 && index < request.entries().size()) {
                        rejected.put(index, "mixpanel refused the event: " + f.path("field").asText() + ": " + f.path("message").asText());
                    }
                }
                // strict=1 imports the valid records of a request that fails in part.
                return DestinationAnswer.rejected(rejected);
            }
        }
        if (status == 413) {
            return request.entries().size() == 1 ? DestinationAnswer.rejected(Map.of(0, "HTTP 413: the event is too large for mixpanel"))
                    : DestinationAnswer.split("HTTP 413: " + HttpAnswers.excerpt(body));
        }
        return HttpAnswers.standard(this, request, status, headers, body);
    }

    private static JsonNode failedRecords(byte[] body) {
        try {
            JsonNode root = Events.JSON.readTree(body);
            return root == null ? null : root.get("failed_records");
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public String configurationError(int status) {
        return status == 401 || status == 403
                ? "mixpanel refused the credentials (HTTP " + status + ") at " + displayEndpoint()
                        + "; check destination.service_account, destination.secret and destination.project_id (or destination.project_token)"
                : Destination.super.configurationError(status);
    }

    @Override
    public String toString() {
        return "MixpanelDestination{" + displayEndpoint() + (projectId == null ? ", project token" : ", project " + projectId) + "}";
    }
}
