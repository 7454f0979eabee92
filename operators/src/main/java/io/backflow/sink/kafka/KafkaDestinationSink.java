package io.backflow.sink.kafka;

import io.backflow.model.SyncRecord;
import io.backflow.sink.CommitterFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaWriterState;
import org.apache.flink.connector.kafka.sink.TwoPhaseCommittingStatefulSink;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Sends a sync's events to a Kafka topic through Flink's own {@link KafkaSink}, and records in
 * the ledger only what Kafka committed: with {@link DeliveryGuarantee#EXACTLY_ONCE} each
 * checkpoint's events are one Kafka transaction per subtask, committed before the ledger moves
 * (see {@link KafkaDeliveryCommitter}); with {@link DeliveryGuarantee#AT_LEAST_ONCE} the events are
 * acknowledged before the checkpoint completes and a restart may send some again.
 *
 * <p>Kafka aborts a transaction open longer than the producer's {@code transaction.timeout.ms},
 * which the broker caps at {@code transaction.max.timeout.ms} (15 minutes by default). A
 * transaction is open from one checkpoint to the next, and after a failure until the restored
 * job commits it: the timeout must exceed the checkpoint interval plus the longest restart.
 */
public final class KafkaDestinationSink implements Sink<SyncRecord>, SupportsWriterState<SyncRecord, KafkaWriterState>,
        SupportsCommitter<KafkaDelivery> {
    private static final long serialVersionUID = 1L;

    private final KafkaSink<SyncRecord> kafka;
    private final CommitterFactory committerFactory;
    private final String runId;
    private final long maxEventBytes;

    private KafkaDestinationSink(KafkaSink<SyncRecord> kafka, CommitterFactory committerFactory, String runId, long maxEventBytes) {
        this.kafka = kafka;
        this.committerFactory = committerFactory;
        this.runId = runId;
        this.maxEventBytes = maxEventBytes;
    }

    public static Builder builder() {
        return new Builder();
    }

    private TwoPhaseCommittingStatefulSink<SyncRecord, KafkaWriterState, KafkaCommittable> inner() {
        return kafka;
    }

    @Override
    public SinkWriter<SyncRecord> createWriter(WriterInitContext context) throws IOException {
        return restoreWriter(context, List.of());
    }

    @Override
    public StatefulSinkWriter<SyncRecord, KafkaWriterState> restoreWriter(WriterInitContext context, Collection<KafkaWriterState> state)
            throws IOException {
        return new KafkaDestinationWriter(inner().restoreWriter(context, state), context, runId, maxEventBytes, committerFactory.errorStage());
    }

    @Override
    public SimpleVersionedSerializer<KafkaWriterState> getWriterStateSerializer() {
        return kafka.getWriterStateSerializer();
    }

    @Override
    public Committer<KafkaDelivery> createCommitter(CommitterInitContext context) throws IOException {
        return new KafkaDeliveryCommitter(kafka.createCommitter(context), committerFactory.create());
    }

    @Override
    public SimpleVersionedSerializer<KafkaDelivery> getCommittableSerializer() {
        return new KafkaDeliverySerializer(kafka.getCommittableSerializer());
    }

    /** Builds a {@link KafkaDestinationSink}; bootstrap servers, topic, run id and committer factory are required. */
    public static final class Builder {
        /** Flink's own default (1 h) exceeds a default broker's maximum; 15 minutes is that maximum. */
        public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

        private String bootstrapServers;
        private String topic;
        private KafkaKey key = KafkaKey.ROW_KEY;
        private DeliveryGuarantee guarantee = DeliveryGuarantee.EXACTLY_ONCE;
        private String transactionalIdPrefix;
        private Duration transactionTimeout = DEFAULT_TRANSACTION_TIMEOUT;
        private Map<String, String> properties = Map.of();
        private CommitterFactory committerFactory;
        private String runId;
        private long maxEventBytes = 1_000_000;

        public Builder bootstrapServers(String servers) { this.bootstrapServers = servers; return this; }
        public Builder topic(String topic) { this.topic = topic; return this; }
        public Builder key(KafkaKey key) { this.key = key; return this; }
        public Builder deliveryGuarantee(DeliveryGuarantee guarantee) { this.guarantee = guarantee; return this; }
        /** Unique per connection: a new job aborts the open transactions of its prefix, and two jobs sharing one would fence each other. */
        public Builder transactionalIdPrefix(String prefix) { this.transactionalIdPrefix = prefix; return this; }
        public Builder transactionTimeout(Duration timeout) { this.transactionTimeout = timeout; return this; }
        /** Producer settings (security, compression...), given to the Kafka producer as they are. */
        public Builder properties(Map<String, String> properties) { this.properties = Map.copyOf(properties); return this; }
        public Builder committerFactory(CommitterFactory f) { this.committerFactory = f; return this; }
        public Builder runId(String runId) { this.runId = runId; return this; }
        /** Events larger than this are recorded invalid; Kafka's producer refuses records over {@code max.request.size} (1 MB by default). */
        public Builder maxEventBytes(long bytes) { this.maxEventBytes = bytes; return this; }

        public KafkaDestinationSink build() {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(committerFactory, "committerFactory");
            Objects.requireNonNull(runId, "runId");
            if (guarantee == DeliveryGuarantee.NONE) {
                throw new IllegalArgumentException("delivery guarantee NONE would let the ledger record events Kafka never took");
            }
            Properties p = new Properties();
            p.putAll(properties);
            p.setProperty(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, String.valueOf(transactionTimeout.toMillis()));
            KafkaSink<SyncRecord> kafka = KafkaSink.<SyncRecord>builder()
                    .setBootstrapServers(bootstrapServers)
                    .setKafkaProducerConfig(p)
                    .setRecordSerializer(new EventRecordSerializer(topic, key))
                    .setDeliveryGuarantee(guarantee)
                    .setTransactionalIdPrefix(Objects.requireNonNull(transactionalIdPrefix, "transactionalIdPrefix"))
                    .build();
            return new KafkaDestinationSink(kafka, committerFactory, runId, maxEventBytes);
        }
    }
}
