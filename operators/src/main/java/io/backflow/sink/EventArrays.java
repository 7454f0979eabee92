package io.backflow.sink;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Request bodies that are the events themselves, joined: each payload is already JSON, so none is encoded again. */
public final class EventArrays {
    private EventArrays() {}

    /** {@code prefix}, the payloads separated by commas, {@code suffix}. */
    public static byte[] body(String prefix, List<DeliveryEntry> entries, String suffix) {
        List<byte[]> payloads = new ArrayList<>(entries.size());
        for (DeliveryEntry e : entries) {
            payloads.add(e.payload());
        }
        return join(prefix, payloads, suffix);
    }

    /** {@code prefix}, the JSON values separated by commas, {@code suffix}. */
    public static byte[] join(String prefix, List<byte[]> values, String suffix) {
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        byte[] s = suffix.getBytes(StandardCharsets.UTF_8);
        int size = p.length + s.length + Math.max(0, values.size() - 1);
        for (byte[] v : values) {
            size += v.length;
        }
        byte[] body = new byte[size];
        System.arraycopy(p, 0, body, 0, p.length);
        int at = p.length;
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                body[at++] = ',';
            }
            byte[] value = values.get(i);
            System.arraycopy(value, 0, body, at, value.length);
            at += value.length;
        }
        System.arraycopy(s, 0, body, at, s.length);
        return body;
    }

    /**
     * POSTs to {@code uri}, each a {@link #body} of as many events as {@code limits} let one request
     * carry: the request builder of every API that takes a plain array of events.
     */
    public static Destination.Requests posts(URI uri, Map<String, String> headers, List<DeliveryEntry> events, DestinationLimits limits,
            String prefix, String suffix) {
        List<DestinationRequest> out = new ArrayList<>();
        for (List<DeliveryEntry> chunk : Chunks.of(events, limits.eventsPerRequest(), limits.bytesPerRequest(), overhead(prefix, suffix), 1,
                e -> e.payload().length)) {
            out.add(DestinationRequest.post(uri, headers, body(prefix, chunk, suffix), chunk, null));
        }
        return Destination.Requests.of(out);
    }

    /** Bytes {@link #body} adds around the payloads besides the commas. */
    public static int overhead(String prefix, String suffix) {
        return prefix.getBytes(StandardCharsets.UTF_8).length + suffix.getBytes(StandardCharsets.UTF_8).length;
    }
}
