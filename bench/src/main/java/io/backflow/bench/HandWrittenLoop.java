package io.backflow.bench;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Base64;
import java.util.UUID;

/**
 * The baseline: what a data engineer writes by hand. One thread reads the table with a streaming
 * cursor, writes each row as a track event with Jackson, and POSTs blocking batches of 500 to
 * {@code /v1/batch}; no checkpoints, no ledger, no retries.
 *
 * <p>Arguments: JDBC URL, user, receiver base URL.
 */
public final class HandWrittenLoop {
    private static final int BATCH = 500;

    public static void main(String[] args) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI uri = URI.create(args[2] + "/v1/batch");
        String auth = "Basic " + Base64.getEncoder().encodeToString("bench:".getBytes(StandardCharsets.UTF_8));
        ObjectMapper json = new ObjectMapper();
        ByteArrayOutputStream body = new ByteArrayOutputStream(1 << 20);
        long sent = 0;
        try (Connection c = DriverManager.getConnection(args[0], args[1], "")) {
            c.setAutoCommit(false);
            c.setReadOnly(true);
            try (Statement s = c.createStatement()) {
                s.setFetchSize(10_000);
                try (ResultSet rs = s.executeQuery("SELECT id, user_id, amount, updated_at FROM orders")) {
                    JsonGenerator g = null;
                    int inBatch = 0;
                    while (rs.next()) {
                        if (g == null) {
                            body.reset();
                            g = json.getFactory().createGenerator(body);
                            g.writeStartObject();
                            g.writeArrayFieldStart("batch");
                        }
                        long id = rs.getLong(1);
                        g.writeStartObject();
                        g.writeStringField("type", "track");
                        g.writeStringField("event", "Order Completed");
                        g.writeStringField("userId", rs.getString(2));
                        g.writeObjectFieldStart("properties");
                        g.writeStringField("amount", rs.getBigDecimal(3).toPlainString());
                        g.writeEndObject();
                        g.writeStringField("timestamp", rs.getTimestamp(4).toInstant().toString());
                        g.writeStringField("messageId", new UUID(0, id).toString());
                        g.writeEndObject();
                        if (++inBatch == BATCH) {
                            send(http, uri, auth, g, body);
                            sent += inBatch;
                            inBatch = 0;
                            g = null;
                        }
                    }
                    if (g != null) {
                        send(http, uri, auth, g, body);
                        sent += inBatch;
                    }
                }
            }
        }
        System.out.println("sent " + sent);
    }

    private static void send(HttpClient http, URI uri, String auth, JsonGenerator g, ByteArrayOutputStream body) throws Exception {
        g.writeEndArray();
        g.writeEndObject();
        g.close();
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json").header("Authorization", auth)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("receiver answered " + r.statusCode());
        }
    }
}
