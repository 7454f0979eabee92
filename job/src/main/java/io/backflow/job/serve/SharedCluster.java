package io.backflow.job.serve;

import java.net.URI;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;

/**
 * The one Flink MiniCluster of {@code serve}: every sync is submitted to it through its REST
 * endpoint, so all of them show in one Flink dashboard, and stops take the same savepoint path
 * as on a real cluster.
 */
final class SharedCluster implements AutoCloseable {
    /** Slots per sync that may run at once: a connection's parallelism up to this fits. */
    private static final int SLOTS_PER_SYNC = 16;

    private final MiniCluster cluster;
    private final URI rest;

    private SharedCluster(MiniCluster cluster, URI rest) {
        this.cluster = cluster;
        this.rest = rest;
    }

    /** Starts the cluster, its REST endpoint and dashboard where {@code webUi} binds them. */
    static SharedCluster start(Configuration webUi, int maxParallel) {
        Configuration conf = io.backflow.job.EmbeddedFlink.withClusterSettings(webUi);
        MiniCluster cluster = io.backflow.job.EmbeddedFlink.miniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(maxParallel * SLOTS_PER_SYNC).build());
        try {
            cluster.start();
            return new SharedCluster(cluster, cluster.getRestAddress().get());
        } catch (Exception e) {
            try {
                cluster.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IllegalStateException("could not start Flink for serve: " + e.getMessage(), e);
        }
    }

    /** The dashboard's and REST API's address. */
    String restUrl() {
        return "http://" + rest.getHost() + ":" + rest.getPort();
    }

    /** The settings that make a sync submit its job here and follow it. */
    Configuration submitTo() {
        Configuration c = new Configuration();
        c.set(DeploymentOptions.TARGET, "remote");
        c.set(DeploymentOptions.ATTACHED, true);
        c.set(RestOptions.ADDRESS, rest.getHost());
        c.set(RestOptions.PORT, rest.getPort());
        return c;
    }

    @Override
    public void close() {
        try {
            cluster.close();
        } catch (Exception e) {
            // Exiting anyway; the syncs are already stopped.
            org.slf4j.LoggerFactory.getLogger(SharedCluster.class).warn("Flink did not shut down cleanly: {}", e.toString());
        }
    }
}
