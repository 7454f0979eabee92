package io.backflow.sink.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.backflow.model.SyncRecord;
import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.http.CollectingCommitter;
import io.backflow.sink.http.TestRecords;
import io.backflow.testing.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Kafka sink in a real Flink job against a real broker in this JVM. */
class KafkaDestinationSinkITCase {
    private static final String SPLIT = "split-0";

    @RegisterExtension
    @Order(1)
    static final KafkaBroker KAFKA = new KafkaBroker();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    /** Set by a test, fired once by {@link FailOnce} after a checkpoint completed. */
    static final AtomicBoolean FAIL = new AtomicBoolean();

    private List<DeliveryCommittable> run(String topic, DeliveryGuarantee guarantee, KafkaKey key, List<SyncRecord> records) throws Exception {
        String runId = "run-" + UUID.randomUUID();
        KAFKA.createTopic(topic, 2);
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.enableCheckpointing(100);
        KafkaDestinationSink sink = KafkaDestinationSink.builder()
                .bootstrapServers(KAFKA.bootstrapServers())
                .topic(topic)
                .key(key)
                .deliveryGuarantee(guarantee)
                .transactionalIdPrefix("test-" + topic)
                .transactionTimeout(Duration.ofMinutes(5))
                .maxEventBytes(10_000)
                .runId(runId)
                .committerFactory(CollectingCommitter.factory(runId))
                .build();
        // Paced, so that checkpoints complete while the records flow and the failure lands between two.
        ArrayList<SyncRecord> list = new ArrayList<>(records);
        DataGeneratorSource<SyncRecord> source = new DataGeneratorSource<>(i -> list.get((int) (long) i), list.size(),
                RateLimiterStrategy.perSecond(3000), TypeInformation.of(SyncRecord.class));
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "records").uid("records")
                .map(new FailOnce(), TypeInformation.of(SyncRecord.class)).uid("fail-once")
                .sinkTo(sink).uid("kafka-sink");
        env.execute("kafka sink test");
        List<DeliveryCommittable> committed = CollectingCommitter.committed(runId);
        for (DeliveryCommittable c : committed) {
            assertThat(c.read()).as("read == succeeded + failed + invalid in %s", c).isEqualTo(c.succeeded() + c.failed() + c.invalid());
        }
        return committed;
    }

    private static Map<String, Integer> countsByMessageId(List<ConsumerRecord<String, String>> records) {
        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            String id = new String(r.headers().lastHeader(EventRecordSerializer.MESSAGE_ID_HEADER).value(), StandardCharsets.UTF_8);
            counts.merge(id, 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void exactlyOnceThroughATaskFailureAndTheLedgerCountsWhatKafkaCommitted() throws Exception {
        FAIL.set(true);
        List<DeliveryCommittable> committed = run("eos", DeliveryGuarantee.EXACTLY_ONCE, KafkaKey.ROW_KEY, TestRecords.events(SPLIT, 3000));
        assertThat(FAIL).as("the failure was injected").isFalse();

        List<ConsumerRecord<String, String>> seen = KAFKA.readCommitted("eos");
        Map<String, Integer> counts = countsByMessageId(seen);
        assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(TestRecords.messageIds(0, 3000));
        assertThat(counts.values()).allMatch(n -> n == 1);
        assertThat(seen).allSatisfy(r -> {
            int i = Integer.parseInt(r.value().replaceAll(".*\"i\":(\\d+).*", "$1"));
            assertThat(r.key()).isEqualTo(TestRecords.key(i));
            assertThat(r.value()).isEqualTo(new String(TestRecords.payload(i, 0), StandardCharsets.UTF_8));
        });
        TestRecords.Totals t = TestRecords.Totals.of(committed);
        assertThat(t.succeeded).isEqualTo(3000);
        assertThat(t.read).isEqualTo(3000);
        assertThat(committed.get(committed.size() - 1).positions()).containsEntry(SPLIT, "p2999");
    }

    @Test
    void atLeastOnceDeliversEveryEventKeyedByUserAndRecordsOversizedOnesInvalid() throws Exception {
        List<SyncRecord> records = new ArrayList<>(TestRecords.events(SPLIT, 500));
        records.add(500, SyncRecord.event(SPLIT, "p500", TestRecords.key(500), TestRecords.messageId(500), TestRecords.payload(500, 20_000)));
        List<DeliveryCommittable> committed = run("alo", DeliveryGuarantee.AT_LEAST_ONCE, KafkaKey.USER_ID, records);

        List<ConsumerRecord<String, String>> seen = KAFKA.readCommitted("alo");
        assertThat(countsByMessageId(seen).keySet()).containsExactlyInAnyOrderElementsOf(TestRecords.messageIds(0, 500));
        assertThat(seen).allSatisfy(r -> assertThat(r.value()).contains("\"userId\":\"" + r.key() + "\""));
        TestRecords.Totals t = TestRecords.Totals.of(committed);
        assertThat(t.read).isEqualTo(501);
        assertThat(t.succeeded).isEqualTo(500);
        assertThat(t.invalid).isEqualTo(1);
        assertThat(committed.stream().flatMap(c -> c.errors().stream()))
                .singleElement().satisfies(e -> assertThat(e.reason()).contains("over the destination's limit of 10000 bytes"));
    }

    /** Fails the task once, on the first record after a checkpoint completed, when {@link #FAIL} is set. */
    static final class FailOnce extends RichMapFunction<SyncRecord, SyncRecord> implements CheckpointListener {
        private transient boolean checkpointed;

        @Override
        public SyncRecord map(SyncRecord r) {
            if (checkpointed && FAIL.compareAndSet(true, false)) {
                throw new IllegalStateException("injected failure after a completed checkpoint");
            }
            return r;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            checkpointed = true;
        }
    }
}
