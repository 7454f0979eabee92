package io.backflow.sink.http;

import io.backflow.sink.CommitterFactory;
import io.backflow.sink.DeliveryCommittable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.connector.sink2.Committer;

/**
 * The tests' stand-in for the ledger committer: keeps every committable of a run in a static
 * map (the MiniCluster runs in this JVM), applying each (subtask, id) once like the ledger does.
 */
public final class CollectingCommitter implements io.backflow.sink.DeliveryCommitter {
    private static final Map<String, Map<String, DeliveryCommittable>> COMMITTED = new ConcurrentHashMap<>();

    private final String runId;

    private CollectingCommitter(String runId) {
        this.runId = runId;
    }

    public static CommitterFactory factory(String runId) {
        return () -> new CollectingCommitter(runId);
    }

    @Override
    public void commit(Collection<CommitRequest<DeliveryCommittable>> requests) {
        Map<String, DeliveryCommittable> run = COMMITTED.computeIfAbsent(runId, r -> new ConcurrentHashMap<>());
        for (CommitRequest<DeliveryCommittable> request : requests) {
            DeliveryCommittable c = request.getCommittable();
            if (!c.runId().equals(runId)) {
                throw new IllegalStateException("committable of run " + c.runId() + " reached the committer of " + runId);
            }
            run.putIfAbsent(c.subtask() + "/" + c.checkpointId(), c);
        }
    }

    @Override
    public boolean isCommitted(DeliveryCommittable c) {
        return COMMITTED.getOrDefault(runId, Map.of()).containsKey(c.subtask() + "/" + c.checkpointId());
    }

    /** Committables of the run in commit-id order per subtask. */
    public static List<DeliveryCommittable> committed(String runId) {
        List<DeliveryCommittable> out = new ArrayList<>(COMMITTED.getOrDefault(runId, Map.of()).values());
        out.sort((a, b) -> a.subtask() != b.subtask() ? Integer.compare(a.subtask(), b.subtask())
                : Long.compare(a.checkpointId(), b.checkpointId()));
        return out;
    }

    @Override
    public void close() {}
}
