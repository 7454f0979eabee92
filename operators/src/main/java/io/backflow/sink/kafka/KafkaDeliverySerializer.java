package io.backflow.sink.kafka;

import io.backflow.sink.DeliveryCommittable;
import io.backflow.sink.DeliveryCommittableSerializer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.io.SimpleVersionedSerialization;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;

/**
 * Version 1: the number of Kafka transactions, each in Kafka's own versioned format, then the
 * ledger's part in {@link DeliveryCommittableSerializer}'s versioned format; so either side can
 * change its format without this one changing.
 */
final class KafkaDeliverySerializer implements SimpleVersionedSerializer<KafkaDelivery> {
    private static final int VERSION = 1;

    private final SimpleVersionedSerializer<KafkaCommittable> transactions;
    private final SimpleVersionedSerializer<DeliveryCommittable> deliveries = new DeliveryCommittableSerializer();

    KafkaDeliverySerializer(SimpleVersionedSerializer<KafkaCommittable> transactions) {
        this.transactions = transactions;
    }

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(KafkaDelivery d) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(d.transactions().size());
            for (KafkaCommittable t : d.transactions()) {
                write(out, SimpleVersionedSerialization.writeVersionAndSerialize(transactions, t));
            }
            write(out, SimpleVersionedSerialization.writeVersionAndSerialize(deliveries, d.delivery()));
        }
        return bytes.toByteArray();
    }

    @Override
    public KafkaDelivery deserialize(int version, byte[] serialized) throws IOException {
        if (version != VERSION) {
            throw new IOException("Unknown Kafka delivery committable version " + version + " (this Backflow reads version " + VERSION + ")");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
            int n = in.readInt();
            List<KafkaCommittable> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(SimpleVersionedSerialization.readVersionAndDeSerialize(transactions, read(in)));
            }
            return new KafkaDelivery(list, SimpleVersionedSerialization.readVersionAndDeSerialize(deliveries, read(in)));
        }
    }

    private static void write(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] read(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }
}
