package io.backflow.job.cli;

import io.backflow.diff.SnapshotDiff;
import io.backflow.diff.SyncMode;
import io.backflow.job.SyncFailedException;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.ledger.Ledger;
import io.backflow.ledger.RunStatus;
import io.backflow.ledger.SyncRun;
import io.backflow.source.SyncType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the next sync of a connection does, decided from the ledger and the user's flags: its
 * type, where it starts, and whether it continues a stopped or failed run (from that run's
 * savepoint when there is a usable one, else from the positions the ledger committed).
 *
 * @param resumedFrom the run this one continues, or null for a fresh run
 * @param savepoint the savepoint to restore, or null
 * @param splits the splits to continue without a savepoint, or null to plan afresh
 * @param diff true when the run reads a delta table (change detection by diff): the delta of the
 *     run it resumes, or a fresh one
 */
public record RunPlan(SyncType type, String startPosition, String reason, String resumedFrom, String savepoint,
        String highWaterMark, List<Ledger.SplitProgress> splits, boolean diff) {

    private RunPlan(SyncType type, String startPosition, String reason, String resumedFrom, String savepoint, String highWaterMark,
            List<Ledger.SplitProgress> splits) {
        this(type, startPosition, reason, resumedFrom, savepoint, highWaterMark, splits, false);
    }

    private RunPlan asDiff(boolean diff) {
        return new RunPlan(type, startPosition, reason, resumedFrom, savepoint, highWaterMark, splits, diff);
    }

    /** For a fresh delta: every row in scope, changed or not (a FULL diff run). */
    public boolean sendAll() {
        return diff && type == SyncType.FULL;
    }

    /**
     * Decides the next run. {@code restorePath} is a savepoint Flink was told to restore
     * ({@code flink run -s}), or null.
     */
    public static RunPlan decide(ConnectionConfig config, Ledger ledger, boolean fullResync, String restorePath, String fingerprint) {
        return decide(config, ledger, fullResync, restorePath, fingerprint, false);
    }

    /**
     * As above; {@code continuous} for the first run of a continuous job, which may restore a
     * savepoint taken between two runs: nothing was in flight then, so its run is a fresh one.
     */
    public static RunPlan decide(ConnectionConfig config, Ledger ledger, boolean fullResync, String restorePath, String fingerprint,
            boolean continuous) {
        boolean diff = config.source().changeDetection() == ConnectionConfig.ChangeDetection.DIFF;
        return decideRun(config, ledger, fullResync, restorePath, fingerprint, diff, continuous).asDiff(diff);
    }

    private static RunPlan decideRun(ConnectionConfig config, Ledger ledger, boolean fullResync, String restorePath, String fingerprint,
            boolean diff, boolean continuous) {
        List<SyncRun> recent = ledger.runs(config.name(), 1);
        SyncRun last = recent.isEmpty() ? null : recent.get(0);
        if (last != null && last.status() == RunStatus.RUNNING) {
            Liveness.Verdict verdict = Liveness.check(last);
            if (verdict.alive()) {
                throw new SyncFailedException("connection " + config.name() + " already has a sync running: run " + last.id()
                        + " (" + verdict.detail() + "); stop it with: stop --connection " + config.file());
            }
            Liveness.recordEnded(ledger, last, verdict);
            last = ledger.run(last.id());
        } else if (last != null && Liveness.continuousJob(last)) {
            // Between two runs a continuous job has no RUNNING run, but it runs on.
            Liveness.Verdict verdict = Liveness.check(last);
            if (verdict.alive()) {
                throw new SyncFailedException("connection " + config.name() + " runs continuously in Flink job " + last.jobId() + " ("
                        + verdict.detail() + "); stop it with: stop --connection " + config.file());
            }
        }
        // A FAILED run that read everything (the destination took none of it) is not resumed: its
        // position moved on and its rows are owed by key, like a PARTIAL run's.
        boolean unfinished = last != null && (last.status() == RunStatus.CANCELLED || last.status() == RunStatus.FAILED && !last.completed());
        if (fullResync && restorePath != null) {
            // The savepoint holds the splits of the run it was taken in, and a full resync is a new run.
            throw new SyncFailedException("a savepoint (" + restorePath + ") resumes the run it was taken in; --full-resync starts a new one:"
                    + " run without -s to resync, or without --full-resync to resume");
        }
        if (fullResync) {
            if (unfinished) {
                // What the stopped run delivered never reached the snapshot: its deletes would be lost.
                ledger.abandonDelta(last.id());
            }
            ledger.resetPosition(config.name());
            return fresh(SyncType.FULL, null, "full resync requested");
        }
        if (restorePath != null && !(continuous && !unfinished)) {
            if (!unfinished) {
                throw new SyncFailedException("a savepoint was given (" + restorePath + ") but connection " + config.name()
                        + " has no stopped or failed run to resume" + (last == null ? "" : "; its last run " + last.id() + " " + last.status()));
            }
            return new RunPlan(SyncType.valueOf(last.type()), last.startPosition(), "resumes " + last.status().name().toLowerCase()
                    + " run " + last.id() + " from savepoint " + restorePath, last.id(), restorePath, last.highWaterMark(), null);
        }
        if (unfinished) {
            String change = Fingerprint.changeSince(last.fingerprint(), fingerprint);
            if (change != null) {
                // What the stopped run delivered was made another way: start over, knowing that
                // the keys of its delta may be at the destination.
                ledger.abandonDelta(last.id());
                return fresh(SyncType.FULL, null, change + " since " + last.status().name().toLowerCase() + " run " + last.id()
                        + ", so this sync is FULL instead of resuming it");
            }
            SyncType type = SyncType.valueOf(last.type());
            String verb = "resumes " + last.status().name().toLowerCase() + " run " + last.id();
            if (last.plannedSplits() == null) {
                // It stopped before reading anything: start its type again from the committed position.
                return type == SyncType.FULL ? fresh(SyncType.FULL, last.id(), verb + " from the start")
                        : new RunPlan(type, last.startPosition(), verb + " from the start", last.id(), null, null, null);
            }
            if (last.savepoint() != null && usable(last.savepoint())) {
                return new RunPlan(type, last.startPosition(), verb + " from its savepoint " + last.savepoint(), last.id(),
                        last.savepoint(), last.highWaterMark(), null);
            }
            List<Ledger.SplitProgress> splits = ledger.splitProgress(last.id());
            boolean describable = !splits.isEmpty() && splits.stream().allMatch(s -> s.descriptor() != null);
            if (describable) {
                return new RunPlan(type, last.startPosition(), verb + " from its last committed position"
                        + (last.savepoint() == null ? "" : " (savepoint " + last.savepoint() + " is gone)"), last.id(), null,
                        last.highWaterMark(), splits);
            }
            return type == SyncType.FULL ? fresh(SyncType.FULL, last.id(), verb + " from the start")
                    : new RunPlan(type, last.startPosition(), verb + " from the start", last.id(), null, null, null);
        }
        if (config.sync().mode() == SyncMode.FULL) {
            return fresh(SyncType.FULL, null, "sync.mode full: every sync sends every row");
        }
        SyncRun succeeded = ledger.lastCompleted(config.name());
        String change = succeeded == null ? null : Fingerprint.changeSince(succeeded.fingerprint(), fingerprint);
        if (change != null) {
            return fresh(SyncType.FULL, null, change + " since run " + succeeded.id() + ", so this sync is FULL");
        }
        if (diff) {
            String snapshot = ledger.snapshotOf(config.name());
            if (snapshot == null) {
                return fresh(SyncType.FULL, null, "first diff sync of this connection: every row is sent");
            }
            if (!snapshot.equals(SnapshotDiff.snapshotTableName(config.name(), config.source().primaryKey()))) {
                return fresh(SyncType.FULL, null, "the primary key changed since the last sync, so this sync is FULL");
            }
            return fresh(SyncType.DIFF, null, "rows changed since the last delivered snapshot");
        }
        String position = ledger.committedPosition(config.name());
        if (position == null) {
            return fresh(SyncType.FULL, null, "first sync of this connection");
        }
        return new RunPlan(SyncType.INCREMENTAL, position, "rows changed since the last sync", null, null, null, null);
    }

    private static RunPlan fresh(SyncType type, String resumedFrom, String reason) {
        return new RunPlan(type, null, reason, resumedFrom, null, null, null);
    }

    /** A local savepoint must still have its metadata; other file systems are trusted. */
    static boolean usable(String savepoint) {
        if (savepoint.startsWith("file:") || savepoint.startsWith("/")) {
            Path dir = Path.of(savepoint.replaceFirst("^file:(//)?", ""));
            return Files.isRegularFile(dir.resolve("_metadata"));
        }
        return true;
    }
}
