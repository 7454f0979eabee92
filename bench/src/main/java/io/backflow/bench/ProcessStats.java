package io.backflow.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * CPU and memory of a child process tree, from Linux's {@code /proc}: CPU as the harness's
 * {@code cutime + cstime} (every waited-for descendant's user and system time, exact once the
 * child has been reaped), peak RSS as the largest sum of the tree's {@code VmRSS} seen while
 * sampling every 20 ms; and the whole machine's busy time from {@code /proc/stat}, which also
 * holds what PostgreSQL and the receiver spent.
 */
final class ProcessStats {
    private static final double TICKS = 100.0; // USER_HZ on Linux

    private ProcessStats() {}

    /** CPU seconds of this process's reaped children so far. */
    static double childrenCpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // After the command: state is field 3; cutime and cstime are fields 16 and 17.
        return (Long.parseLong(f[13]) + Long.parseLong(f[14])) / TICKS;
    }

    /**
     * CPU seconds the live tree under {@code root} has used so far (each process's own user and
     * system time; a process that already ended and was reaped is not in it).
     */
    static double treeCpuSeconds(ProcessHandle root) {
        long ticks = ownTicks(root.pid());
        try (Stream<ProcessHandle> d = root.descendants()) {
            for (ProcessHandle h : (Iterable<ProcessHandle>) d::iterator) {
                ticks += ownTicks(h.pid());
            }
        }
        return ticks / TICKS;
    }

    /**
     * The machine's CPU time so far, in seconds summed over its CPUs: {@code [busy, all]}, busy
     * being all but idle and I/O wait (steal counts as busy: another guest had the core).
     */
    static double[] machineCpuSeconds() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long all = 0;
        for (int i = 1; i < f.length && i <= 8; i++) { // user .. steal; guest time is inside user already
            all += Long.parseLong(f[i]);
        }
        long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
        return new double[] {(all - idle) / TICKS, all / TICKS};
    }

    private static long ownTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
        } catch (IOException | RuntimeException gone) {
            return 0;
        }
    }

    /** Resident memory of {@code root} and its descendants now, in bytes (0 when gone). */
    static long treeRssBytes(ProcessHandle root) {
        long kb = rssKb(root.pid());
        try (Stream<ProcessHandle> d = root.descendants()) {
            for (ProcessHandle h : (Iterable<ProcessHandle>) d::iterator) {
                kb += rssKb(h.pid());
            }
        }
        return kb * 1024;
    }

    private static long rssKb(long pid) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/" + pid + "/status"));
            for (String l : lines) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException gone) {
            // the process ended between listing and reading
        }
        return 0;
    }
}
