package io.backflow.sink.sfmc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.sink.Chunks;
import io.backflow.sink.DeliveryEntry;
import io.backflow.sink.Destination;
import io.backflow.sink.DestinationAnswer;
import io.backflow.sink.DestinationLimits;
import io.backflow.sink.DestinationRequest;
import io.backflow.sink.EventArrays;
import io.backflow.sink.Events;
import io.backflow.sink.TokenEndpoint;
import io.backflow.sink.Urls;
import io.backflow.sink.http.HttpAnswers;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Salesforce Marketing Cloud data extension rows, through the asynchronous REST API
 * ({@code https://{subdomain}.rest.marketingcloudapis.com}, OAuth2 client credentials from
 * {@code https://{subdomain}.auth.marketingcloudapis.com/v2/token}):
 *
 * <ul>
 *   <li>{@code PUT /data/v1/async/dataextensions/key:{external key}/rows} upserts
 *       {@code {"items":[{column: value}]}}: identify events send their traits, track events their
 *       properties, each with the userId in the key column ({@code SubscriberKey} unless set);
 *       record events send their identifiers and fields. Upsert, not insert, so that a row sent
 *       again (a retry, a split, the next sync) updates itself;
 *   <li>SFMC answers 202 {@code {"requestId"}}: the rows are accepted, their fate unknown. The sink
 *       polls {@code GET /data/v1/async/{requestId}/status} (after 1 s, then 2, 4, ... up to 15 s)
 *       until {@code requestStatus} is {@code Complete} or {@code Error}. Without errors the rows
 *       are delivered; with {@code hasErrors} the sink reads {@code /results}, whose items do not say
 *       which row they are about: one row is refused with the message, several are split in halves
 *       and sent again until the refused rows are alone.
 * </ul>
 *
 * <p>SFMC's async batch limit is 32,000 objects (a hard limit); Backflow sends at most 500 rows
 * and 4 MB a request, its own choice: a split after a refusal re-sends half a request, and every
 * poll is an API call. SFMC cannot delete rows through this API, so mirror mode is refused.
 */
public final class SfmcDestination implements Destination {
    private static final long serialVersionUID = 1L;

    /** Rows per request at most (SFMC's hard limit is 32,000 objects per async request). */
    public static final int ROWS_PER_REQUEST = 500;
    /** 500 rows and 4 MB a request, 1 MB a row; SFMC documents no request rate here. */
    public static final DestinationLimits API_LIMITS = new DestinationLimits(ROWS_PER_REQUEST, 4_000_000, 1_000_000, 0, 0);
    /** The key column when the connection names none. */
    public static final String DEFAULT_KEY_COLUMN = "SubscriberKey";
    /** The wait before the first status poll; it doubles per poll up to {@link #MAX_POLL}. */
    public static final Duration FIRST_POLL = Duration.ofSeconds(1);
    static final Duration MAX_POLL = Duration.ofSeconds(15);
    private static final String PREFIX = "{\"items\":[";
    private static final String SUFFIX = "]}";

    private final String url;
    private final String authUrl;
    private final String clientId;
    private final String clientSecret;
    private final String accountId;
    private final String dataExtension;
    private final String keyColumn;
    private final Duration firstPoll;
    private final DestinationLimits limits;

    /** The REST base URL of an SFMC tenant's subdomain. */
    public static String restUrl(String subdomain) {
        return "https://" + subdomain + ".rest.marketingcloudapis.com";
    }

    /** The authentication base URL of an SFMC tenant's subdomain (Backflow appends {@code /v2/token}). */
    public static String authUrl(String subdomain) {
        return "https://" + subdomain + ".auth.marketingcloudapis.com";
    }

    /**
     * @param url the REST base URL, such as {@code https://abc.rest.marketingcloudapis.com}
     * @param authUrl the authentication base URL, such as {@code https://abc.auth.marketingcloudapis.com}
     * @param accountId the MID of the business unit, or null for the package's default
     * @param dataExtension the data extension's external key
     * @param keyColumn the column that takes the userId of identify and track events, or null for {@code SubscriberKey}
     * @param firstPoll the wait before the first status poll ({@link #FIRST_POLL})
     */
    public SfmcDestination(String url, String authUrl, String clientId, String clientSecret, String accountId, String dataExtension,
            String keyColumn, Duration firstPoll, DestinationLimits limits) {
        this.url = Objects.requireNonNull(url, "destination.url");
        this.authUrl = Objects.requireNonNull(authUrl, "destination.auth_url");
        this.clientId = required(clientId, "destination.client_id is required for sfmc (the installed package's client id)");
        this.clientSecret = required(clientSecret, "destination.client_secret is required for sfmc (use ${ENV_VAR})");
        this.accountId = accountId == null || accountId.isEmpty() ? null : accountId;
        this.dataExtension = required(dataExtension, "destination.data_extension is required for sfmc (the data extension's external key)");
        this.keyColumn = keyColumn == null || keyColumn.isEmpty() ? DEFAULT_KEY_COLUMN : keyColumn;
        this.firstPoll = Objects.requireNonNull(firstPoll, "firstPoll");
        this.limits = limits.within(API_LIMITS);
        Urls.withPath(url, rowsPath());
        Urls.parse(authUrl);
    }

    private static String required(String value, String message) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(message);
        }
        return value;
    }

    @Override
    public String name() {
        return "sfmc";
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
    public int requestOverheadBytes() {
        return PREFIX.length() + SUFFIX.length();
    }

    private String rowsPath() {
        return "/data/v1/async/dataextensions/key:" + URLEncoder.encode(dataExtension, StandardCharsets.UTF_8).replace("+", "%20") + "/rows";
    }

    @Override
    public String displayEndpoint() {
        return Urls.display(Urls.withPath(url, rowsPath()));
    }

    @Override
    public List<String> secrets() {
        return List.of(clientSecret);
    }

    @Override
    public Optional<TokenEndpoint> tokenEndpoint() {
        ObjectNode body = Events.JSON.createObjectNode().put("grant_type", "client_credentials").put("client_id", clientId)
                .put("client_secret", clientSecret);
        if (accountId != null) {
            if (accountId.matches("[0-9]{1,18}")) {
                body.put("account_id", Long.parseLong(accountId));
            } else {
                body.put("account_id", accountId);
            }
        }
        return Optional.of(new TokenEndpoint(Urls.withPath(authUrl, "/v2/token"), Events.bytes(body),
                "destination.client_id and destination.client_secret (and destination.account_id, if set)", "destination.auth_url"));
    }

    /** Which step of the asynchronous exchange a request is, for reading its answer. */
    enum Step { UPSERT, STATUS, RESULTS }

    /** A request's step, the request id SFMC gave the rows (null for the upsert), and the number of the poll. */
    record Exchange(Step step, String requestId, int poll) {}

    @Override
    public Requests requests(List<DeliveryEntry> events) {
        Map<DeliveryEntry, String> unsendable = new IdentityHashMap<>();
        List<DeliveryEntry> sendable = new ArrayList<>();
        Map<DeliveryEntry, byte[]> rows = new IdentityHashMap<>();
        for (DeliveryEntry entry : events) {
            ObjectNode row = Events.JSON.createObjectNode();
            String problem = row(Events.parse(entry), row);
            if (problem != null) {
                unsendable.put(entry, problem);
            } else {
                sendable.add(entry);
                rows.put(entry, Events.bytes(row));
            }
        }
        URI uri = Urls.withPath(url, rowsPath());
        List<DestinationRequest> out = new ArrayList<>();
        for (List<DeliveryEntry> chunk : Chunks.of(sendable, limits.eventsPerRequest(), limits.bytesPerRequest(), requestOverheadBytes(), 1,
                e -> rows.get(e).length)) {
            out.add(upsert(uri, chunk, rows));
        }
        return new Requests(out, unsendable);
    }

    private static DestinationRequest upsert(URI uri, List<DeliveryEntry> chunk, Map<DeliveryEntry, byte[]> rows) {
        List<byte[]> items = new ArrayList<>(chunk.size());
        for (DeliveryEntry e : chunk) {
            items.add(rows.get(e));
        }
        return DestinationRequest.put(uri, Map.of(), EventArrays.join(PREFIX, items, SUFFIX), chunk, new Exchange(Step.UPSERT, null, 0));
    }

    /** The data extension row of {@code event}; a problem when it cannot be one. */
    private String row(JsonNode event, ObjectNode row) {
        String type = Events.text(event, "type");
        if ("record".equals(type)) {
            if ("delete".equals(Events.text(event, "action"))) {
                return "sfmc cannot delete data extension rows";
            }
            copy(event.get("identifiers"), row);
            copy(event.get("fields"), row);
            return row.isEmpty() ? "the record has no identifiers or fields for a data extension row" : null;
        }
        if (!"identify".equals(type) && !"track".equals(type)) {
            return "sfmc takes identify, track and record events, not " + type + " events";
        }
        String userId = Events.text(event, "userId");
        if (userId == null) {
            return "sfmc needs a userId for the data extension's " + keyColumn + " column";
        }
        copy(event.get("identify".equals(type) ? "traits" : "properties"), row);
        row.put(keyColumn, userId);
        return null;
    }

    /** The fields of {@code from} as columns; an object or array value becomes its JSON text (a column holds a scalar). */
    private static void copy(JsonNode from, ObjectNode row) {
        if (from == null || !from.isObject()) {
            return;
        }
        Iterator<Map.Entry<String, JsonNode>> fields = from.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            JsonNode v = f.getValue();
            if (v.isContainerNode()) {
                row.put(f.getKey(), v.toString());
            } else {
                row.set(f.getKey(), v);
            }
        }
    }

    private DestinationRequest poll(DestinationRequest request, String requestId, Step step, int poll) {
        String path = "/data/v1/async/" + URLEncoder.encode(requestId, StandardCharsets.UTF_8) + (step == Step.STATUS ? "/status" : "/results");
        return DestinationRequest.get(Urls.withPath(url, path), Map.of(), request.entries(), new Exchange(step, requestId, poll));
    }

    /** The wait before poll {@code poll} (1, 2, ...): the first wait, doubled each time, at most 15 s. */
    Duration pollDelay(int poll) {
        Duration d = firstPoll.multipliedBy(1L << Math.min(Math.max(poll - 1, 0), 10));
        return d.compareTo(MAX_POLL) > 0 ? MAX_POLL : d;
    }

    @Override
    public DestinationAnswer classify(DestinationRequest request, int status, HttpHeaders headers, byte[] body) {
        Exchange exchange = (Exchange) request.context();
        if (status == 401 || status == 403) {
            // Already the answer to a fresh token (the transport renews on a 401 and sends again).
            return DestinationAnswer.fatal(configurationError(status));
        }
        if (exchange.step() == Step.UPSERT) {
            if (status >= 200 && status < 300) {
                String requestId = text(json(body), "requestId");
                if (requestId == null) {
                    return DestinationAnswer.retry("sfmc answered HTTP " + status + " without a requestId: " + HttpAnswers.excerpt(body), null);
                }
                return DestinationAnswer.pending(poll(request, requestId, Step.STATUS, 1), pollDelay(1),
                        "sfmc accepted the rows (request id " + requestId + ")");
            }
            return HttpAnswers.standard(this, request, status, headers, body);
        }
        String accepted = "sfmc accepted the rows (request id " + exchange.requestId() + ")";
        if (status != 200) {
            if (status == 429 || status == 408 || status >= 500) {
                return HttpAnswers.standard(this, request, status, headers, body);
            }
            // A poll SFMC does not answer says nothing about the rows: retried, then failed, owed to the next sync.
            return DestinationAnswer.retry("HTTP " + status + " to the " + exchange.step().name().toLowerCase(java.util.Locale.ROOT) + " of "
                    + accepted + ": " + HttpAnswers.excerpt(body), null);
        }
        JsonNode answer = json(body);
        if (exchange.step() == Step.STATUS) {
            JsonNode s = answer == null ? null : answer.path("status");
            String requestStatus = s == null ? null : text(s, "requestStatus");
            boolean hasErrors = s != null && s.path("hasErrors").asBoolean(false);
            boolean done = "Complete".equalsIgnoreCase(requestStatus) || "Error".equalsIgnoreCase(requestStatus);
            if (!done) {
                int next = exchange.poll() + 1;
                return DestinationAnswer.pending(poll(request, exchange.requestId(), Step.STATUS, next), pollDelay(next), accepted);
            }
            if (!hasErrors && "Complete".equalsIgnoreCase(requestStatus)) {
                return DestinationAnswer.delivered();
            }
            return DestinationAnswer.pending(poll(request, exchange.requestId(), Step.RESULTS, exchange.poll()), Duration.ZERO, accepted);
        }
        List<String> messages = new ArrayList<>();
        JsonNode items = answer == null ? null : answer.get("items");
        if (items != null && items.isArray()) {
            for (JsonNode item : items) {
                if (!"Error".equalsIgnoreCase(item.path("status").asText("Error"))) {
                    continue;
                }
                String code = text(item, "errorCode");
                String message = text(item, "message");
                messages.add((code == null ? "" : code + ": ") + (message == null ? "(no message)" : message));
            }
        }
        String first = messages.isEmpty() ? "sfmc reported errors for request " + exchange.requestId() + " but listed none" : messages.get(0);
        if (request.entries().size() == 1) {
            return DestinationAnswer.rejected(Map.of(0, "sfmc refused the row: " + first));
        }
        // The result items do not say which row they are about: halves are sent again (an upsert, so
        // the rows SFMC took are only updated) until the refused rows are alone.
        return DestinationAnswer.split("sfmc refused " + (messages.isEmpty() ? "some" : String.valueOf(messages.size())) + " of "
                + request.entries().size() + " rows of request " + exchange.requestId() + " without saying which: " + first);
    }

    private static JsonNode json(byte[] body) {
        try {
            return body == null || body.length == 0 ? null : Events.JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private static String text(JsonNode node, String field) {
        return node == null ? null : Events.text(node, field);
    }

    @Override
    public String configurationError(int status) {
        return status == 401 || status == 403
                ? "sfmc refused the access token (HTTP " + status + ") at " + displayEndpoint() + "; check destination.client_id,"
                        + " destination.client_secret and destination.account_id, and that the installed package may write data extensions"
                : status == 404
                ? "sfmc has no endpoint at " + displayEndpoint() + " (HTTP 404); check destination.data_extension (the external key)"
                        + " and destination.url (or subdomain)"
                : Destination.super.configurationError(status);
    }

    @Override
    public String toString() {
        return "SfmcDestination{" + displayEndpoint() + ", client_id=" + clientId + ", client_secret=***"
                + (accountId == null ? "" : ", account_id=" + accountId) + ", key_column=" + keyColumn + "}";
    }
}
