package io.backflow.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The destination both contenders send to, in the harness's process (so its CPU is neither's):
 * answers {@code POST /v1/batch} with 200 and counts the events of each {@code batch} array.
 */
final class Receiver implements AutoCloseable {
    private static final JsonFactory JSON = new JsonFactory();

    private final HttpServer server;
    private final ExecutorService threads;
    final AtomicLong events = new AtomicLong();
    final AtomicLong firstEventNanos = new AtomicLong();
    final AtomicLong lastEventNanos = new AtomicLong();

    Receiver() throws IOException {
        this(0);
    }

    /** A receiver that holds every answer back {@code latencyMillis}, as a distant destination would. */
    Receiver(long latencyMillis) throws IOException {
        // With a latency every request in flight holds a thread while it waits.
        threads = latencyMillis > 0 ? Executors.newCachedThreadPool() : Executors.newFixedThreadPool(4);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
        server.createContext("/", exchange -> {
            long n;
            try (InputStream in = exchange.getRequestBody()) {
                n = count(in);
            }
            if (latencyMillis > 0) {
                try {
                    Thread.sleep(latencyMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            firstEventNanos.compareAndSet(0, System.nanoTime());
            events.addAndGet(n);
            lastEventNanos.accumulateAndGet(System.nanoTime(), Math::max);
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.setExecutor(threads);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void reset() {
        events.set(0);
        firstEventNanos.set(0);
        lastEventNanos.set(0);
    }

    /** Objects in the top-level {@code batch} array, skipped over without building them. */
    private static long count(InputStream in) throws IOException {
        long n = 0;
        try (JsonParser p = JSON.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return 0;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if ("batch".equals(name) && t == JsonToken.START_ARRAY) {
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        p.skipChildren();
                        n++;
                    }
                } else {
                    p.skipChildren();
                }
            }
        }
        return n;
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
