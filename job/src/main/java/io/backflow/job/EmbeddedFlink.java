package io.backflow.job;

import java.util.Iterator;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.apache.flink.client.deployment.executors.LocalExecutor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.rpc.RpcSystem;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Reference;

/**
 * Flink inside the Backflow process ({@code java -jar}): the MiniCluster a sync (or {@code serve})
 * runs on, started the way a local environment starts one, with two differences that shorten
 * every start. Flink's RPC system comes from the class path when the launcher put
 * {@code flink-rpc-akka} there: Flink's own loader unpacks that 21 MB jar into a temporary file
 * and loads it through a class loader of its own at every start, where no class-data archive
 * reaches. And the network buffers are sized for a chained job, which exchanges no records
 * between tasks, instead of Flink's 64 MB.
 */
public final class EmbeddedFlink {
    /** The executor name of {@link #environment}: it never matches one of Flink's. */
    static final String EXECUTOR = "backflow-embedded";
    /** Room for an unchained pipeline too (a user's {@code pipeline.operator-chaining.enabled: false}), at 32 KB a buffer. */
    static final MemorySize NETWORK_MEMORY = MemorySize.parse("16m");

    private EmbeddedFlink() {}

    /** An environment whose job runs on a MiniCluster of its own, as a local environment's does. */
    public static StreamExecutionEnvironment environment(Configuration conf) {
        Configuration c = withClusterSettings(conf);
        c.set(DeploymentOptions.TARGET, EXECUTOR);
        c.set(DeploymentOptions.ATTACHED, true);
        return new StreamExecutionEnvironment(new Executors(), c, Thread.currentThread().getContextClassLoader());
    }

    /** A MiniCluster with the class path's RPC system; {@code serve} runs one for all its syncs. */
    public static MiniCluster miniCluster(MiniClusterConfiguration config) {
        return new MiniCluster(config, () -> rpcSystem(config.getConfiguration()));
    }

    /** {@code conf} with the embedded cluster's own settings, unless the user set them. */
    public static Configuration withClusterSettings(Configuration conf) {
        Configuration c = new Configuration(conf);
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

    /** Hands every job of {@link #environment} to a local executor that starts {@link #miniCluster}s. */
    private static final class Executors implements PipelineExecutorServiceLoader, PipelineExecutorFactory {
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
            return LocalExecutor.createWithFactory(configuration, EmbeddedFlink::miniCluster);
        }
    }
}
