package io.backflow.job;

import io.backflow.job.config.ConnectionConfig;
import io.backflow.job.config.ConnectionConfig.DestinationType;
import io.backflow.job.config.ConnectionConfig.EventType;
import io.backflow.sink.Destination;
import io.backflow.sink.DestinationLimits;
import io.backflow.sink.braze.BrazeDestination;
import io.backflow.sink.iterable.IterableDestination;
import io.backflow.sink.kafka.KafkaDestinationSink;
import io.backflow.sink.kafka.KafkaKey;
import io.backflow.sink.mixpanel.MixpanelDestination;
import io.backflow.sink.segment.SegmentDestination;
import io.backflow.sink.sfmc.SfmcDestination;
import io.backflow.sink.webhook.WebhookDestination;
import java.util.EnumSet;
import org.apache.flink.connector.base.DeliveryGuarantee;
import java.util.Map;
import java.util.Set;

/**
 * The destination types a connection file can name: what each needs in its {@code destination:}
 * section, what it takes, and the {@link Destination} the section describes. The limits and
 * behaviour themselves live in each destination's class.
 */
public final class Destinations {
    private Destinations() {}

    /** The type-specific settings of each type, beside the common ones (url, batch_size, retry, rate_limit...). */
    public static Set<String> options(DestinationType type) {
        switch (type) {
            case HTTP: return Set.of("write_key", "headers");
            case WEBHOOK: return Set.of("headers");
            case BRAZE: return Set.of("api_key", "purchase_event");
            case ITERABLE: return Set.of("api_key", "identify_by");
            case MIXPANEL: return Set.of("project_id", "service_account", "secret", "project_token");
            case KAFKA: return Set.of("bootstrap_servers", "topic", "delivery", "key", "transaction_timeout", "properties");
            case SFMC: return Set.of("subdomain", "auth_url", "client_id", "client_secret", "account_id", "data_extension", "key_column",
                    "poll_interval");
            default: return Set.of();
        }
    }

    /** The URL used when the file gives none, or null when it must give one (sfmc's comes from its subdomain). */
    public static String defaultUrl(DestinationType type) {
        switch (type) {
            case ITERABLE: return "https://api.iterable.com";
            case MIXPANEL: return "https://api.mixpanel.com";
            default: return null;
        }
    }

    /** The event types a destination takes. */
    public static Set<EventType> eventTypes(DestinationType type) {
        switch (type) {
            case BRAZE:
            case ITERABLE:
                return EnumSet.of(EventType.TRACK, EventType.IDENTIFY);
            case MIXPANEL:
                return EnumSet.of(EventType.TRACK);
            default:
                return EnumSet.allOf(EventType.class);
        }
    }

    /** Whether it can take deletes (mirror mode). */
    public static boolean canDelete(DestinationType type) {
        return type == DestinationType.HTTP || type == DestinationType.WEBHOOK || type == DestinationType.KAFKA;
    }

    /**
     * Kafka's limits as the loader applies them: one event per record, at most the producer's
     * default {@code max.request.size} (1 MiB) less room for the record's key and headers.
     */
    public static final DestinationLimits KAFKA_LIMITS = new DestinationLimits(100_000, 100_000_000, 1_048_576 - 4_096, 0, 0);

    /** What the API takes at most, for events of {@code eventType}. */
    public static DestinationLimits apiLimits(DestinationType type, EventType eventType) {
        switch (type) {
            case HTTP: return SegmentDestination.API_LIMITS;
            case WEBHOOK: return WebhookDestination.API_LIMITS;
            case BRAZE: return BrazeDestination.API_LIMITS;
            case ITERABLE: return IterableDestination.apiLimits(iterableApi(eventType));
            case MIXPANEL: return MixpanelDestination.API_LIMITS;
            case KAFKA: return KAFKA_LIMITS;
            case SFMC: return SfmcDestination.API_LIMITS;
            default: throw new IllegalArgumentException("destination.type " + type);
        }
    }

    /** Events per request when the file does not say. */
    public static int defaultBatchSize(DestinationType type) {
        switch (type) {
            case BRAZE: return BrazeDestination.DEFAULT_BATCH;
            case MIXPANEL: return MixpanelDestination.API_LIMITS.eventsPerRequest();
            default: return io.backflow.sink.http.HttpDestinationSink.DEFAULT_BATCH_SIZE;
        }
    }

    /** Bytes per request when the file does not say. */
    public static long defaultRequestBytes(DestinationType type, EventType eventType) {
        return Math.min(type == DestinationType.HTTP || type == DestinationType.WEBHOOK || type == DestinationType.BRAZE
                ? io.backflow.sink.http.HttpDestinationSink.DEFAULT_MAX_REQUEST_BYTES : Long.MAX_VALUE, apiLimits(type, eventType).bytesPerRequest());
    }

    /** Bytes a request of this type adds around its events: what max_event_bytes must leave room for. */
    public static int overheadBytes(DestinationType type) {
        switch (type) {
            case HTTP: return SegmentDestination.overheadBytes();
            case WEBHOOK: return WebhookDestination.overheadBytes();
            default: return 64;
        }
    }

    private static IterableDestination.Api iterableApi(EventType eventType) {
        return eventType == EventType.IDENTIFY ? IterableDestination.Api.BULK_UPDATE : IterableDestination.Api.TRACK_BULK;
    }

    /** The Kafka sink a {@code type: kafka} connection's section describes (the loader has checked it). */
    public static KafkaDestinationSink.Builder kafka(ConnectionConfig config) {
        ConnectionConfig.Destination d = config.destination();
        Map<String, String> o = d.options();
        Map<String, String> properties = new java.util.LinkedHashMap<>();
        o.forEach((k, v) -> {
            if (k.startsWith(KAFKA_PROPERTY)) {
                properties.put(k.substring(KAFKA_PROPERTY.length()), v);
            }
        });
        return KafkaDestinationSink.builder()
                .bootstrapServers(o.get("bootstrap_servers"))
                .topic(o.get("topic"))
                .deliveryGuarantee("at_least_once".equals(o.get("delivery")) ? DeliveryGuarantee.AT_LEAST_ONCE : DeliveryGuarantee.EXACTLY_ONCE)
                .key("user_id".equals(o.get("key")) ? KafkaKey.USER_ID : KafkaKey.ROW_KEY)
                .transactionTimeout(o.containsKey("transaction_timeout") ? java.time.Duration.parse(o.get("transaction_timeout"))
                        : KafkaDestinationSink.Builder.DEFAULT_TRANSACTION_TIMEOUT)
                // One prefix per connection: a new job aborts what its prefix left open, and only that.
                .transactionalIdPrefix("backflow-" + config.name())
                .properties(properties)
                .maxEventBytes(d.maxEventBytes());
    }

    /** Options holding a Kafka producer property start with this, then the property's name. */
    public static final String KAFKA_PROPERTY = "properties.";

    /** The destination a connection's section describes (the loader has checked it). */
    public static Destination of(ConnectionConfig config) {
        ConnectionConfig.Destination d = config.destination();
        DestinationLimits limits = new DestinationLimits(d.batchSize(), d.maxRequestBytes(), d.maxEventBytes(), d.requestsPerSecond(),
                d.eventsPerSecond());
        Map<String, String> o = d.options();
        switch (d.type()) {
            case HTTP:
                return new SegmentDestination(d.url(), d.writeKey(), d.headers(), limits);
            case WEBHOOK:
                return new WebhookDestination(d.url(), d.headers(), limits);
            case BRAZE:
                return new BrazeDestination(d.url(), o.get("api_key"), o.get("purchase_event"), limits);
            case ITERABLE:
                return new IterableDestination(d.url(), o.get("api_key"), iterableApi(config.mapping().eventType()),
                        "email".equals(o.get("identify_by")), limits);
            case MIXPANEL:
                return o.get("project_token") != null
                        ? new MixpanelDestination(d.url(), null, o.get("project_token"), null, limits)
                        : new MixpanelDestination(d.url(), o.get("project_id"), o.get("service_account"), o.get("secret"), limits);
            case SFMC:
                return new SfmcDestination(d.url(), o.containsKey("auth_url") ? o.get("auth_url") : SfmcDestination.authUrl(o.get("subdomain")),
                        o.get("client_id"), o.get("client_secret"), o.get("account_id"), o.get("data_extension"), o.get("key_column"),
                        o.containsKey("poll_interval") ? java.time.Duration.ofMillis(Long.parseLong(o.get("poll_interval"))) : SfmcDestination.FIRST_POLL,
                        limits);
            default:
                throw new IllegalArgumentException("destination.type " + d.type() + " has no destination");
        }
    }
}
