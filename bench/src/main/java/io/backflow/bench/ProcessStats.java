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
 * sampling every 20 ms.
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
