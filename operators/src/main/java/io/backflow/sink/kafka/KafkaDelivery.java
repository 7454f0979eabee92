package io.backflow.sink.kafka;

import io.backflow.sink.DeliveryCommittable;
import java.util.List;
import java.util.Objects;
import org.apache.flink.connector.kafka.sink.KafkaCommittable;

/**
 * What one Kafka writer resolved in one checkpoint: the Kafka transaction that holds its events
 * (none with at-least-once, or when it wrote nothing) and what the ledger records of its rows.
 * The committer commits the transaction first and the ledger only after it.
 */
public final class KafkaDelivery {
    private final List<KafkaCommittable> transactions;
    private final DeliveryCommittable delivery;

    public KafkaDelivery(List<KafkaCommittable> transactions, DeliveryCommittable delivery) {
        this.transactions = List.copyOf(transactions);
        this.delivery = Objects.requireNonNull(delivery, "delivery");
    }

    /** Kafka transactions to commit, at most one per checkpoint and writer. */
    public List<KafkaCommittable> transactions() {
        return transactions;
    }

    public DeliveryCommittable delivery() {
        return delivery;
    }

    @Override
    public String toString() {
        return "KafkaDelivery{" + transactions + ", " + delivery + "}";
    }
}
