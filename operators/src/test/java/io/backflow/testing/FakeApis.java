package io.backflow.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.testing.HttpReceiver.ReceivedRequest;
import io.backflow.testing.HttpReceiver.Response;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Local stand-ins for APIs Backflow cannot reach from here, each speaking the request and answer
 * shapes its documentation gives (see the README's destination sections for which page says what),
 * including its partial-failure answers. They check what a real API would refuse (credentials,
 * required fields, per-request limits), keep every object they took, and refuse the objects a test
 * names. They are fakes because the real services are not reachable from the build machine.
 */
public final class FakeApis {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FakeApis() {}

    /** What a fake took, object by object, in arrival order. */
    public static final class Taken {
        public final List<JsonNode> objects = new CopyOnWriteArrayList<>();

        public void clear() {
            objects.clear();
        }
    }

    private static JsonNode parse(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Braze {@code POST /users/track}: bearer key; at most 75 objects per array (400 "Max Input
     * Length Exceeded" otherwise); each object names a user ({@code external_id} or
     * {@code user_alias}); events need {@code name} and {@code time}, purchases {@code product_id},
     * {@code currency}, {@code price} and {@code time}. Refused objects come back in a 201 as
     * {@code errors: [{type, input_array, index}]}; the rest are taken.
     */
    public static Function<ReceivedRequest, Response> braze(String apiKey, Predicate<JsonNode> refuse, Taken taken) {
        return r -> {
            if (!("Bearer " + apiKey).equals(r.header("Authorization"))) {
                return Response.status(401).body("{\"message\":\"Invalid API Key\"}");
            }
            if (!r.path().equals("/users/track")) {
                return Response.status(404).body("{\"message\":\"not found\"}");
            }
            JsonNode root = parse(r.body());
            ObjectNode answer = JSON.createObjectNode().put("message", "success");
            ArrayNode errors = JSON.createArrayNode();
            for (String array : new String[] {"attributes", "events", "purchases"}) {
                JsonNode objects = root.path(array);
                if (objects.size() > 75) {
                    return Response.status(400).body("{\"message\":\"Max Input Length Exceeded\"}");
                }
                for (int i = 0; i < objects.size(); i++) {
                    JsonNode o = objects.get(i);
                    String problem = !o.has("external_id") && !o.has("user_alias") ? "'external_id' or 'braze_id' or 'user_alias' is required"
                            : array.equals("events") && (!o.hasNonNull("name") || !o.hasNonNull("time")) ? "events need a name and a time"
                            : array.equals("purchases") && !(o.has("product_id") && o.has("currency") && o.has("price") && o.has("time"))
                                    ? "purchases need product_id, currency, price and time"
                            : refuse.test(o) ? "'" + array + "' object refused by the test" : null;
                    if (problem != null) {
                        errors.addObject().put("type", problem).put("input_array", array).put("index", i);
                    } else {
                        taken.objects.add(((ObjectNode) o.deepCopy()).put("_array", array));
                    }
                }
                if (objects.size() > 0) {
                    answer.put(array + "_processed", objects.size());
                }
            }
            if (!errors.isEmpty()) {
                answer.set("errors", errors);
            }
            return Response.status(201).body(answer.toString());
        };
    }

    /**
     * Iterable {@code POST /api/events/trackBulk} and {@code /api/users/bulkUpdate}: {@code Api-Key}
     * header; a body over 4 MB is {@code 400 BatchTooLarge}; each item names a user by
     * {@code userId} or {@code email}, not both (else {@code 400 BadParams}). Refused users come
     * back in a 200 under {@code failedUpdates.invalidUserIds} (or {@code invalidEmails}), with
     * {@code successCount} and {@code failCount}; the rest are taken.
     */
    public static Function<ReceivedRequest, Response> iterable(String apiKey, Predicate<JsonNode> refuse, Taken taken) {
        return r -> {
            if (!apiKey.equals(r.header("Api-Key"))) {
                return Response.status(401).body("{\"msg\":\"Invalid API key\",\"code\":\"BadApiKey\",\"params\":null}");
            }
            String array = r.path().equals("/api/events/trackBulk") ? "events" : r.path().equals("/api/users/bulkUpdate") ? "users" : null;
            if (array == null) {
                return Response.status(404).body("{\"msg\":\"not found\"}");
            }
            if (r.bodyLength() > 4_000_000) {
                return Response.status(400).body("{\"msg\":\"request too large\",\"code\":\"BatchTooLarge\",\"params\":null}");
            }
            JsonNode items = parse(r.body()).path(array);
            ArrayNode invalidUserIds = JSON.createArrayNode();
            ArrayNode invalidEmails = JSON.createArrayNode();
            int success = 0;
            for (JsonNode item : items) {
                if (item.has("userId") == item.has("email")) {
                    return Response.status(400).body("{\"msg\":\"email or userId, not both\",\"code\":\"BadParams\",\"params\":null}");
                }
                if (refuse.test(item)) {
                    (item.has("userId") ? invalidUserIds.add(item.get("userId").asText()) : invalidEmails.add(item.get("email").asText())).size();
                } else {
                    taken.objects.add(((ObjectNode) item.deepCopy()).put("_array", array));
                    success++;
                }
            }
            ObjectNode answer = JSON.createObjectNode().put("successCount", success).put("failCount", items.size() - success);
            ObjectNode failed = answer.putObject("failedUpdates");
            failed.set("invalidUserIds", invalidUserIds);
            failed.set("invalidEmails", invalidEmails);
            failed.putArray("notFoundEmails");
            return Response.status(200).body(answer.toString());
        };
    }

    /**
     * Mixpanel {@code POST /import?strict=1}: basic auth with a service account and
     * {@code project_id}; at most 2,000 events (413 otherwise); each needs {@code event},
     * {@code properties.time}, {@code properties.distinct_id} and an {@code $insert_id} of at most
     * 36 letters, digits or dashes. With failures: 400 with {@code failed_records: [{index,
     * $insert_id, field, message}]} and {@code num_records_imported}, the valid ones taken.
     */
    public static Function<ReceivedRequest, Response> mixpanel(String user, String secret, String projectId, Predicate<JsonNode> refuse,
            Taken taken) {
        String auth = "Basic " + Base64.getEncoder().encodeToString((user + ":" + secret).getBytes());
        return r -> {
            if (!auth.equals(r.header("Authorization"))) {
                return Response.status(401).body("{\"code\":401,\"error\":\"Invalid credentials\",\"status\":\"Unauthorized\"}");
            }
            if (!r.path().equals("/import")) {
                return Response.status(404).body("{\"error\":\"not found\"}");
            }
            String query = r.query() == null ? "" : "&" + r.query() + "&";
            if (!query.contains("&strict=1&") || !query.contains("&project_id=" + projectId + "&")) {
                return Response.status(400).body("{\"code\":400,\"error\":\"project_id and strict=1 are required here\",\"status\":\"Bad Request\"}");
            }
            if (r.events().size() > 2000) {
                return Response.status(413).body("{\"code\":413,\"error\":\"too many events\",\"status\":\"Request Entity Too Large\"}");
            }
            ArrayNode failed = JSON.createArrayNode();
            int imported = 0;
            for (int i = 0; i < r.events().size(); i++) {
                JsonNode e = r.events().get(i);
                JsonNode p = e.path("properties");
                String insertId = p.path("$insert_id").asText("");
                String problem = !e.hasNonNull("event") ? "event: missing"
                        : !p.has("time") ? "properties.time: missing"
                        : !p.hasNonNull("distinct_id") ? "properties.distinct_id: missing"
                        : !insertId.matches("[A-Za-z0-9-]{1,36}") ? "properties.$insert_id: invalid"
                        : refuse.test(e) ? "properties: refused by the test" : null;
                if (problem != null) {
                    failed.addObject().put("index", i).put("$insert_id", insertId).put("field", problem.split(":")[0])
                            .put("message", problem.split(": ")[1]);
                } else {
                    taken.objects.add(e);
                    imported++;
                }
            }
            if (!failed.isEmpty()) {
                ObjectNode answer = JSON.createObjectNode().put("code", 400).put("error", "some data points in the request failed validation");
                answer.set("failed_records", failed);
                answer.put("num_records_imported", imported).put("status", "Bad Request");
                return Response.status(400).body(answer.toString());
            }
            return Response.status(200).body("{\"code\":200,\"num_records_imported\":" + imported + ",\"status\":\"OK\"}");
        };
    }
}
