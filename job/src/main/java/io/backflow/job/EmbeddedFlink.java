package io.backflow.job;

import java.time.Duration;
import java.util.Iterator;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.client.ClientUtils;
import org.apache.flink.client.deployment.executors.PipelineExecutorUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.ResourceManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.minicluster.MiniClusterJobClient;
import org.apache.flink.runtime.minicluster.RpcServiceSharing;
import org.apache.flink.runtime.rpc.RpcSystem;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.util.Reference;

/**
 * Flink inside the Backflow process ({@code java -jar}): the MiniCluster one sync runs on, started
 * in the background as soon as the sync begins, so its start overlaps the source and ledger
 * checks instead of following them, and closed with the job as a local environment's is. Two more
 * things shorten every start. Flink's RPC system comes from the class path when the launcher put
 * {@code flink-rpc-akka} there: Flink's own loader unpacks that 21 MB jar into a temporary file and
 * loads it through a class loader of its own at every start, where no class-data archive reaches.
 * And the network buffers are sized for a chained job, which exchanges no records between tasks,
 * instead of Flink's 64 MB. {@code serve} uses {@link #miniCluster} for its one shared cluster.
 */
public final class EmbeddedFlink implements AutoCloseable {
    /** The executor name of {@link #environment}: it never matches one of Flink's. */
    static final String EXECUTOR = "backflow-embedded";
    /** Room for an unchained pipeline too (a user's {@code pipeline.operator-chaining.enabled: false}), at 32 KB a buffer. */
    static final MemorySize NETWORK_MEMORY = MemorySize.parse("16m");
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final CompletableFuture<MiniCluster> cluster;
    /** Set once a job runs on the cluster: from then on the job's end closes it. */
    private volatile boolean handedOver;

    private EmbeddedFlink(CompletableFuture<MiniCluster> cluster) {
        this.cluster = cluster;
    }

    /**
     * Starts, in the background, the cluster of a job with {@code conf} (the sync's Flink settings,
     * which the cluster's options are among) and {@code slots} task slots (its parallelism). A
     * failure to start surfaces when the job is submitted.
     */
    public static EmbeddedFlink start(Configuration conf, int slots) {
        warmUpHttp();
        Configuration c = withClusterSettings(conf);
        if (!c.contains(RestOptions.BIND_PORT)) {
            c.set(RestOptions.BIND_PORT, "0");
        }
        MiniClusterConfiguration config = new MiniClusterConfiguration.Builder().setConfiguration(c).setNumTaskManagers(1)
                .setRpcServiceSharing(RpcServiceSharing.SHARED).setNumSlotsPerTaskManager(slots).build();
        return new EmbeddedFlink(CompletableFuture.supplyAsync(() -> {
            MiniCluster m = miniCluster(config);
            try {
                m.start();
                return m;
            } catch (Exception e) {
                m.closeAsync();
                throw new CompletionException(e);
            }
        }, task -> {
            Thread t = new Thread(task, "backflow-flink-start");
            t.setDaemon(true);
            t.start();
        }));
    }

    /**
     * Initialises the JDK's TLS context and HTTP client in the background: the sink builds its
     * client while the task starts, before the first row moves, and a cold JVM takes 0.3-0.5 s
     * for that (the default SSLContext reads the trust store even for http URLs).
     */
    private static void warmUpHttp() {
        Thread warm = new Thread(() -> {
            try {
                javax.net.ssl.SSLContext.getDefault();
                java.net.http.HttpClient.newBuilder().build();
            } catch (Exception | LinkageError e) {
                // Only a head start: the sink initialises them itself.
            }
        }, "backflow-http-warm-up");
        warm.setDaemon(true);
        warm.start();
    }

    /** An environment whose job runs on this cluster. */
    public StreamExecutionEnvironment environment(Configuration conf) {
        Configuration c = withClusterSettings(conf);
        c.set(DeploymentOptions.TARGET, EXECUTOR);
        c.set(DeploymentOptions.ATTACHED, true);
        return new StreamExecutionEnvironment(new Executors(), c, Thread.currentThread().getContextClassLoader());
    }

    /** Closes the cluster unless a job took it over (a sync that ended before its job started). */
    @Override
    public void close() {
        if (handedOver) {
            return;
        }
        try {
            cluster.thenCompose(MiniCluster::closeAsync).get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // It failed to start, or the process is ending anyway.
        }
    }

    /** A MiniCluster with the class path's RPC system; {@code serve} runs one for all its syncs. */
    public static MiniCluster miniCluster(MiniClusterConfiguration config) {
        return new MiniCluster(config, () -> rpcSystem(config.getConfiguration()));
    }

    /** {@code conf} with the embedded cluster's own settings, unless the user set them. */
    public static Configuration withClusterSettings(Configuration conf) {
        Configuration c = new Configuration(conf);
        // Flink waits 50 ms (slot manager) and up to 20 ms (job master) to batch slot requests
        // that one job on one task manager never has to batch: time before the first row moves.
        if (!c.contains(ResourceManagerOptions.REQUIREMENTS_CHECK_DELAY)) {
            c.set(ResourceManagerOptions.REQUIREMENTS_CHECK_DELAY, Duration.ZERO);
        }
        if (!c.contains(JobManagerOptions.SLOT_REQUEST_MAX_INTERVAL)) {
            c.set(JobManagerOptions.SLOT_REQUEST_MAX_INTERVAL, Duration.ZERO);
        }
        if (!c.contains(TaskManagerOptions.NETWORK_MEMORY_MIN) && !c.contains(TaskManagerOptions.NETWORK_MEMORY_MAX)) {
            c.set(TaskManagerOptions.NETWORK_MEMORY_MIN, NETWORK_MEMORY);
            c.set(TaskManagerOptions.NETWORK_MEMORY_MAX, NETWORK_MEMORY);
        }
        return c;
    }

    /** The RPC system on the class path, or (tests, a class path without it) the one Flink's loader unpacks. */
    static Reference<RpcSystem> rpcSystem(Configuration conf) {
        Iterator<RpcSystem> onClassPath = ServiceLoader.load(RpcSystem.class, EmbeddedFlink.class.getClassLoader()).iterator();
        return Reference.owned(onClassPath.hasNext() ? onClassPath.next() : RpcSystem.load(conf));
    }

    /** Submits a job to the started cluster as Flink's local executor does, and ties the cluster's end to the job's. */
    private CompletableFuture<JobClient> submit(StreamGraph graph, ClassLoader classLoader) {
        MiniCluster m;
        try {
            m = cluster.join();
        } catch (CompletionException e) {
            return CompletableFuture.failedFuture(e.getCause());
        }
        handedOver = true;
        return m.submitJob(graph).thenApplyAsync(submitted -> {
            try {
                ClientUtils.waitUntilJobInitializationFinished(() -> m.getJobStatus(submitted.getJobID()).get(),
                        () -> m.requestJobResult(submitted.getJobID()).get(), classLoader);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
            return (JobClient) new MiniClusterJobClient(submitted.getJobID(), m, classLoader,
                    MiniClusterJobClient.JobFinalizationBehavior.SHUTDOWN_CLUSTER);
        }).whenComplete((client, error) -> {
            if (error != null) {
                m.closeAsync();
            }
        });
    }

    /** Hands every job of {@link #environment} to {@link #submit}. */
    private final class Executors implements PipelineExecutorServiceLoader, PipelineExecutorFactory, PipelineExecutor {
        @Override
        public PipelineExecutorFactory getExecutorFactory(Configuration configuration) {
            return this;
        }

        @Override
        public Stream<String> getExecutorNames() {
            return Stream.of(EXECUTOR);
        }

        @Override
        public String getName() {
            return EXECUTOR;
        }

        @Override
        public boolean isCompatibleWith(Configuration configuration) {
            return EXECUTOR.equals(configuration.get(DeploymentOptions.TARGET));
        }

        @Override
        public PipelineExecutor getExecutor(Configuration configuration) {
            return this;
        }

        @Override
        public CompletableFuture<JobClient> execute(org.apache.flink.api.dag.Pipeline pipeline, Configuration configuration,
                ClassLoader userCodeClassloader) throws Exception {
            StreamGraph graph = PipelineExecutorUtils.getStreamGraph(pipeline, configuration);
            graph.serializeUserDefinedInstances();
            return submit(graph, userCodeClassloader);
        }
    }
}
