package io.backflow.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backflow.model.SyncRecord;
import io.backflow.source.SourceRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class MappingOperatorITCase {
    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension MINI = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @Test
    void mapsRowsInvalidRowsAndSplitEndsAndCountsThem() throws Exception {
        MappingSpec spec = MappingSpec.builder()
                .connectionName("orders")
                .eventType(EventType.TRACK)
                .eventName("Order Placed")
                .userIdColumn("user_id")
                .primaryKey("id")
                .templateJson("{\"total\":\"{{ total }}\"}")
                .build();
        String[] columns = {"id", "user_id", "total"};
        SourceRow[] rows = {
            SourceRow.row("split-a", columns, new Object[] {1L, "u1", 10L}, "[[\"long\",1]]"),
            SourceRow.row("split-a", columns, new Object[] {2L, null, 20L}, "[[\"long\",2]]"),
            SourceRow.row("split-a", columns, new Object[] {3L, "u3", 30L}, "[[\"long\",3]]"),
            SourceRow.splitEnd("split-a", "[[\"long\",3]]"),
        };

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        DataStream<SyncRecord> records = env.fromData(TypeInformation.of(SourceRow.class), rows)
                .process(new MappingOperator(spec, "run-7"))
                .uid("mapping");
        List<SyncRecord> out = new ArrayList<>();
        JobID jobId;
        try (CloseableIterator<SyncRecord> it = records.collectAsync()) {
            JobClient client = env.executeAsync("mapping-itcase");
            jobId = client.getJobID();
            it.forEachRemaining(out::add);
            client.getJobExecutionResult().get();
        }

        assertEquals(4, out.size());
        SyncRecord first = out.get(0);
        assertEquals(SyncRecord.Kind.EVENT, first.kind());
        assertEquals("split-a", first.splitId());
        assertEquals("[[\"long\",1]]", first.position());
        assertEquals("{\"id\":1}", first.key());
        JsonNode event = new ObjectMapper().readTree(first.payload());
        assertEquals(first.messageId(), event.get("messageId").asText());
        assertEquals("run-7", event.at("/context/backflow/run_id").asText());
        assertEquals(10, event.at("/properties/total").asInt());

        SyncRecord invalid = out.get(1);
        assertEquals(SyncRecord.Kind.INVALID, invalid.kind());
        assertEquals("{\"id\":2}", invalid.key());
        assertEquals("[[\"long\",2]]", invalid.position());
        assertEquals("no user id: userId column 'user_id' is null or blank", invalid.reason());
        assertNull(invalid.payload());

        assertEquals(SyncRecord.Kind.EVENT, out.get(2).kind());
        assertEquals(SyncRecord.Kind.SPLIT_END, out.get(3).kind());
        assertEquals("split-a", out.get(3).splitId());
        assertEquals("[[\"long\",3]]", out.get(3).position());

        assertEquals(2, counter(jobId, "rowsMapped"));
        assertEquals(1, counter(jobId, "rowsInvalid"));
    }

    private static long counter(JobID jobId, String name) {
        Map<String, Metric> found = REPORTER.findMetrics(jobId, ".*backflow\\." + name + "$");
        assertEquals(1, found.size(), () -> "metrics named " + name + ": " + found.keySet());
        return ((Counter) found.values().iterator().next()).getCount();
    }
}
