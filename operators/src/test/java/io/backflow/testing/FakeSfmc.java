package io.backflow.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.testing.HttpReceiver.ReceivedRequest;
import io.backflow.testing.HttpReceiver.Response;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A local Salesforce Marketing Cloud speaking the documented shapes of the REST API's token route
 * and asynchronous data extension rows API (see the README's Salesforce Marketing Cloud section):
 *
 * <ul>
 *   <li>{@code POST /v2/token} {@code {"grant_type":"client_credentials","client_id","client_secret"}}
 *       answers {@code {"access_token","token_type":"Bearer","expires_in","scope","rest_instance_url"}},
 *       or 401 {@code {"error":"invalid_client"}};
 *   <li>{@code PUT /data/v1/async/dataextensions/key:{key}/rows} {@code {"items":[...]}} with
 *       {@code Authorization: Bearer} a live token answers 202 {@code {"requestId","resultMessages":[]}}
 *       (401 for an unknown, expired or revoked token, 404 for another key);
 *   <li>{@code GET /data/v1/async/{requestId}/status} answers {@code {"status":{"requestStatus":
 *       "Pending"|"Complete","hasErrors",...},"requestId","resultMessages":[]}}, Pending for as many
 *       polls as set;
 *   <li>{@code GET /data/v1/async/{requestId}/results} lists {@code {"errorCode","message","status":
 *       "Error"}} items that, as documented, do not name their rows.
 * </ul>
 *
 * <p>The rows it does not refuse are upserted into {@link #rows()} by the key column, and every
 * upsert is counted per key. Whether the real API takes the other rows of a request with errors is
 * not documented; this fake takes them, which an upsert makes harmless either way.
 */
public final class FakeSfmc implements Function<ReceivedRequest, Response> {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String REFUSAL = "Violation of PRIMARY KEY constraint 'PK_Orders'. Cannot insert duplicate key in object.";

    private final String clientId;
    private final String clientSecret;
    private final String dataExtension;
    private final String keyColumn;
    private final Predicate<JsonNode> refuse;
    private volatile int expiresIn = 1079;
    private volatile int pendingPolls = 1;
    private volatile int revokeEvery = 0;
    private volatile boolean echoCredentials;
    /** token -> System.nanoTime() it expires at */
    private final Map<String, Long> tokens = new ConcurrentHashMap<>();
    private final Set<String> revoked = ConcurrentHashMap.newKeySet();
    private final Map<String, Async> requests = new ConcurrentHashMap<>();
    private final Map<String, JsonNode> rows = new ConcurrentHashMap<>();
    private final Map<String, Integer> upserts = new ConcurrentHashMap<>();
    private final AtomicInteger tokenRequests = new AtomicInteger();
    private final AtomicInteger dataRequests = new AtomicInteger();
    private final AtomicInteger unauthorized = new AtomicInteger();
    private final AtomicInteger statusPolls = new AtomicInteger();
    /** Every token it issued, and every Authorization header it refused (for the redaction tests). */
    public final List<String> issued = new CopyOnWriteArrayList<>();

    private static final class Async {
        final List<String> errors;
        final AtomicInteger pendingLeft;

        Async(List<String> errors, int pending) {
            this.errors = errors;
            this.pendingLeft = new AtomicInteger(pending);
        }
    }

    public FakeSfmc(String clientId, String clientSecret, String dataExtension, String keyColumn, Predicate<JsonNode> refuse) {
        this.clientId = clientId;
        this.clientSecret = clientSecret;
        this.dataExtension = dataExtension;
        this.keyColumn = keyColumn;
        this.refuse = refuse;
    }

    /** Tokens live this many seconds (SFMC issues 1079). */
    public FakeSfmc expiresIn(int seconds) { expiresIn = seconds; return this; }
    /** Status polls answered Pending before Complete; Integer.MAX_VALUE never completes. */
    public FakeSfmc pendingPolls(int n) { pendingPolls = n; return this; }
    /** Revokes every token after each {@code n} data requests (0: never), as a token that expires early. */
    public FakeSfmc revokeTokensEvery(int n) { revokeEvery = n; return this; }

    /** Refusal messages repeat the request's Authorization header and the client secret, as a careless server might. */
    public FakeSfmc echoCredentials(boolean echo) { echoCredentials = echo; return this; }

    /** The rows of the data extension by key column value. */
    public Map<String, JsonNode> rows() { return Map.copyOf(rows); }
    /** Upserts per key column value. */
    public Map<String, Integer> upserts() { return Map.copyOf(upserts); }
    public int tokenRequests() { return tokenRequests.get(); }
    public int unauthorized() { return unauthorized.get(); }
    public int statusPolls() { return statusPolls.get(); }

    @Override
    public Response apply(ReceivedRequest r) {
        if (r.method().equals("POST") && r.path().equals("/v2/token")) {
            return token(r);
        }
        String auth = r.header("Authorization");
        String token = auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
        Long expires = token == null ? null : tokens.get(token);
        if (expires == null || revoked.contains(token) || System.nanoTime() - expires >= 0) {
            unauthorized.incrementAndGet();
            return Response.status(401).body("{\"message\":\"Not Authorized\",\"errorcode\":0,\"documentation\":\"\"}");
        }
        int n = dataRequests.incrementAndGet();
        if (revokeEvery > 0 && n % revokeEvery == 0) {
            revoked.addAll(tokens.keySet()); // answered this once, refused from the next request on
        }
        String rowsPrefix = "/data/v1/async/dataextensions/key:";
        if (r.method().equals("PUT") && r.path().startsWith(rowsPrefix) && r.path().endsWith("/rows")) {
            String key = URLDecoder.decode(r.path().substring(rowsPrefix.length(), r.path().length() - "/rows".length()), StandardCharsets.UTF_8);
            if (!key.equals(dataExtension)) {
                return Response.status(404).body("{\"message\":\"Data extension not found\",\"errorcode\":10000}");
            }
            return upsert(r);
        }
        String[] parts = r.path().split("/");
        // "", data, v1, async, {id}, status|results
        if (r.method().equals("GET") && parts.length == 6 && parts[3].equals("async")) {
            Async async = requests.get(parts[4]);
            if (async == null) {
                return Response.status(404).body("{\"message\":\"request not found\"}");
            }
            return parts[5].equals("status") ? status(parts[4], async) : parts[5].equals("results") ? results(async)
                    : Response.status(404).body("{}");
        }
        return Response.status(404).body("{\"message\":\"not found\"}");
    }

    private Response token(ReceivedRequest r) {
        tokenRequests.incrementAndGet();
        JsonNode body = parse(r.body());
        if (body == null || !"client_credentials".equals(body.path("grant_type").asText())) {
            return Response.status(400).body("{\"error\":\"unsupported_grant_type\",\"error_description\":\"Use client_credentials.\"}");
        }
        if (!clientId.equals(body.path("client_id").asText()) || !clientSecret.equals(body.path("client_secret").asText())) {
            // Echoes what it was sent, as some servers do: the client must not store it.
            return Response.status(401).body("{\"error\":\"invalid_client\",\"error_description\":\"Client authentication failed for "
                    + body.path("client_secret").asText() + ".\"}");
        }
        String token = "tok-" + UUID.randomUUID();
        tokens.put(token, System.nanoTime() + expiresIn * 1_000_000_000L);
        issued.add(token);
        ObjectNode answer = JSON.createObjectNode().put("access_token", token).put("token_type", "Bearer").put("expires_in", expiresIn)
                .put("scope", "data_extensions_read data_extensions_write").put("soap_instance_url", "https://x.soap.marketingcloudapis.com/")
                .put("rest_instance_url", "https://x.rest.marketingcloudapis.com/");
        return Response.status(200).body(answer.toString());
    }

    private Response upsert(ReceivedRequest r) {
        JsonNode items = parse(r.body()) == null ? null : parse(r.body()).get("items");
        if (items == null || !items.isArray() || items.isEmpty()) {
            return Response.status(400).body("{\"message\":\"items are required\",\"errorcode\":10000}");
        }
        if (items.size() > 32_000) {
            return Response.status(400).body("{\"message\":\"too many items\",\"errorcode\":10000}");
        }
        List<String> errors = new CopyOnWriteArrayList<>();
        for (JsonNode item : items) {
            String key = item.path(keyColumn).asText("");
            if (key.isEmpty()) {
                errors.add("The field " + keyColumn + " is required.");
            } else if (refuse.test(item)) {
                errors.add(echoCredentials ? REFUSAL + " (caller " + r.header("Authorization") + ", client " + clientSecret + ")" : REFUSAL);
            } else {
                rows.put(key, item);
                upserts.merge(key, 1, Integer::sum);
            }
        }
        String id = UUID.randomUUID().toString();
        requests.put(id, new Async(errors, pendingPolls));
        return Response.status(202).body("{\"requestId\":\"" + id + "\",\"resultMessages\":[]}");
    }

    private Response status(String id, Async async) {
        statusPolls.incrementAndGet();
        boolean pending = async.pendingLeft.getAndUpdate(n -> n == Integer.MAX_VALUE ? n : Math.max(0, n - 1)) > 0;
        ObjectNode answer = JSON.createObjectNode();
        ObjectNode s = answer.putObject("status");
        s.put("callDateTime", "2024-03-01T12:00:00.000").put("hasErrors", !pending && !async.errors.isEmpty())
                .put("pickupDateTime", "2024-03-01T12:00:00.100").put("requestStatus", pending ? "Pending" : "Complete")
                .put("resultStatus", pending ? "" : async.errors.isEmpty() ? "OK" : "Error").put("requestId", id);
        if (!pending) {
            s.put("completionDateTime", "2024-03-01T12:00:01.000");
        }
        answer.put("requestId", id);
        answer.putArray("resultMessages");
        return Response.status(200).body(answer.toString());
    }

    private Response results(Async async) {
        ObjectNode answer = JSON.createObjectNode().put("page", 1).put("pageSize", 50).put("count", async.errors.size());
        ArrayNode items = answer.putArray("items");
        for (String e : async.errors) {
            items.addObject().put("errorCode", "UnexpectedError").put("message", e).put("status", "Error");
        }
        return Response.status(200).body(answer.toString());
    }

    private static JsonNode parse(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }
}
