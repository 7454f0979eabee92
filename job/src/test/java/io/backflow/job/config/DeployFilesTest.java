package io.backflow.job.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment files we ship (Kubernetes, docker compose, Prometheus) are parsed here, because no
 * Kubernetes cluster or Docker engine runs in CI: a typo in them would otherwise reach users first.
 */
class DeployFilesTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Path ROOT = Path.of("..");

    @TempDir
    Path dir;

    @Test
    void theKubernetesDeploymentUpgradesWithSavepointsAndCarriesAValidConnection() throws IOException {
        List<JsonNode> docs = documents(ROOT.resolve("deploy/kubernetes/backflow-orders.yaml"));
        assertEquals(2, docs.size());
        JsonNode configMap = docs.get(0);
        JsonNode deployment = docs.get(1);
        assertEquals("ConfigMap", configMap.path("kind").asText());
        assertEquals("FlinkDeployment", deployment.path("kind").asText());
        assertEquals("flink.apache.org/v1beta1", deployment.path("apiVersion").asText());

        JsonNode spec = deployment.path("spec");
        assertEquals("v2_2", spec.path("flinkVersion").asText());
        JsonNode job = spec.path("job");
        // savepoint (not stateless or last-state): an upgrade stops with a savepoint and resumes from it.
        assertEquals("savepoint", job.path("upgradeMode").asText());
        assertEquals("io.backflow.job.Main", job.path("entryClass").asText());
        assertTrue(job.path("jarURI").asText().startsWith("local:///"), "jarURI is a path inside the image");
        List<String> args = new ArrayList<>();
        job.path("args").forEach(a -> args.add(a.asText()));
        assertEquals("sync", args.get(0));
        String connectionPath = args.get(args.indexOf("--connection") + 1);

        // The connection file the job reads is the one the ConfigMap mounts.
        JsonNode container = spec.path("podTemplate").path("spec").path("containers").get(0);
        JsonNode mount = container.path("volumeMounts").get(0);
        String fileName = Path.of(connectionPath).getFileName().toString();
        assertEquals(Path.of(mount.path("mountPath").asText()).resolve(fileName).toString(), connectionPath);
        String volume = mount.path("name").asText();
        JsonNode volumes = spec.path("podTemplate").path("spec").path("volumes");
        assertEquals(configMap.path("metadata").path("name").asText(), volumeNamed(volumes, volume).path("configMap").path("name").asText());
        String connection = configMap.path("data").path(fileName).asText();
        assertTrue(!connection.isEmpty(), () -> "the ConfigMap holds " + fileName);

        // Every ${ENV} the connection needs comes from the pod's environment (secrets), none is left unset.
        Set<String> env = new HashSet<>();
        container.path("env").forEach(e -> env.add(e.path("name").asText()));
        Set<String> asked = new HashSet<>();
        ConnectionConfig c = new ConfigLoader(k -> {
            asked.add(k);
            return "x";
        }).load(write(fileName, connection));
        assertTrue(env.containsAll(asked), () -> "environment " + env + " lacks some of " + asked);
        assertTrue(c.state() != null && c.sync().savepointDir().startsWith("s3://"), "state and savepoints off the pod");
        assertEquals(Duration.ofSeconds(10), c.sync().checkpointInterval());
        assertEquals(c.sync().parallelism(), job.path("parallelism").asInt());
        assertEquals(c.sync().savepointDir(), spec.path("flinkConfiguration").path("execution.checkpointing.savepoint-dir").asText());
        assertTrue(env.contains("ENABLE_BUILT_IN_PLUGINS"), "the Prometheus reporter's plugin is enabled");
    }

    @Test
    void prometheusScrapesTheReporterPortOfEveryFlinkProcessInCompose() throws IOException {
        JsonNode compose = documents(ROOT.resolve("docker-compose.yml")).get(0);
        JsonNode scrape = documents(ROOT.resolve("conf/prometheus.yml")).get(0);
        Set<String> targets = new HashSet<>();
        scrape.path("scrape_configs").forEach(s -> s.path("static_configs").forEach(
                t -> t.path("targets").forEach(x -> targets.add(x.asText()))));

        JsonNode services = compose.path("services");
        Set<String> expected = new HashSet<>();
        for (String flink : List.of("jobmanager", "taskmanager")) {
            JsonNode environment = services.path(flink).path("environment");
            JsonNode properties = YAML.readTree(environment.path("FLINK_PROPERTIES").asText());
            assertEquals("org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
                    properties.path("metrics.reporter.prom.factory.class").asText(), flink);
            assertTrue(environment.path("ENABLE_BUILT_IN_PLUGINS").asText().startsWith("flink-metrics-prometheus-2.2"), flink);
            expected.add(flink + ":" + properties.path("metrics.reporter.prom.port").asText());
        }
        assertEquals(expected, targets);

        JsonNode prometheus = services.path("prometheus");
        assertNotNull(prometheus.get("image"), "compose runs a prometheus service");
        boolean mounted = false;
        for (JsonNode v : prometheus.path("volumes")) {
            mounted |= v.asText().startsWith("./conf/prometheus.yml:/etc/prometheus/prometheus.yml");
        }
        assertTrue(mounted, "compose mounts conf/prometheus.yml into the prometheus service");
    }

    private static JsonNode volumeNamed(JsonNode volumes, String name) {
        for (JsonNode v : volumes) {
            if (name.equals(v.path("name").asText())) {
                return v;
            }
        }
        throw new AssertionError("no volume " + name);
    }

    private static List<JsonNode> documents(Path file) throws IOException {
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            return it.readAll();
        }
    }

    private Path write(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }
}
