package io.backflow.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Kafka broker (KRaft, one node that is broker and controller) inside the test JVM, from
 * Kafka's own server classes: no ZooKeeper, no Docker. One per test class, as a JUnit extension.
 */
public final class KafkaBroker implements BeforeAllCallback, AfterAllCallback {
    /** Above Flink's default transaction timeout (1 h) so that a sink left at its default is accepted too. */
    public static final Duration TRANSACTION_MAX_TIMEOUT = Duration.ofHours(1);

    private KafkaRaftServer server;
    private Path dataDir;
    private String bootstrapServers;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        // Kafka calls System.exit on fatal errors; it must never end the test JVM.
        Exit.setExitProcedure((code, msg) -> { throw new IllegalStateException("Kafka asked to exit(" + code + "): " + msg); });
        Exit.setHaltProcedure((code, msg) -> { throw new IllegalStateException("Kafka asked to halt(" + code + "): " + msg); });
        Exception last = null;
        for (int attempt = 1; attempt <= 3; attempt++) { // the free ports may be taken before the broker binds them
            try {
                startOnce();
                return;
            } catch (Exception e) {
                last = e;
                stop();
            }
        }
        throw last;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
        Exit.resetExitProcedure();
        Exit.resetHaltProcedure();
    }

    private void startOnce() throws Exception {
        dataDir = Files.createTempDirectory("kafka-");
        int brokerPort = freePort();
        int controllerPort = freePort();
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", dataDir.toString());
        // One node: every internal topic has one replica and one partition (the default 50 are slow to create).
        for (String topic : new String[] {"offsets.topic", "transaction.state.log", "share.coordinator.state.topic"}) {
            p.put(topic + ".replication.factor", "1");
        }
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("transaction.max.timeout.ms", String.valueOf(TRANSACTION_MAX_TIMEOUT.toMillis()));
        p.put("auto.create.topics.enable", "false");
        // Light on a 2-core machine.
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("background.threads", "2");
        p.put("log.cleaner.threads", "1");
        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(2 * 1024 * 1024));
        KafkaConfig config = KafkaConfig.fromProps(p, false);
        format(config);
        server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        bootstrapServers = "127.0.0.1:" + brokerPort;
        try (Admin admin = admin()) {
            admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
        }
    }

    /** What {@code kafka-storage.sh format} does: a new cluster id written into the log directories. */
    private static void format(KafkaConfig config) throws Exception {
        List<String> dirs = new ArrayList<>(config.logDirs());
        if (!dirs.contains(config.metadataLogDir())) {
            dirs.add(config.metadataLogDir());
        }
        try (PrintStream quiet = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8)) {
            new Formatter().setPrintStream(quiet)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setNodeId(config.nodeId())
                    .setControllerListenerName(config.controllerListenerNames().get(0))
                    .setMetadataLogDirectory(config.metadataLogDir())
                    .setDirectories(dirs)
                    .run();
        }
    }

    private void stop() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
        bootstrapServers = null;
        if (dataDir != null) {
            try (Stream<Path> walk = Files.walk(dataDir)) {
                for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            } catch (IOException ignored) {
                // a temporary directory left behind
            }
            dataDir = null;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /** Creates {@code topic} and waits until every partition has a leader. */
    public void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions().stream()
                    .allMatch(pi -> pi.leader() != null)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("topic " + topic + " has partitions without a leader");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
            }
        }
    }

    private KafkaConsumer<String, String> consumer(String isolationLevel) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolationLevel);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return new KafkaConsumer<>(c);
    }

    /**
     * Every record a {@code read_committed} consumer sees in {@code topic}, read up to the log's
     * end: returns only when no transaction is left undecided, so nothing more can appear.
     */
    public List<ConsumerRecord<String, String>> readCommitted(String topic) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer("read_committed");
                KafkaConsumer<String, String> ends = consumer("read_uncommitted")) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(pi -> new TopicPartition(topic, pi.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
                Map<TopicPartition, Long> end = ends.endOffsets(partitions);
                if (partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp))) {
                    return out;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("a transaction in " + topic + " stayed open for 60 s: read " + out.size() + ", end offsets " + end);
                }
            }
        }
    }

    /** Records committed in {@code topic} so far, without reading them. */
    public long committedCount(String topic) {
        try (KafkaConsumer<String, String> consumer = consumer("read_committed")) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(pi -> new TopicPartition(topic, pi.partition())).toList();
            // read_committed end offsets stop at the first open transaction, so this never over-counts
            // committed records (it counts transaction markers, so it may over-count by a few).
            return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
        }
    }
}
