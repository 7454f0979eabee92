package io.backflow.job.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backflow.diff.SnapshotUpdate;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.ledger.LedgerStore;
import io.backflow.ledger.SyncRun;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/** {@code history --connection FILE [--json] [--limit N]}: a connection's sync runs, newest first. */
public final class HistoryCommand {
    private HistoryCommand() {}

    public static int run(ConnectionConfig config, boolean json, int limit, PrintStream out) {
        List<SyncRun> runs;
        try (Ledger ledger = Ledgers.open(config)) {
            runs = ledger.runs(config.name(), limit);
        }
        if (json) {
            ArrayNode arr = new ObjectMapper().createArrayNode();
            runs.forEach(r -> arr.add(json(r)));
            out.println(arr.toPrettyString());
            return 0;
        }
        if (runs.isEmpty()) {
            out.println("No sync runs yet for connection " + config.name() + ".");
            return 0;
        }
        out.printf("%-36s  %-11s  %-9s  %10s  %10s  %8s  %8s  %-20s  %s%n",
                "ID", "TYPE", "STATUS", "READ", "SUCCEEDED", "FAILED", "INVALID", "STARTED", "DURATION");
        for (SyncRun r : runs) {
            String duration = r.finishedAt() == null ? "-" : formatDuration(Duration.between(r.startedAt(), r.finishedAt()));
            out.printf("%-36s  %-11s  %-9s  %10d  %10d  %8d  %8d  %-20s  %s%n", r.id(), r.type(), r.status(), r.read(),
                    r.succeeded(), r.failed(), r.invalid(), r.startedAt().toString().replace('T', ' ').replaceFirst("\\.\\d+Z$", "Z"), duration);
            if (r.reason() != null) {
                out.println("    " + r.reason());
            }
            if (r.outcome() != null) {
                out.println("    " + r.outcome());
            }
        }
        return 0;
    }

    /** One run as {@code history --json} and serve's API show it. */
    public static ObjectNode json(SyncRun r) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("id", r.id());
        o.put("type", r.type());
        o.put("status", r.status().name());
        o.put("read", r.read());
        o.put("succeeded", r.succeeded());
        o.put("failed", r.failed());
        o.put("invalid", r.invalid());
        o.put("reason", r.reason());
        o.put("outcome", r.outcome());
        o.put("started_at", r.startedAt().toString());
        if (r.finishedAt() == null) {
            o.putNull("finished_at");
        } else {
            o.put("finished_at", r.finishedAt().toString());
        }
        return o;
    }

    /**
     * {@code history --run ID [--failed] [--json]}: a run's row-level log. A diff run logs every row
     * of its delta: key, operation, status (succeeded, failed, invalid, or pending while unresolved),
     * reason and attempt. A cursor run lists the rows that were not delivered. {@code --failed}: only
     * the rows the destination refused.
     */
    public static int runRows(ConnectionConfig config, String runId, boolean failedOnly, boolean json, int limit, PrintStream out) {
        List<io.backflow.model.RowError> rows;
        List<SnapshotUpdate.LogEntry> log;
        SyncRun run;
        try (Ledger ledger = Ledgers.open(config)) {
            run = ledger.run(runId);
            if (run == null || !run.connection().equals(config.name())) {
                throw new io.backflow.job.BadInputException("connection " + config.name() + " has no run " + runId
                        + "; history --connection " + config.file() + " lists its runs");
            }
            log = ledger.rowLog(runId, failedOnly ? SnapshotUpdate.FAILED : null, limit);
            rows = log != null ? List.of() : ledger.rowErrors(runId, Integer.MAX_VALUE);
        }
        if (log != null) {
            return printLog(run, log, json, limit, out);
        }
        rows = rows.stream().filter(r -> !failedOnly || r.kind() == io.backflow.model.RowError.Kind.FAILED).limit(limit).toList();
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ArrayNode arr = mapper.createArrayNode();
            for (io.backflow.model.RowError r : rows) {
                ObjectNode o = arr.addObject();
                o.put("key", r.key());
                o.put("status", r.kind().name());
                o.put("reason", r.reason());
                o.put("message_id", r.messageId());
            }
            out.println(arr.toPrettyString());
            return 0;
        }
        boolean purged = run.finishedAt() != null && run.finishedAt().isBefore(java.time.Instant.now().minus(config.state().retention()));
        out.println("Run " + run + (!rows.isEmpty() ? "" : purged ? ": its row detail was purged (older than state.retention "
                + (config.state().retention().toDays() > 0 ? config.state().retention().toDays() + "d" : config.state().retention().toHours() + "h")
                + ")" : ": every row read was delivered"));
        for (io.backflow.model.RowError r : rows) {
            out.println("  " + r.kind() + "  " + r.key() + "  " + r.reason());
        }
        return 0;
    }

    private static int printLog(SyncRun run, List<SnapshotUpdate.LogEntry> log, boolean json, int limit, PrintStream out) {
        if (json) {
            ArrayNode arr = new ObjectMapper().createArrayNode();
            for (SnapshotUpdate.LogEntry e : log) {
                ObjectNode o = arr.addObject();
                o.put("key", e.key());
                o.put("operation", e.operation());
                o.put("status", e.status());
                o.put("reason", e.error());
                o.put("attempts", e.attempts());
            }
            out.println(arr.toPrettyString());
            return 0;
        }
        out.println("Run " + run + ": " + (log.isEmpty() ? "no rows" : log.size() + " row(s)" + (log.size() == limit ? " (the first " + limit
                + "; more with --limit N)" : "")));
        if (!log.isEmpty()) {
            out.printf("  %-30s  %-9s  %-9s  %8s  %s%n", "KEY", "OPERATION", "STATUS", "ATTEMPT", "REASON");
        }
        for (SnapshotUpdate.LogEntry e : log) {
            out.printf("  %-30s  %-9s  %-9s  %8d  %s%n", e.key(), e.operation(), e.status(), e.attempts(), e.error() == null ? "" : e.error());
        }
        return 0;
    }

    static String formatDuration(Duration d) {
        long ms = d.toMillis();
        return ms < 60_000 ? String.format("%.1fs", ms / 1000.0) : String.format("%dm%02ds", ms / 60_000, (ms / 1000) % 60);
    }
}
