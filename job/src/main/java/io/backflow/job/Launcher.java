package io.backflow.job;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts Backflow with {@code java -jar backflow.jar}. The jar does not bundle Flink (a cluster
 * provides it under {@code flink run}), so this starts a JVM whose class path is the jar plus the
 * Flink jars in the {@code lib/} folder next to it, with the module flags Flink needs on Java 17.
 * A second JVM, rather than a class loader, because Flink resolves user classes through the
 * system class loader, which must then see Flink too.
 */
public final class Launcher {
    private static final String[] MODULE_FLAGS = {
        "--add-exports=java.base/sun.net.util=ALL-UNNAMED", "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
        "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.text=ALL-UNNAMED",
        "--add-opens=java.base/java.time=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
        "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"
    };

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (isOnClassPath("org.apache.flink.streaming.api.environment.StreamExecutionEnvironment")) {
            Main.main(args);
            return;
        }
        Path jar = Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path lib = jar.resolveSibling("lib");
        if (!Files.isDirectory(lib)) {
            System.err.println("backflow: Flink's jars were not found in " + lib
                    + " (mvn package puts them there); to run on a Flink cluster use: flink run " + jar.getFileName() + " ...");
            System.exit(2);
        }
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        List<String> jvmFlags = ManagementFactory.getRuntimeMXBean().getInputArguments();
        command.addAll(jvmFlags);
        boolean longLived = args.length > 0 && args[0].equals("serve");
        if (!longLived && jvmFlags.stream().noneMatch(f -> f.startsWith("-XX:TieredStopAtLevel") || f.endsWith("TieredCompilation"))) {
            // A sync is short-lived: C2's compiling costs more than it pays back within it. On
            // 1M rows (bench/) C1 alone took 13.9-14.9 CPU-s per million rows against 20.2-21.1
            // and sent 85-98k events/s against 67-75k; at 5M rows the two were even. Any JIT flag
            // of the user's (java -XX:TieredStopAtLevel=4 -jar ...) wins. serve runs for days: C2 pays there.
            command.add("-XX:TieredStopAtLevel=1");
        }
        if (!longLived) {
            command.addAll(memoryDefaults(jvmFlags));
        }
        List<Path> jars = classPath(jar, lib);
        String classPath = jars.stream().map(Path::toString).collect(java.util.stream.Collectors.joining(File.pathSeparator));
        ClassDataArchive archive = ClassDataArchive.forLaunch(jar, jars, jvmFlags);
        if (archive != null) {
            command.addAll(archive.flags(args.length == 0 ? "" : args[0]));
        }
        command.addAll(List.of(MODULE_FLAGS));
        command.addAll(loggingDefaults(jvmFlags, System.getenv()));
        command.add("-Dsun.net.httpserver.nodelay=true");
        command.add("-cp");
        command.add(classPath);
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        Process child = new ProcessBuilder(command).inheritIO().start();
        // Ctrl-C reaches the child through the terminal's process group and the child decides what
        // it means (a sync stops with a savepoint); this process just waits for it. Ignoring it only
        // after the start matters: an ignored signal would be inherited, and the child deaf to it.
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sun.misc.SignalHandler.SIG_IGN);
        } catch (IllegalArgumentException e) {
            // No SIGINT on this platform.
        }
        // A kill (SIGTERM) of this process is passed on, so the child can stop cleanly, and the
        // child's exit code becomes this process's: a scheduler that sent SIGTERM must read 3
        // (stopped with a savepoint), not the JVM's 143.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            child.destroy();
            try {
                int code = child.waitFor();
                Runtime.getRuntime().halt(code);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        int exitCode = child.waitFor();
        if (archive != null) {
            archive.childExited(exitCode, command.get(0), classPath);
        }
        System.exit(exitCode);
    }

    /** The default heap of a sync's JVM: {@value #DEFAULT_HEAP}, unless the user sized it. */
    static final String DEFAULT_HEAP = "1g";

    /**
     * A sync's JVM gets the serial collector and a {@value #DEFAULT_HEAP} heap unless the user
     * chose a collector or a heap size. A sync streams, so its live data is small, and on 1M
     * rows (bench/) the serial collector used 9.2-9.9 CPU-s where G1 used 12.3-12.8, and the
     * process peaked at 310 MB where G1 grew the heap to 0.65-1.6 GB. {@code serve} keeps the
     * JVM's defaults: it runs several syncs for days.
     */
    static List<String> memoryDefaults(List<String> jvmFlags) {
        List<String> out = new ArrayList<>();
        if (jvmFlags.stream().noneMatch(f -> f.startsWith("-XX:+Use") && f.endsWith("GC"))) {
            out.add("-XX:+UseSerialGC");
        }
        // An initial heap of the user's above the default maximum would stop the JVM from starting.
        if (jvmFlags.stream().noneMatch(f -> f.startsWith("-Xmx") || f.startsWith("-Xms") || f.startsWith("-XX:MaxHeapSize")
                || f.startsWith("-XX:InitialHeapSize") || f.startsWith("-XX:MinHeapSize") || f.startsWith("-XX:MaxRAM"))) {
            out.add("-Xmx" + DEFAULT_HEAP);
        }
        return out;
    }

    /**
     * Log4j's configuration named outright, unless the user named one: otherwise Log4j looks for a
     * dozen file names (log4j2-test.xml, log4j2.yaml, ...) in each of the ~100 jars on the class
     * path before it finds the jar's own {@code log4j2.properties}, 50-60 ms of every start (with
     * the class-data archive, of 240). Its JMX beans are off too: nothing reads them in a sync's JVM.
     */
    static List<String> loggingDefaults(List<String> jvmFlags, java.util.Map<String, String> env) {
        List<String> out = new ArrayList<>();
        if (jvmFlags.stream().noneMatch(f -> f.startsWith("-Dlog4j.configurationFile=") || f.startsWith("-Dlog4j2.configurationFile="))
                && !env.containsKey("LOG4J_CONFIGURATION_FILE")) {
            out.add("-Dlog4j2.configurationFile=classpath:log4j2.properties");
        }
        if (jvmFlags.stream().noneMatch(f -> f.startsWith("-Dlog4j2.disable.jmx=") || f.startsWith("-Dlog4j2.disableJmx="))
                && !env.containsKey("LOG4J_DISABLE_JMX")) {
            out.add("-Dlog4j2.disableJmx=true");
        }
        return out;
    }

    /**
     * The jar and every jar in {@code lib}, in name order: spelled out, not {@code lib/*}, so the
     * class-data archive sees the same path at dump and at use whatever order the folder lists in.
     */
    private static List<Path> classPath(Path jar, Path lib) throws java.io.IOException {
        List<Path> parts = new ArrayList<>(List.of(jar));
        try (java.util.stream.Stream<Path> jars = Files.list(lib)) {
            jars.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().forEach(parts::add);
        }
        return parts;
    }

    private static boolean isOnClassPath(String className) {
        try {
            Class.forName(className, false, Launcher.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
