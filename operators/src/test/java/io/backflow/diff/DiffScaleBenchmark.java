package io.backflow.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.ledger.Ledger;
import io.backflow.sink.DeliveryCommittable;
import io.backflow.ledger.LedgerStore;
import io.backflow.testing.Databases;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How the diff scales, measured, not asserted: on a table of {@code backflow.bench.rows} rows
 * (default 1,000,000), the time to compute the first delta (every row), to move the snapshot once
 * all of it is acknowledged, to compute a delta where nothing changed, and one where 1% changed,
 * with the JVM heap in use around each step (the table never passes through the JVM). Run with
 * {@code mvn -pl operators test -Dtest=DiffScaleBenchmark -Dbackflow.bench=true}.
 */
@EnabledIfSystemProperty(named = "backflow.bench", matches = "true")
class DiffScaleBenchmark {
    @TempDir static Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"duckdb", "postgres", "duckdb with primary key", "postgres with primary key"})
    void diffAtScale(String variant) {
        String db = variant.split(" ")[0];
        boolean declaredKey = variant.contains("primary key");
        int rows = Integer.getInteger("backflow.bench.rows", 1_000_000);
        JdbcEndpoint endpoint = db.equals("postgres") ? Databases.newPostgresDatabase("bench") : Databases.duckDb(tmp, "bench" + declaredKey);
        Databases.execute(endpoint, "CREATE SCHEMA shop",
                "CREATE TABLE shop.users (id BIGINT" + (declaredKey ? " PRIMARY KEY" : "") + ", email VARCHAR(80), plan VARCHAR(20), score DECIMAL(10,2), note VARCHAR(40))",
                "INSERT INTO shop.users SELECT i, 'user' || i || '@example.com', CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END, i / 7.0,"
                        + " 'unmapped' FROM generate_series(1, " + rows + ") AS t(i)");
        if (db.equals("postgres")) {
            Databases.execute(endpoint, "ANALYZE shop.users");
        }
        SnapshotDiff all = diff(endpoint, true);
        SnapshotDiff changes = diff(endpoint, false);
        try (Ledger ledger = new LedgerStore(endpoint, "backflow").open()) {
            String first = ledger.startRun("users", "FULL", null, "bench");
            long t0 = System.nanoTime();
            SnapshotDiff.Result full = ledger.planDelta(first, "users", all);
            report(variant, "first delta (every row)", t0, full);
            assertEquals(rows, full.rows("insert"));
            t0 = System.nanoTime();
            ledger.planned(first, null, List.of(new Ledger.SplitProgress("full-0", "d", null, false)));
            ledger.commit(new DeliveryCommittable(first, 0, 1, 0, 0, 0, 0, Map.of(), Set.of("full-0"), List.of()));
            report(variant, "snapshot moved by " + rows + " acknowledged rows", t0, null);

            String second = ledger.startRun("users", "DIFF", null, "bench");
            t0 = System.nanoTime();
            SnapshotDiff.Result none = ledger.planDelta(second, "users", changes);
            report(variant, "delta with nothing changed", t0, none);
            assertEquals(0, none.rows("insert") + none.rows("update"));
            ledger.planned(second, null, List.of(new Ledger.SplitProgress("full-0", "d", null, false)));
            ledger.commit(new DeliveryCommittable(second, 0, 1, 0, 0, 0, 0, Map.of(), Set.of("full-0"), List.of()));

            Databases.execute(endpoint, "UPDATE shop.users SET plan = 'enterprise' WHERE id % 100 = 0");
            String third = ledger.startRun("users", "DIFF", null, "bench");
            t0 = System.nanoTime();
            SnapshotDiff.Result some = ledger.planDelta(third, "users", changes);
            report(variant, "delta with 1% changed", t0, some);
        }
    }

    private static SnapshotDiff diff(JdbcEndpoint endpoint, boolean sendAll) {
        return new SnapshotDiff(endpoint.dialect(), "backflow", "users", "shop.users", null, List.of("id"),
                List.of("email", "plan", "score"), SyncMode.MIRROR, sendAll, endpoint);
    }

    private static void report(String variant, String step, long startedNanos, SnapshotDiff.Result result) {
        long ms = (System.nanoTime() - startedNanos) / 1_000_000;
        Runtime rt = Runtime.getRuntime();
        long heapMb = (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024);
        System.out.printf("DiffScaleBenchmark %-25s %-45s %7d ms  heap in use %4d MB  %s%n", variant, step, ms, heapMb,
                result == null ? "" : result.describe());
    }
}
