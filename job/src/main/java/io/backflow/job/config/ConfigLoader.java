package io.backflow.job.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.backflow.diff.SyncMode;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.job.Destinations;
import io.backflow.sink.http.HttpDestinationSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a connection's YAML file: substitutes {@code ${ENV_VAR}} references (for secrets), then
 * checks every field and reports all problems at once, each naming its field, before any job
 * starts.
 */
public final class ConfigLoader {
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    // A key given twice would silently take the last value.
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

    private final Function<String, String> environment;

    public ConfigLoader() {
        this(System::getenv);
    }

    /** A loader that resolves {@code ${NAME}} through the given lookup (tests pass their own). */
    public ConfigLoader(Function<String, String> environment) {
        this.environment = environment;
    }

    public ConnectionConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), List.of("file not found"));
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of("cannot be read: " + e.getMessage()));
        }
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr();
            String twice = duplicateKey(e);
            if (twice != null) {
                throw new ConfigException(file.toString(), List.of(twice + ": given twice" + where + "; keep one"));
            }
            throw new ConfigException(file.toString(), List.of("not valid YAML" + where + ": " + e.getOriginalMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(file.toString(), List.of("must be a YAML mapping with source, mapping and destination"));
        }
        List<String> problems = new ArrayList<>();
        root = substitute(root, "", problems);
        ConnectionConfig config = read(file, new Node(root, "", problems));
        if (problems.isEmpty()) {
            try {
                // Compiles the template, so a syntax error in it is reported with the rest.
                io.backflow.job.SyncPipeline.mappingSpec(config);
            } catch (IllegalArgumentException e) {
                problems.add("mapping: " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(file.toString(), problems);
        }
        return config;
    }

    /** The dotted path of the key a strict parser found twice, or null for any other error. */
    private static String duplicateKey(JsonProcessingException e) {
        if (e.getOriginalMessage() == null || !e.getOriginalMessage().startsWith("Duplicate field")
                || !(e.getProcessor() instanceof com.fasterxml.jackson.core.JsonParser)) {
            return null;
        }
        java.util.Deque<String> names = new java.util.ArrayDeque<>();
        com.fasterxml.jackson.core.JsonStreamContext ctx = ((com.fasterxml.jackson.core.JsonParser) e.getProcessor()).getParsingContext();
        for (; ctx != null; ctx = ctx.getParent()) {
            if (ctx.getCurrentName() != null) {
                names.addFirst(ctx.getCurrentName());
            }
        }
        return names.isEmpty() ? null : String.join(".", names);
    }

    /** Replaces ${NAME} (or ${NAME:-default}) in every string value, naming the field of an unset one. */
    private JsonNode substitute(JsonNode node, String path, List<String> problems) {
        if (node.isObject()) {
            ObjectNode copy = ((ObjectNode) node).objectNode();
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                copy.set(f.getKey(), substitute(f.getValue(), path.isEmpty() ? f.getKey() : path + "." + f.getKey(), problems));
            }
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = ((ArrayNode) node).arrayNode();
            for (int i = 0; i < node.size(); i++) {
                copy.add(substitute(node.get(i), path + "[" + i + "]", problems));
            }
            return copy;
        }
        if (node.isTextual() && node.asText().contains("${")) {
            Matcher m = ENV.matcher(node.asText());
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                String value = environment.apply(m.group(1));
                if (value == null) {
                    value = m.group(2);
                }
                if (value == null) {
                    problems.add(path + ": environment variable " + m.group(1) + " is not set");
                    value = "";
                }
                m.appendReplacement(sb, Matcher.quoteReplacement(value));
            }
            m.appendTail(sb);
            return TextNode.valueOf(sb.toString());
        }
        return node;
    }

    private ConnectionConfig read(Path file, Node root) {
        root.allowOnly(Set.of("name", "enabled", "source", "mapping", "destination", "state", "sync", "schedule"));
        String fileName = file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        String name = root.string("name", false);
        if (name == null) {
            name = fileName;
        }
        if (!name.matches("[A-Za-z0-9_.-]{1,200}")) {
            root.problem("name", "'" + name + "' may only use letters, digits, '.', '_' and '-'");
        }
        boolean enabled = root.bool("enabled", true);
        Node sourceNode = root.child("source", true);
        ConnectionConfig.Source source = source(sourceNode, file.toAbsolutePath().getParent());
        ConnectionConfig.Mapping mapping = mapping(root.child("mapping", true), source);
        ConnectionConfig.Destination destination = destination(root.child("destination", true), mapping);
        ConnectionConfig.State state = state(root.child("state", false), source);
        Node syncNode = root.child("sync", false);
        ConnectionConfig.Sync sync = sync(syncNode);
        checkChangeDetection(sourceNode, syncNode, source, mapping, state, sync);
        if (sync.mode() == SyncMode.MIRROR && destination.type() != null && !Destinations.canDelete(destination.type())) {
            // The destination's own limit, independent of the checks on the mapping above.
            syncNode.problem("mode", "mirror sends deletes, and " + destination.type().name().toLowerCase(java.util.Locale.ROOT)
                    + " cannot take deletes; use mode: upsert");
        }
        Schedule schedule = schedule(root);
        return new ConnectionConfig(file, name, enabled, source, mapping, destination, state, sync, schedule);
    }

    /** The checks that span sections: what change detection and sync mode need from the rest. */
    private static void checkChangeDetection(Node sourceNode, Node syncNode, ConnectionConfig.Source source, ConnectionConfig.Mapping mapping,
            ConnectionConfig.State state, ConnectionConfig.Sync sync) {
        if (source.changeDetection() == null || source.endpoint() == null || mapping.eventType() == null) {
            return;
        }
        // A diff runs in the ledger's database: on the model itself when the ledger is in the
        // source database, else on a copy of it (SnapshotDiff), so every warehouse has one.
        boolean diff = source.changeDetection() == ConnectionConfig.ChangeDetection.DIFF;
        if (sync.mode() == SyncMode.MIRROR) {
            if (!diff) {
                syncNode.problem("mode", "mirror sends deletes, which a cursor cannot see; use source.change_detection: diff");
            }
            if (mapping.eventType() != ConnectionConfig.EventType.RECORD) {
                syncNode.problem("mode", "mirror sends deletes, and " + mapping.eventType().name().toLowerCase()
                        + " events cannot delete; use mapping.event_type: record");
            }
        }
    }

    private static ConnectionConfig.Source source(Node n, Path dir) {
        n.allowOnly(Set.of("url", "user", "password", "dialect", "table", "sql", "files", "format", "primary_key", "cursor", "cursor_delay",
                "fetch_size", "page_size", "change_detection"));
        List<String> files = n.names("files", false);
        String url = n.string("url", files.isEmpty());
        if (url == null && !files.isEmpty()) {
            // Files are read by an in-memory DuckDB: nothing to install, nothing kept.
            url = FileModel.IN_MEMORY_DUCKDB;
        }
        if (url != null && !url.startsWith("jdbc:")) {
            n.problem("url", "must be a JDBC URL starting with jdbc: (for example jdbc:postgresql://host:5432/db)");
        }
        String dialect = n.string("dialect", false);
        if (dialect != null && !io.backflow.jdbc.Dialects.names().contains(dialect.toLowerCase(java.util.Locale.ROOT))) {
            n.problem("dialect", "'" + dialect + "' is not one of " + String.join(", ", io.backflow.jdbc.Dialects.names()));
            dialect = null;
        }
        String table = n.string("table", false);
        String sql = n.string("sql", false);
        String format = n.string("format", false);
        if (!files.isEmpty()) {
            if (table != null || sql != null) {
                n.problem("files", "set one of source.table, source.sql and source.files");
            } else if (url != null && !url.toLowerCase(java.util.Locale.ROOT).startsWith("jdbc:duckdb:")) {
                n.problem("files", "files are read through DuckDB; leave source.url out (or make it a jdbc:duckdb: URL)");
            } else {
                try {
                    sql = FileModel.query(files, format, dir);
                } catch (IllegalArgumentException e) {
                    n.problem(format != null ? "format" : "files", e.getMessage());
                }
            }
        } else if (format != null) {
            n.problem("format", "only applies to source.files");
        }
        if (n.present() && files.isEmpty() && (table == null) == (sql == null)) {
            n.problem(table == null ? "table" : "sql", "set exactly one of source.table, source.sql and source.files");
        }
        if (sql != null) {
            try {
                // Every statement on the model wraps it as a subquery in a read-only transaction; a
                // second statement would end that transaction. Refused here, before anything runs.
                io.backflow.jdbc.ModelSql.singleQuery(sql);
            } catch (IllegalArgumentException e) {
                n.problem("sql", e.getMessage());
            }
        }
        // Every part is quoted, so any letters (Übersicht, 注文), digits, spaces inside a name and
        // dashes (BigQuery's project ids) are fine; a dot separates the parts.
        String part = "[\\p{L}_][\\p{L}\\p{N}_$ -]*(?<! )";
        if (table != null && !table.matches(part + "(\\." + part + "){0,2}")) {
            n.problem("table", "'" + table + "' is not a table name (schema.table); use source.sql for anything else");
        }
        List<String> key = n.names("primary_key", n.present());
        String cursor = n.string("cursor", false);
        Duration delay = n.duration("cursor_delay", Duration.ZERO, Duration.ZERO, Duration.ofDays(365));
        int fetchSize = (int) n.number("fetch_size", 5_000, 1, 1_000_000);
        int pageSize = (int) n.number("page_size", 50_000, 1, 100_000_000);
        // A cursor is the fast path where the table has one; without it, the diff sees every change.
        ConnectionConfig.ChangeDetection detection = n.enumValue("change_detection", ConnectionConfig.ChangeDetection.class,
                cursor != null ? ConnectionConfig.ChangeDetection.CURSOR : ConnectionConfig.ChangeDetection.DIFF);
        if (detection == ConnectionConfig.ChangeDetection.CURSOR && cursor == null && n.present()) {
            n.problem("change_detection", "cursor needs source.cursor (a column that grows when a row changes)");
        }
        if (detection == ConnectionConfig.ChangeDetection.DIFF && cursor != null) {
            n.problem("cursor", "is only read with change_detection: cursor; remove it, or set change_detection: cursor");
        }
        JdbcEndpoint endpoint = url == null ? null : new JdbcEndpoint(url, n.string("user", false), n.string("password", false), dialect);
        return new ConnectionConfig.Source(endpoint, table, sql, key, cursor, delay, fetchSize, pageSize, detection);
    }

    private static ConnectionConfig.Mapping mapping(Node n, ConnectionConfig.Source source) {
        n.allowOnly(Set.of("event_type", "event", "event_column", "user_id", "anonymous_id", "timestamp", "properties", "traits", "fields"));
        ConnectionConfig.EventType type = n.enumValue("event_type", ConnectionConfig.EventType.class, n.present() ? null : ConnectionConfig.EventType.TRACK);
        String event = n.string("event", false);
        String eventColumn = n.string("event_column", false);
        String userId = n.string("user_id", false);
        String anonymousId = n.string("anonymous_id", false);
        String timestamp = n.string("timestamp", false);
        JsonNode properties = n.present() ? n.raw().get("properties") : null;
        JsonNode traits = n.present() ? n.raw().get("traits") : null;
        JsonNode fields = n.present() ? n.raw().get("fields") : null;
        if (type != ConnectionConfig.EventType.RECORD && fields != null) {
            n.problem("fields", "only record events carry fields; track events carry properties, identify events traits");
        }
        if (n.present() && type != ConnectionConfig.EventType.RECORD && userId == null && anonymousId == null) {
            n.problem("user_id", "set mapping.user_id or mapping.anonymous_id (a column naming the user)");
        }
        JsonNode template = null;
        if (type == ConnectionConfig.EventType.TRACK) {
            if ((event == null) == (eventColumn == null)) {
                n.problem("event", "a track mapping needs exactly one of mapping.event (a fixed name) and mapping.event_column");
            }
            if (traits != null) {
                n.problem("traits", "track events carry properties, not traits");
            }
            template = properties;
        } else if (type == ConnectionConfig.EventType.IDENTIFY) {
            if (event != null || eventColumn != null) {
                n.problem(event != null ? "event" : "event_column", "identify events have no event name");
            }
            if (properties != null) {
                n.problem("properties", "identify events carry traits, not properties");
            }
            template = traits;
        } else if (type == ConnectionConfig.EventType.RECORD) {
            if (event != null || eventColumn != null) {
                n.problem(event != null ? "event" : "event_column", "record events have no event name");
            }
            if (properties != null || traits != null) {
                n.problem(properties != null ? "properties" : "traits", "record events carry fields, not properties or traits");
            }
            template = fields;
        }
        String templateField = type == ConnectionConfig.EventType.IDENTIFY ? "traits"
                : type == ConnectionConfig.EventType.RECORD ? "fields" : "properties";
        if (template != null && !template.isNull() && !template.isObject()) {
            n.problem(templateField, "must be a mapping of names to columns or constants");
            template = null;
        }
        if (template == null || template.isNull()) {
            template = new ObjectMapper().createObjectNode();
        }
        return new ConnectionConfig.Mapping(type, event, eventColumn, userId, anonymousId, timestamp, template);
    }

    private static final Set<String> DESTINATION_FIELDS = Set.of("type", "url", "batch_size", "max_request_bytes", "max_event_bytes",
            "max_in_flight", "timeout", "retry", "rate_limit");

    /** The common destination settings a kafka destination has too; the others are about HTTP requests. */
    private static final Set<String> KAFKA_COMMON_FIELDS = Set.of("type", "max_event_bytes");

    private static ConnectionConfig.Destination destination(Node n, ConnectionConfig.Mapping mapping) {
        ConnectionConfig.DestinationType type = n.enumValue("type", ConnectionConfig.DestinationType.class, n.present() ? null : ConnectionConfig.DestinationType.HTTP);
        java.util.Set<String> known = new java.util.HashSet<>(DESTINATION_FIELDS);
        if (type != null) {
            known.addAll(Destinations.options(type));
        } else {
            for (ConnectionConfig.DestinationType t : ConnectionConfig.DestinationType.values()) {
                known.addAll(Destinations.options(t));
            }
        }
        if (type != null && n.present() && n.raw().isObject()) {
            // A setting of another destination type gets a message saying so, not "unknown field".
            for (ConnectionConfig.DestinationType other : ConnectionConfig.DestinationType.values()) {
                for (String option : Destinations.options(other)) {
                    if (!known.contains(option) && n.raw().has(option)) {
                        List<String> owners = new ArrayList<>();
                        for (ConnectionConfig.DestinationType t : ConnectionConfig.DestinationType.values()) {
                            if (Destinations.options(t).contains(option)) {
                                owners.add(t.name().toLowerCase(java.util.Locale.ROOT));
                            }
                        }
                        n.problem(option, "is a setting of " + String.join(" and ", owners) + " destinations, not of "
                                + type.name().toLowerCase(java.util.Locale.ROOT) + " ones");
                        known.add(option);
                    }
                }
            }
        }
        n.allowOnly(known);
        String typeName = type == null ? "this" : type.name().toLowerCase(java.util.Locale.ROOT);
        String defaultUrl = type == null ? null : Destinations.defaultUrl(type);
        if (type == ConnectionConfig.DestinationType.KAFKA && n.present()) {
            for (String http : DESTINATION_FIELDS) {
                if (!KAFKA_COMMON_FIELDS.contains(http) && n.raw().has(http)) {
                    n.problem(http, "is a setting of HTTP destinations, not of kafka ones (producer settings go under properties)");
                }
            }
        }
        // sfmc's URL comes from its subdomain when it gives one; typeOptions says what is missing.
        boolean sfmc = type == ConnectionConfig.DestinationType.SFMC;
        String url = type != null && !type.http() ? null : n.string("url", defaultUrl == null && !sfmc);
        if (url == null) {
            url = defaultUrl;
        }
        String urlProblem = url == null ? null : io.backflow.sink.Urls.problem(url);
        if (urlProblem != null) {
            // The URL itself is not repeated: it may hold credentials.
            n.problem("url", urlProblem);
        }
        String writeKey = n.string("write_key", false);
        if (type == ConnectionConfig.DestinationType.HTTP && n.present() && writeKey == null) {
            n.problem("write_key", "required for an http destination (the source's write key; use ${ENV_VAR})");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        JsonNode h = n.present() ? n.raw().get("headers") : null;
        if (h != null && !h.isNull()) {
            if (!h.isObject()) {
                n.problem("headers", "must be a mapping of header names to values");
            } else {
                h.fields().forEachRemaining(e -> headers.put(e.getKey(), e.getValue().asText()));
            }
        }
        Map<String, String> options = new LinkedHashMap<>();
        if (type != null) {
            for (String option : Destinations.options(type)) {
                if (!option.equals("write_key") && !option.equals("headers") && !option.equals("properties")) {
                    String v = n.string(option, false);
                    if (v != null) {
                        options.put(option, v);
                    }
                }
            }
            typeOptions(n, type, options);
            if (sfmc && url == null && options.containsKey("subdomain")) {
                url = io.backflow.sink.sfmc.SfmcDestination.restUrl(options.get("subdomain"));
            }
        }
        ConnectionConfig.EventType eventType = mapping.eventType() == null ? ConnectionConfig.EventType.TRACK : mapping.eventType();
        io.backflow.sink.DestinationLimits api = type == null ? null : Destinations.apiLimits(type, eventType);
        int batchSize = (int) n.number("batch_size", type == null ? HttpDestinationSink.DEFAULT_BATCH_SIZE : Destinations.defaultBatchSize(type), 1,
                api == null ? 100_000 : api.eventsPerRequest());
        long maxRequestBytes = n.number("max_request_bytes", type == null ? HttpDestinationSink.DEFAULT_MAX_REQUEST_BYTES
                : Destinations.defaultRequestBytes(type, eventType), 1_024, api == null ? 100_000_000 : api.bytesPerRequest());
        long maxEventBytes = n.number("max_event_bytes", HttpDestinationSink.DEFAULT_MAX_EVENT_BYTES, 256,
                api == null ? 100_000_000 : api.bytesPerEvent());
        if (type != null) {
            // The sink's own rule, so a file that loads always builds.
            String limits = HttpDestinationSink.limitsProblem(Destinations.overheadBytes(type), maxRequestBytes, maxEventBytes);
            if (limits != null) {
                n.problem("max_event_bytes", limits);
            }
            if (mapping.eventType() != null && !Destinations.eventTypes(type).contains(mapping.eventType())) {
                n.problem("type", typeName + " takes " + Destinations.eventTypes(type).toString().toLowerCase(java.util.Locale.ROOT)
                        + " events, not " + mapping.eventType().name().toLowerCase(java.util.Locale.ROOT) + " events");
            }
        }
        int maxInFlight = (int) n.number("max_in_flight", HttpDestinationSink.DEFAULT_MAX_IN_FLIGHT, 1, 256);
        Duration timeout = n.duration("timeout", HttpDestinationSink.DEFAULT_REQUEST_TIMEOUT, Duration.ofMillis(1), Duration.ofHours(1));
        Node retry = n.child("retry", false);
        retry.allowOnly(Set.of("max_attempts", "initial_backoff", "max_backoff", "max_duration"));
        int maxAttempts = (int) retry.number("max_attempts", HttpDestinationSink.DEFAULT_MAX_ATTEMPTS, 1, 1_000);
        Duration initialBackoff = retry.duration("initial_backoff", HttpDestinationSink.DEFAULT_INITIAL_BACKOFF, Duration.ZERO, Duration.ofHours(1));
        Duration maxBackoff = retry.duration("max_backoff", HttpDestinationSink.DEFAULT_MAX_BACKOFF, Duration.ZERO, Duration.ofDays(1));
        Duration maxDuration = retry.duration("max_duration", HttpDestinationSink.DEFAULT_MAX_RETRY_DURATION, Duration.ZERO, Duration.ofDays(7));
        if (initialBackoff.isZero()) {
            retry.problem("initial_backoff", "must be more than 0 (a failing destination is never hammered)");
        }
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            retry.problem("max_backoff", "must be at least retry.initial_backoff (" + Node.describe(initialBackoff) + ")");
        }
        Node rate = n.child("rate_limit", false);
        rate.allowOnly(Set.of("requests_per_second", "events_per_second"));
        // 0 (the default) leaves the API's own documented rate, or none; more than the API's is refused.
        double requestsPerSecond = rate.number("requests_per_second", 0, 0, api == null || api.requestsPerSecond() == 0 ? 1_000_000 : (long) api.requestsPerSecond());
        double eventsPerSecond = rate.number("events_per_second", 0, 0, api == null || api.eventsPerSecond() == 0 ? 100_000_000 : (long) api.eventsPerSecond());
        return new ConnectionConfig.Destination(type, url, writeKey, headers, batchSize, maxRequestBytes, maxEventBytes,
                maxInFlight, timeout, maxAttempts, initialBackoff, maxBackoff, maxDuration, requestsPerSecond, eventsPerSecond, options);
    }

    /** The type-specific settings each destination needs. */
    private static void typeOptions(Node n, ConnectionConfig.DestinationType type, Map<String, String> o) {
        if (!n.present()) {
            return;
        }
        switch (type) {
            case BRAZE:
            case ITERABLE:
                if (!o.containsKey("api_key")) {
                    n.problem("api_key", "required for " + type.name().toLowerCase(java.util.Locale.ROOT) + " (use ${ENV_VAR})");
                }
                if (o.containsKey("identify_by") && !Set.of("user_id", "email").contains(o.get("identify_by"))) {
                    n.problem("identify_by", "'" + o.get("identify_by") + "' is not one of user_id, email");
                }
                break;
            case KAFKA:
                kafkaOptions(n, o);
                break;
            case MIXPANEL:
                boolean token = o.containsKey("project_token");
                boolean account = o.containsKey("service_account") || o.containsKey("secret");
                if (token == account) {
                    n.problem("service_account", "set either project_token, or service_account with secret and project_id");
                } else if (account) {
                    for (String field : new String[] {"service_account", "secret", "project_id"}) {
                        if (!o.containsKey(field)) {
                            n.problem(field, "required with a mixpanel service account");
                        }
                    }
                }
                break;
            case SFMC:
                sfmcOptions(n, o);
                break;
            default:
                break;
        }
    }

    /** Producer settings Backflow sets itself, which {@code properties} cannot change. */
    private static final Set<String> KAFKA_OWN_PROPERTIES = Set.of("bootstrap.servers", "transactional.id", "transaction.timeout.ms",
            "key.serializer", "value.serializer", "enable.idempotence");

    private static void kafkaOptions(Node n, Map<String, String> o) {
        for (String field : new String[] {"bootstrap_servers", "topic"}) {
            if (!o.containsKey(field)) {
                n.problem(field, "required for a kafka destination");
            }
        }
        if (o.containsKey("delivery") && !Set.of("exactly_once", "at_least_once").contains(o.get("delivery"))) {
            n.problem("delivery", "'" + o.get("delivery") + "' is not one of exactly_once, at_least_once");
        }
        if (o.containsKey("key") && !Set.of("row_key", "user_id").contains(o.get("key"))) {
            n.problem("key", "'" + o.get("key") + "' is not one of row_key, user_id");
        }
        o.remove("transaction_timeout");
        if (n.raw().has("transaction_timeout")) {
            // Kafka's own bounds: at least 1 s, and a default broker refuses more than 15 minutes
            // (transaction.max.timeout.ms); a broker set higher allows up to its own setting.
            Duration t = n.duration("transaction_timeout", Duration.ofMinutes(15), Duration.ofSeconds(1), Duration.ofDays(7));
            o.put("transaction_timeout", t.toString());
        }
        JsonNode p = n.raw().get("properties");
        if (p != null && !p.isNull()) {
            if (!p.isObject()) {
                n.problem("properties", "must be a mapping of Kafka producer settings to values");
                return;
            }
            p.fields().forEachRemaining(e -> {
                if (KAFKA_OWN_PROPERTIES.contains(e.getKey())) {
                    n.problem("properties", e.getKey() + " is set by Backflow (use bootstrap_servers, delivery, transaction_timeout)");
                } else if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                    n.problem("properties", e.getKey() + " must be a single value");
                } else {
                    o.put(Destinations.KAFKA_PROPERTY + e.getKey(), e.getValue().asText());
                }
            });
        }
    }

    private static void sfmcOptions(Node n, Map<String, String> o) {
        for (String field : new String[] {"client_id", "client_secret", "data_extension"}) {
            if (!o.containsKey(field)) {
                n.problem(field, "required for sfmc" + (field.equals("client_secret") ? " (use ${ENV_VAR})"
                        : field.equals("client_id") ? " (the installed package's API integration)" : " (the data extension's external key)"));
            }
        }
        String subdomain = o.get("subdomain");
        if (subdomain != null && !subdomain.matches("[a-z0-9][a-z0-9-]{0,62}")) {
            n.problem("subdomain", "must be your tenant's subdomain, the letters and digits before .auth.marketingcloudapis.com");
        }
        if (subdomain == null && (!n.raw().hasNonNull("url") || !o.containsKey("auth_url"))) {
            n.problem("subdomain", "set destination.subdomain (as in https://{subdomain}.auth.marketingcloudapis.com),"
                    + " or both destination.url and destination.auth_url");
        }
        String authProblem = o.containsKey("auth_url") ? io.backflow.sink.Urls.problem(o.get("auth_url")) : null;
        if (authProblem != null) {
            n.problem("auth_url", authProblem);
        }
        // The wait before the first status poll; it doubles per poll up to 15 s. Normalized to milliseconds.
        Duration poll = n.duration("poll_interval", io.backflow.sink.sfmc.SfmcDestination.FIRST_POLL, Duration.ofMillis(50), Duration.ofMinutes(1));
        o.put("poll_interval", String.valueOf(poll.toMillis()));
        if (o.containsKey("account_id") && !o.get("account_id").matches("[0-9]{1,18}")) {
            n.problem("account_id", "must be the business unit's MID, a number");
        }
    }

    private static ConnectionConfig.State state(Node n, ConnectionConfig.Source source) {
        n.allowOnly(Set.of("url", "user", "password", "schema", "retention"));
        Duration retention = n.duration("retention", Duration.ofDays(30), Duration.ofSeconds(1), Duration.ofDays(36_500));
        String url = n.string("url", false);
        String schema = n.string("schema", false);
        if (schema != null && !schema.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            n.problem("schema", "'" + schema + "' is not a schema name");
        }
        JdbcEndpoint endpoint;
        if (url == null) {
            endpoint = source.endpoint();
            if (endpoint != null && !canHoldLedger(endpoint)) {
                n.problem("url", "the ledger needs a PostgreSQL or DuckDB database, and the source is "
                        + (FileModel.IN_MEMORY_DUCKDB.equals(endpoint.url()) ? "files read by an in-memory DuckDB" : endpoint.dialect().name())
                        + "; set state.url (for example jdbc:postgresql://host:5432/backflow or jdbc:duckdb:/var/lib/backflow/ledger.duckdb)");
            }
        } else {
            if (!url.startsWith("jdbc:")) {
                n.problem("url", "must be a JDBC URL starting with jdbc:");
            }
            endpoint = new JdbcEndpoint(url, n.string("user", false), n.string("password", false));
            if (url.startsWith("jdbc:") && !canHoldLedger(endpoint)) {
                n.problem("url", "the ledger needs a PostgreSQL or DuckDB database (a jdbc:postgresql: or jdbc:duckdb: file URL), not "
                        + endpoint.dialect().name());
            }
        }
        return new ConnectionConfig.State(endpoint, schema == null ? "backflow" : schema, retention);
    }

    /**
     * {@code schedule: manual}, {@code schedule: {every: 15m}} or
     * {@code schedule: {cron: "0 *\/2 * * *", time_zone: Europe/Berlin}} (UTC when no zone is given).
     */
    private static Schedule schedule(Node root) {
        JsonNode raw = root.raw() == null ? null : root.raw().get("schedule");
        if (raw == null || raw.isNull()) {
            return Schedule.MANUAL;
        }
        if (raw.isTextual()) {
            if (!raw.asText().trim().equalsIgnoreCase("manual")) {
                root.problem("schedule", "'" + raw.asText() + "' is not a schedule; write manual, {every: 15m} or {cron: \"0 * * * *\"}");
            }
            return Schedule.MANUAL;
        }
        Node n = root.child("schedule", false);
        if (!n.present()) {
            return Schedule.MANUAL;
        }
        n.allowOnly(Set.of("every", "cron", "time_zone"));
        String cron = n.string("cron", false);
        boolean every = n.raw().has("every");
        if (every == (cron != null)) {
            n.problem(every ? "cron" : "every", "set exactly one of schedule.every and schedule.cron");
            return Schedule.MANUAL;
        }
        if (every) {
            if (n.raw().has("time_zone")) {
                n.problem("time_zone", "only applies to schedule.cron");
            }
            return Schedule.every(n.duration("every", Duration.ofMinutes(15), Duration.ofSeconds(1), Duration.ofDays(366)));
        }
        String zoneName = n.string("time_zone", false);
        java.time.ZoneId zone = java.time.ZoneOffset.UTC;
        if (zoneName != null) {
            try {
                zone = java.time.ZoneId.of(zoneName);
            } catch (java.time.DateTimeException e) {
                n.problem("time_zone", "'" + zoneName + "' is not a time zone (examples: UTC, Europe/Berlin, America/New_York)");
            }
        }
        try {
            return Schedule.cron(cron, zone);
        } catch (IllegalArgumentException e) {
            n.problem("cron", e.getMessage());
            return Schedule.MANUAL;
        }
    }

    /** The ledger's SQL is PostgreSQL's and DuckDB's, and an in-memory DuckDB forgets it at exit. */
    private static boolean canHoldLedger(JdbcEndpoint endpoint) {
        String u = endpoint.url().toLowerCase(java.util.Locale.ROOT);
        return endpoint.dialect().canHoldLedger() && !u.equals(FileModel.IN_MEMORY_DUCKDB) && !u.startsWith("jdbc:duckdb::memory:");
    }

    private static ConnectionConfig.Sync sync(Node n) {
        n.allowOnly(Set.of("parallelism", "checkpoint_interval", "savepoint_dir", "flink_rest_url", "mode"));
        SyncMode mode = n.enumValue("mode", SyncMode.class, SyncMode.UPSERT);
        int parallelism = (int) n.number("parallelism", 1, 1, 1_024);
        Duration interval = n.duration("checkpoint_interval", Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofDays(1));
        String savepoints = n.string("savepoint_dir", false);
        if (savepoints == null) {
            savepoints = Path.of(System.getProperty("user.home"), ".backflow", "savepoints").toUri().toString();
        } else if (!savepoints.matches("[a-z][a-z0-9+.-]*:.*")) {
            savepoints = Path.of(savepoints).toAbsolutePath().toUri().toString();
        }
        String rest = n.string("flink_rest_url", false);
        if (rest != null && !rest.matches("https?://.+")) {
            n.problem("flink_rest_url", "must be an http:// URL such as http://localhost:8081");
        }
        return new ConnectionConfig.Sync(parallelism, interval, savepoints, rest, mode);
    }
}
