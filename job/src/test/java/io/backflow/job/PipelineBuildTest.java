package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.backflow.job.cli.RunPlan;
import io.backflow.job.config.ConfigLoader;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.LedgerStore;
import io.backflow.source.SyncType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A connection file that loads always builds a pipeline: the loader and the operators' builders apply one set of rules. */
class PipelineBuildTest {
    @TempDir Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"http", "webhook", "braze", "iterable"})
    void everySettingAtTheEdgesOfWhatTheLoaderAcceptsBuilds(String type) throws Exception {
        ConnectionConfig.DestinationType t = ConnectionConfig.DestinationType.valueOf(type.toUpperCase(java.util.Locale.ROOT));
        io.backflow.sink.DestinationLimits limits = Destinations.apiLimits(t, ConnectionConfig.EventType.TRACK);
        int overhead = Destinations.overheadBytes(t);
        String[][] edges = {
                {"batch_size: 1", "max_request_bytes: 1024", "max_event_bytes: 256", "max_in_flight: 1", "timeout: 1ms",
                        "retry: {max_attempts: 1, initial_backoff: 1ms, max_backoff: 1ms, max_duration: 0ms}"},
                {"batch_size: " + limits.eventsPerRequest(), "max_request_bytes: " + limits.bytesPerRequest(),
                        "max_event_bytes: " + Math.min(limits.bytesPerEvent(), limits.bytesPerRequest() - overhead),
                        "max_in_flight: 256", "timeout: 1h", "retry: {max_attempts: 1000, initial_backoff: 1h, max_backoff: 1d, max_duration: 7d}"},
                {"max_request_bytes: 1024", "max_event_bytes: " + (1024 - overhead)},
        };
        for (String[] destination : edges) {
            for (String sync : new String[] {"{parallelism: 1, checkpoint_interval: 100ms}", "{parallelism: 1024, checkpoint_interval: 1d}"}) {
                StringBuilder yaml = new StringBuilder(String.join("\n",
                        "source:",
                        "  url: jdbc:duckdb:" + dir.resolve("w.duckdb"),
                        "  table: orders",
                        "  primary_key: id",
                        "  cursor: updated_at",
                        "  cursor_delay: 365d",
                        "  fetch_size: 1000000",
                        "  page_size: 1",
                        "mapping: {event_type: track, event: E, user_id: u}",
                        "destination:",
                        "  type: " + type,
                        "  url: http://localhost:1/x",
                        type.equals("http") ? "  write_key: k" : type.equals("webhook") ? "  headers: {}" : "  api_key: k"));
                for (String line : destination) {
                    yaml.append("\n  ").append(line);
                }
                yaml.append("\nsync: ").append(sync).append("\nstate: {retention: 36500d}\n");
                Path file = dir.resolve("c.yaml");
                Files.writeString(file, yaml.toString());
                ConnectionConfig config = new ConfigLoader().load(file);
                StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(SyncPipeline.flinkConfiguration(config));
                SyncPipeline.build(env, config, new LedgerStore(config.state().endpoint(), "backflow"), "run-1",
                        new RunPlan(SyncType.INCREMENTAL, "[[\"long\",1]]", "test", null, null, null, null, false), List.of(), null);
                assertFalse(env.getStreamGraph().getStreamNodes().isEmpty(), yaml.toString());
            }
        }
    }
}
