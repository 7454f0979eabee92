package io.backflow.job.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo's destination: a local HTTP endpoint on loopback that accepts webhook arrays and
 * {@code /v1/batch} bodies and appends every event it receives, one JSON object per line, to a
 * file.
 */
public final class FileReceiver implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final BufferedWriter writer;
    private final AtomicLong events = new AtomicLong();

    private FileReceiver(HttpServer server, BufferedWriter writer) {
        this.server = server;
        this.writer = writer;
    }

    /** Starts on a free loopback port, appending to {@code file}. */
    public static FileReceiver start(Path file) throws IOException {
        return start(file, "127.0.0.1", 0);
    }

    /** Starts on {@code host:port} (port 0: any free one), appending to {@code file}. */
    public static FileReceiver start(Path file, String host, int port) throws IOException {
        // The file first: a server started for a file that cannot be written would hold the port.
        BufferedWriter writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 0);
        } catch (IOException e) {
            writer.close();
            throw e;
        }
        FileReceiver receiver = new FileReceiver(server, writer);
        server.createContext("/", receiver::handle);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "demo-receiver");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        return receiver;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public long events() {
        return events.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        int status = 200;
        try (InputStream in = exchange.getRequestBody()) {
            JsonNode body = JSON.readTree(in);
            JsonNode list = body != null && body.has("batch") ? body.get("batch") : body;
            if (list == null || !list.isArray()) {
                status = 400;
            } else {
                synchronized (writer) {
                    for (JsonNode event : list) {
                        writer.write(JSON.writeValueAsString(event));
                        writer.newLine();
                    }
                    writer.flush();
                }
                events.addAndGet(list.size());
            }
        } catch (IOException e) {
            status = 400;
        }
        byte[] reply = (status == 200 ? "{\"success\":true}" : "{\"error\":\"expected a JSON array or {\\\"batch\\\": [...]}\"}").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, reply.length);
        exchange.getResponseBody().write(reply);
        exchange.close();
    }

    @Override
    public void close() throws IOException {
        server.stop(0);
        synchronized (writer) {
            writer.close();
        }
    }
}
