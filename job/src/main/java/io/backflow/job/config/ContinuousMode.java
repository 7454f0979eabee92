package io.backflow.job.config;

import io.backflow.diff.SyncMode;
import java.time.Duration;

/**
 * Which connections run in continuous mode (one long-running Flink job that starts an
 * INCREMENTAL run at each tick), and why a connection cannot. {@code serve} runs a connection so
 * when its schedule is {@code every:} under {@link #BELOW}; {@code sync --continuous} runs any
 * {@code every:} schedule so.
 */
public final class ContinuousMode {
    /** Schedules of {@code every:} shorter than this run continuously under {@code serve}. */
    public static final Duration BELOW = Duration.ofMinutes(1);

    private ContinuousMode() {}

    /** True when {@code serve} runs this connection continuously. */
    public static boolean scheduled(ConnectionConfig config) {
        Duration every = config.schedule().every();
        return every != null && every.compareTo(BELOW) < 0;
    }

    /** Why this connection cannot run continuously, in one line that names the field, or null when it can. */
    public static String problem(ConnectionConfig config) {
        if (config.schedule().every() == null) {
            return "schedule: continuous mode starts a run every schedule: {every: ...}, and this connection's schedule is "
                    + config.schedule();
        }
        String instead = " (or set a schedule of every " + Node.describe(BELOW) + " or more: one sync per tick)";
        if (config.source().changeDetection() == ConnectionConfig.ChangeDetection.DIFF) {
            return "source.change_detection: diff cannot run continuously, because each diff run computes its whole delta before it"
                    + " reads; set source.cursor to a column that grows when a row changes" + instead;
        }
        if (config.sync().mode() == SyncMode.FULL) {
            return "sync.mode: full cannot run continuously, because every run would send every row; use upsert" + instead;
        }
        return null;
    }
}
