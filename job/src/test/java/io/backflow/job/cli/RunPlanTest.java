package io.backflow.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.job.SyncFailedException;
import io.backflow.job.config.ConfigLoader;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.source.SyncType;
import io.backflow.testing.Databases;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A savepoint holds the splits of the run it was taken in, so it cannot start the new run a full
 * resync asks for: the pair is refused in one line instead of reading the old run's rows under it.
 */
class RunPlanTest {
    @TempDir Path dir;

    @Test
    void aSavepointWithAFullResyncIsRefusedAndAFullResyncAloneIsFull() throws Exception {
        JdbcEndpoint db = Databases.duckDb(dir, "plan");
        Databases.execute(db, "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id VARCHAR, amount DECIMAL(10,2), updated_at TIMESTAMP)");
        Path file = Files.writeString(dir.resolve("orders.yaml"), String.join("\n",
                "source:", "  url: " + db.url(), "  table: orders", "  primary_key: id", "  cursor: updated_at",
                "mapping:", "  event_type: track", "  event: Order Completed", "  user_id: user_id",
                "destination:", "  type: webhook", "  url: http://127.0.0.1:9/hook", ""));
        ConnectionConfig config = new ConfigLoader().load(file);
        try (Ledger ledger = Ledgers.open(config)) {
            SyncFailedException refused = assertThrows(SyncFailedException.class,
                    () -> RunPlan.decide(config, ledger, true, "file:/savepoints/savepoint-1", "f1"));
            assertTrue(refused.getMessage().contains("--full-resync") && refused.getMessage().contains("savepoint-1"), refused.getMessage());
            assertEquals(SyncType.FULL, RunPlan.decide(config, ledger, true, null, "f1").type());
        }
    }
}
