package io.backflow.job.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;

/** The few calls of Flink's REST API that stopping a sync on a cluster needs. */
final class FlinkRest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TERMINAL = Set.of("FINISHED", "CANCELED", "FAILED", "SUSPENDED");

    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    FlinkRest(String base) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    static boolean isTerminal(String state) {
        return TERMINAL.contains(state);
    }

    /** The job's state (RUNNING, FINISHED, ...), or null when the cluster does not know the job. */
    String jobState(String jobId) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 404) {
            return null;
        }
        if (r.statusCode() != 200) {
            throw new IOException("Flink REST " + base + " answered HTTP " + r.statusCode());
        }
        return JSON.readTree(r.body()).path("state").asText(null);
    }

    /**
     * Stops the job with a savepoint (draining first when asked) and waits for it; returns the
     * savepoint's location.
     */
    String stopWithSavepoint(String jobId, boolean drain, String targetDirectory, Duration timeout) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("drain", drain).put("formatType", "CANONICAL");
        if (targetDirectory != null) {
            body.put("targetDirectory", targetDirectory);
        }
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "/stop"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IOException("Flink refused to stop job " + jobId + " (HTTP " + r.statusCode() + "): " + firstError(r.body()));
        }
        String trigger = JSON.readTree(r.body()).path("request-id").asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> s = http.send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "/savepoints/" + trigger))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            JsonNode status = JSON.readTree(s.body());
            if ("COMPLETED".equals(status.path("status").path("id").asText())) {
                JsonNode op = status.path("operation");
                if (op.has("location")) {
                    return op.get("location").asText();
                }
                throw new IOException("the stop of job " + jobId + " failed: " + op.path("failure-cause").path("stack-trace").asText("unknown").split("\n")[0]);
            }
            Thread.sleep(250);
        }
        throw new IOException("job " + jobId + " did not stop within " + timeout.toSeconds() + "s");
    }

    /** The location of the job's latest savepoint, or null when there is none or the API cannot be reached. */
    String latestSavepointQuietly(String jobId) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "/checkpoints"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JSON.readTree(r.body()).path("latest").path("savepoint").path("external_path").asText(null) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static String firstError(String body) {
        try {
            JsonNode errors = JSON.readTree(body).path("errors");
            return errors.isArray() && errors.size() > 0 ? errors.get(0).asText().split("\n")[0] : body;
        } catch (IOException e) {
            return body;
        }
    }
}
