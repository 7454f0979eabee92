package io.backflow.sink.http;

import io.backflow.sink.DeliveryCommittable;
import io.backflow.model.SyncRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** SyncRecords and committable sums for the sink tests. */
public final class TestRecords {
    private TestRecords() {}

    public static String messageId(int i) {
        return "m-" + i;
    }

    public static String key(int i) {
        return "{\"id\":" + i + "}";
    }

    public static byte[] payload(int i, int padding) {
        return ("{\"type\":\"track\",\"event\":\"Order Completed\",\"userId\":\"u-" + i + "\",\"messageId\":\""
                + messageId(i) + "\",\"properties\":{\"i\":" + i + ",\"pad\":\"" + "x".repeat(padding) + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    public static SyncRecord event(String split, int i) {
        return SyncRecord.event(split, "p" + i, key(i), messageId(i), payload(i, 0));
    }

    /** Events 0..n-1 of one split followed by its end. */
    public static List<SyncRecord> events(String split, int n) {
        List<SyncRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(event(split, i));
        }
        out.add(SyncRecord.splitEnd(split, "p" + (n - 1)));
        return out;
    }

    public static List<String> messageIds(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(messageId(i));
        }
        return out;
    }

    /** The sum of a run's committables. */
    public static final class Totals {
        public long read;
        public long succeeded;
        public long failed;
        public long invalid;

        public static Totals of(List<DeliveryCommittable> committables) {
            Totals t = new Totals();
            for (DeliveryCommittable c : committables) {
                t.read += c.read();
                t.succeeded += c.succeeded();
                t.failed += c.failed();
                t.invalid += c.invalid();
            }
            return t;
        }

        @Override
        public String toString() {
            return "read=" + read + " succeeded=" + succeeded + " failed=" + failed + " invalid=" + invalid;
        }
    }
}
