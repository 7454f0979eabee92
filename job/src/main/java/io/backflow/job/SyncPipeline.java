package io.backflow.job;

import io.backflow.diff.DeltaTable;
import io.backflow.diff.SnapshotDiff;
import io.backflow.jdbc.SqlDialect;
import io.backflow.job.cli.RunPlan;
import io.backflow.model.DeltaColumns;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.source.split.WarehouseSplit;
import io.backflow.source.split.WarehouseSplitSerializer;
import java.util.ArrayList;
import java.util.List;
import io.backflow.ledger.LedgerCommitter;
import io.backflow.ledger.LedgerMarkRows;
import io.backflow.ledger.LedgerPlanListener;
import io.backflow.ledger.LedgerRunSequence;
import io.backflow.ledger.LedgerStore;
import io.backflow.mapping.EventType;
import io.backflow.mapping.MappingOperator;
import io.backflow.mapping.MappingSpec;
import io.backflow.model.SyncRecord;
import io.backflow.sink.http.HttpDestinationSink;
import io.backflow.source.SourceRow;
import io.backflow.source.SyncType;
import io.backflow.source.WarehouseSource;
import io.backflow.source.WarehouseSourceBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Builds one sync's Flink pipeline: warehouse source, mapping operator and destination sink with
 * its ledger committer, each with a stable uid so savepoints keep matching operators.
 */
public final class SyncPipeline {
    public static final String SOURCE_UID = "backflow-source";
    public static final String MAPPING_UID = "backflow-mapping";
    public static final String SINK_UID = "backflow-sink";

    private SyncPipeline() {}

    /** The Flink settings a sync needs: streaming mode (so stop-with-savepoint works), checkpoints, uids. */
    public static Configuration flinkConfiguration(ConnectionConfig config) {
        Configuration conf = new Configuration();
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.STREAMING);
        conf.set(PipelineOptions.OBJECT_REUSE, true);
        // Every record type has its own serializer: a Kryo fallback would be a bug, so it fails the job.
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(PipelineOptions.AUTO_GENERATE_UIDS, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, java.time.Duration.ofSeconds(2));
        conf.setString("execution.checkpointing.interval", config.sync().checkpointInterval().toMillis() + " ms");
        // A checkpoint waits for the sink to resolve every batch it holds: up to max_in_flight + 1
        // buffered batches and max_in_flight in flight, sent max_in_flight at a time, each taking up
        // to the retry budget plus a request timeout against a failing destination.
        ConnectionConfig.Destination d = config.destination();
        long rounds = (2L * d.maxInFlight() + 1 + d.maxInFlight() - 1) / d.maxInFlight();
        long timeoutMs = rounds * (d.maxRetryDuration().toMillis() + 2 * d.timeout().toMillis()) + 60_000;
        conf.setString("execution.checkpointing.timeout", timeoutMs + " ms");
        conf.setString("parallelism.default", String.valueOf(config.sync().parallelism()));
        // An embedded MiniCluster learns the task's accumulators (the progress line's rows read so
        // far) with each heartbeat; a cluster keeps its own setting.
        conf.setString("heartbeat.interval", "1 s");
        return conf;
    }

    /** Adds the sync's operators to {@code env}. */
    public static void build(StreamExecutionEnvironment env, ConnectionConfig config, LedgerStore ledger, String runId, RunPlan plan,
            List<String> retryKeys, DeltaTable delta) {
        build(env, config, ledger, runId, plan, retryKeys, delta, null);
    }

    /** As above; {@code lastSucceededAt} feeds the {@code lastSuccessfulSyncTime} gauge (null: never). */
    public static void build(StreamExecutionEnvironment env, ConnectionConfig config, LedgerStore ledger, String runId, RunPlan plan,
            List<String> retryKeys, DeltaTable delta, java.time.Instant lastSucceededAt) {
        build(env, config, ledger, runId, plan, retryKeys, delta, lastSucceededAt, null);
    }

    /**
     * As above; with {@code every}, a continuous job: after {@code runId}, the source starts and
     * reads an INCREMENTAL run every {@code every} (once the one before completed) until the job is
     * stopped, recording each in the ledger like a sync. Null: one run.
     */
    public static void build(StreamExecutionEnvironment env, ConnectionConfig config, LedgerStore ledger, String runId, RunPlan plan,
            List<String> retryKeys, DeltaTable delta, java.time.Instant lastSucceededAt, java.time.Duration every) {
        if (every != null && delta != null) {
            throw new IllegalArgumentException("a diff run cannot be continuous");
        }
        int parallelism = config.sync().parallelism();
        // A diff run reads its delta table from start to end, like a FULL run reads the model.
        SyncType type = delta != null ? SyncType.FULL : plan.type();
        String startPosition = plan.startPosition();
        ConnectionConfig.Source s = config.source();
        WarehouseSourceBuilder source = WarehouseSource.builder()
                .endpoint(delta != null ? config.state().endpoint() : s.endpoint())
                .primaryKey(delta != null ? delta.keys() : s.primaryKey())
                .syncType(type)
                .highWaterMarkDelay(s.cursorDelay())
                .fetchSize(s.fetchSize())
                .pageSize(s.pageSize())
                // A continuous job may plan a FULL run later (a connection without a committed position).
                .splits(type == SyncType.FULL || every != null ? parallelism : 1)
                .runId(runId)
                .resumes(plan.resumedFrom())
                .lastSuccessfulSync(lastSucceededAt)
                .planListener(new LedgerPlanListener(ledger));
        if (delta != null) {
            source.table(delta.sourceTable());
        } else if (s.table() != null) {
            source.table(s.table());
        } else {
            source.query(s.sql());
        }
        if (s.cursor() != null && delta == null) {
            source.cursorColumn(s.cursor());
        }
        if (every != null) {
            source.continuous(every, new LedgerRunSequence(ledger, config.name(), io.backflow.job.cli.SyncCommand.MAX_RETRY_KEYS,
                    config.state().retention()));
        }
        if (plan.splits() != null) {
            // Continue a stopped run's splits from the positions the ledger committed.
            List<WarehouseSplit> splits = new ArrayList<>();
            for (Ledger.SplitProgress p : plan.splits()) {
                splits.add(WarehouseSplitSerializer.fromBase64(p.descriptor()).withProgress(p.position(), -1, p.finished()));
            }
            source.resumeSplits(plan.highWaterMark(), splits);
        } else {
            if (startsAtMark(plan, delta)) {
                // Rows can arrive later with exactly the committed cursor value: read it again.
                source.startAtMark(startPosition);
            } else {
                source.startAfter(startPosition);
            }
            if (!retryKeys.isEmpty()) {
                source.retryKeys(retryKeys);
            }
        }

        DataStream<SourceRow> rows = env
                .fromSource(source.build(), WatermarkStrategy.noWatermarks(), "Read warehouse", TypeInformation.of(SourceRow.class))
                .uid(SOURCE_UID)
                .setParallelism(parallelism);

        MappingOperator mapping = every != null
                // Each run of a continuous job skips, at its start mark, what the run before resolved there.
                ? MappingOperator.continuous(mappingSpec(config), runId, LedgerMarkRows.byRun(ledger, config.name()))
                : new MappingOperator(delta != null ? mappingSpec(config, DeltaColumns.OP, delta.table()) : mappingSpec(config), runId,
                        startsAtMark(plan, delta) ? new LedgerMarkRows(ledger, config.name(), startPosition) : null);
        DataStream<SyncRecord> events = rows
                .process(mapping, TypeInformation.of(SyncRecord.class))
                .name("Map to " + config.mapping().eventType().name().toLowerCase())
                .uid(MAPPING_UID)
                .setParallelism(parallelism);

        ConnectionConfig.Destination d = config.destination();
        if (d.type() == ConnectionConfig.DestinationType.KAFKA) {
            events.sinkTo(Destinations.kafka(config).runId(runId).committerFactory(LedgerCommitter.factory(ledger)).build())
                    .name("Deliver to Kafka").uid(SINK_UID).setParallelism(parallelism);
            return;
        }
        HttpDestinationSink sink = HttpDestinationSink.builder()
                .destination(Destinations.of(config))
                .maxInFlightRequests(d.maxInFlight())
                .requestTimeout(d.timeout())
                .maxAttempts(d.maxAttempts())
                .initialBackoff(d.initialBackoff())
                .maxBackoff(d.maxBackoff())
                .maxRetryDuration(d.maxRetryDuration())
                .runId(runId)
                .committerFactory(LedgerCommitter.factory(ledger))
                .build();
        // The name shows in the Flink dashboard; the uid, not the name, ties state to a savepoint.
        events.sinkTo(sink).name("Deliver to " + config.destination().type().name().toLowerCase(java.util.Locale.ROOT)).uid(SINK_UID)
                .setParallelism(parallelism);
    }

    /**
     * True for an INCREMENTAL run that continues from a committed high-water mark (a one-value
     * position): it reads that cursor value again and skips the rows resolved there before.
     */
    static boolean startsAtMark(RunPlan plan, DeltaTable delta) {
        if (delta != null || plan.type() != SyncType.INCREMENTAL || plan.startPosition() == null) {
            return false;
        }
        Object[] start = io.backflow.jdbc.PositionCodec.decode(plan.startPosition());
        return start.length == 1;
    }

    /** The mapping operator's spec for a connection. */
    public static MappingSpec mappingSpec(ConnectionConfig config) {
        return mappingSpec(config, null, null);
    }

    /**
     * The spec for rows that carry their delta operation in {@code operationColumn} (diff runs), or
     * none (null); message ids are unique per {@code messageIdScope} (the delta table) too.
     */
    public static MappingSpec mappingSpec(ConnectionConfig config, String operationColumn, String messageIdScope) {
        ConnectionConfig.Mapping m = config.mapping();
        MappingSpec.Builder b = MappingSpec.builder()
                .connectionName(config.name())
                .eventType(EventType.valueOf(m.eventType().name()))
                .operationColumn(operationColumn)
                .messageIdScope(messageIdScope)
                .userIdColumn(m.userId())
                .anonymousIdColumn(m.anonymousId())
                .timestampColumn(m.timestamp())
                .primaryKey(config.source().primaryKey())
                .template(m.template())
                .maxEventBytes((int) config.destination().maxEventBytes())
                .libraryVersion(version());
        if (operationColumn == null && config.source().cursor() != null) {
            // A cursor sync's row versions differ by their cursor (A, B and back to A is three ids).
            b.versionColumn(config.source().cursor());
        }
        if (m.event() != null) {
            b.eventName(m.event());
        }
        if (m.eventColumn() != null) {
            b.eventNameColumn(m.eventColumn());
        }
        return b.build();
    }

    /** How a diff run of this connection computes its delta; {@code sendAll} for a FULL run. */
    public static SnapshotDiff snapshotDiff(ConnectionConfig config, boolean sendAll) {
        ConnectionConfig.Source s = config.source();
        SqlDialect dialect = config.state().endpoint().dialect();
        return new SnapshotDiff(dialect, config.state().schema(), config.name(), s.table(), s.sql(), s.primaryKey(),
                mappingSpec(config).referencedColumns(), config.sync().mode(), sendAll, s.endpoint(), sourceElsewhere(config));
    }

    /** Whether the model lives in another database than the ledger, so a diff copies it next to the ledger first. */
    public static boolean sourceElsewhere(ConnectionConfig config) {
        return !config.state().endpoint().url().equals(config.source().endpoint().url());
    }

    /** Backflow's version, from the jar. */
    public static String version() {
        try (InputStream in = SyncPipeline.class.getResourceAsStream("/backflow-version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "dev");
        } catch (IOException e) {
            return "dev";
        }
    }
}
