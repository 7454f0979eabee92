package io.backflow.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.apache.commons.codec.digest.DigestUtils;

/**
 * The launcher's application class-data archive (AppCDS): the first sync lists the classes it
 * loaded, and once it has exited a background JVM dumps them into an archive next to the jar (or
 * under {@code ~/.cache/backflow} when that folder cannot be written); every later command maps
 * them instead of loading, verifying and linking Flink's classes again. Listing costs the first
 * run nothing noticeable, where recording a dynamic archive at exit added 9 s to it. The file is
 * named after the jar, the Flink jars and the JVM, so a rebuild or another Java makes a new one
 * instead of being refused. {@code BACKFLOW_CDS=off}, any CDS flag of the user's, or a flight
 * recording or agent (see {@link #turnsArchivesOff}) turns it off.
 */
public final class ClassDataArchive {
    /** The commands whose run is worth listing: they start Flink. */
    private static final List<String> LISTING_COMMANDS = List.of("sync", "demo");

    private final Path archive;
    private final Path classList;

    private ClassDataArchive(Path archive) {
        this.archive = archive;
        this.classList = archive.resolveSibling(archive.getFileName() + ".classlist-" + ProcessHandle.current().pid());
    }

    /** The archive for this jar and JVM, or null when archives are off or no folder can hold one. */
    static ClassDataArchive forLaunch(Path jar, List<Path> classPath, List<String> jvmFlags) {
        if ("off".equalsIgnoreCase(System.getenv("BACKFLOW_CDS")) || jvmFlags.stream().anyMatch(ClassDataArchive::turnsArchivesOff)
                || turnsArchivesOff(System.getenv().getOrDefault("JAVA_TOOL_OPTIONS", ""))) {
            return null;
        }
        String name = "backflow-" + key(classPath) + ".jsa";
        for (Path dir : new Path[] {jar.getParent(), Path.of(System.getProperty("user.home"), ".cache", "backflow")}) {
            if (dir == null) {
                continue;
            }
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate)) {
                return new ClassDataArchive(candidate);
            }
            try {
                Files.createDirectories(dir);
                if (Files.isWritable(dir)) {
                    return new ClassDataArchive(candidate);
                }
            } catch (IOException e) {
                // Try the next folder.
            }
        }
        return null;
    }

    /**
     * A CDS flag of the user's, or a flight recording or agent: OpenJDK 17 crashes (SIGSEGV in
     * {@code KlassFactory::check_shared_class_file_load_hook}) when a class-file-load hook, which
     * JFR and agents install, meets classes mapped from an application archive.
     */
    static boolean turnsArchivesOff(String flags) {
        for (String marker : List.of("-Xshare", "SharedArchiveFile", "ArchiveClassesAtExit", "ClassList", "FlightRecord", "-javaagent", "-agentlib",
                "-agentpath", "-Xrun")) {
            if (flags.contains(marker)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The JVM flags for a command: map the archive when it exists, else list the classes of a
     * command that starts Flink. Archive warnings are silenced: a refused archive only means the
     * classes are loaded the usual way.
     */
    List<String> flags(String command) {
        if (Files.isRegularFile(archive)) {
            return List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
        }
        if (LISTING_COMMANDS.contains(command)) {
            return List.of("-XX:DumpLoadedClassList=" + classList);
        }
        return List.of();
    }

    /**
     * After the child exited: the class list of a successful run is dumped into the archive by a
     * background JVM (this one exits now, the user's command is over); any other list is dropped.
     */
    void childExited(int exitCode, String java, String classPath) {
        try {
            if (exitCode != 0 || !Files.isRegularFile(classList) || Files.size(classList) == 0) {
                Files.deleteIfExists(classList);
                return;
            }
            Path self = Path.of(ClassDataArchive.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            new ProcessBuilder(java, "-cp", self.toString(), ClassDataArchive.class.getName(), java, classList.toString(), archive.toString(), classPath)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException | java.net.URISyntaxException e) {
            // Only a speed-up: the next run lists again.
        }
    }

    /**
     * The background dump: {@code java classList archive classPath}. Written to a temporary file
     * and moved into place, so a concurrent launch never maps a half-written archive.
     */
    public static void main(String[] args) throws Exception {
        Path classList = Path.of(args[1]);
        Path archive = Path.of(args[2]);
        Path partial = archive.resolveSibling(archive.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try {
            Process dump = new ProcessBuilder(args[0], "-Xshare:dump", "-XX:SharedClassListFile=" + classList,
                    "-XX:SharedArchiveFile=" + partial, "-cp", args[3])
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (dump.waitFor() == 0 && Files.isRegularFile(partial)) {
                Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                Path jar = Path.of(args[3].split(java.io.File.pathSeparator)[0]).toAbsolutePath();
                removeStale(archive, archive.getParent().equals(jar.getParent()) ? java.time.Duration.ZERO : SHARED_FOLDER_KEEPS);
            }
        } finally {
            Files.deleteIfExists(partial);
            Files.deleteIfExists(classList);
        }
    }

    /**
     * How long another archive in {@code ~/.cache/backflow} is kept: installs with other jars or
     * JVMs share that folder and would otherwise delete each other's archive at every launch.
     */
    static final java.time.Duration SHARED_FOLDER_KEEPS = java.time.Duration.ofDays(7);

    /**
     * Deletes the other archives next to {@code current} untouched for {@code olderThan}: a rebuilt
     * jar makes a new one (about 90 MB), and nothing maps the old ones any more.
     */
    static void removeStale(Path current, java.time.Duration olderThan) {
        java.time.Instant before = java.time.Instant.now().minus(olderThan);
        try (java.nio.file.DirectoryStream<Path> archives = Files.newDirectoryStream(current.getParent(), "backflow-*.jsa")) {
            for (Path other : archives) {
                if (!other.getFileName().equals(current.getFileName()) && !Files.getLastModifiedTime(other).toInstant().isAfter(before)) {
                    Files.deleteIfExists(other);
                }
            }
        } catch (IOException e) {
            // Only disk space: the next dump tries again.
        }
    }

    /** A short hash of what the archive depends on: every jar of the class path, and the JVM. */
    private static String key(List<Path> classPath) {
        StringBuilder what = new StringBuilder(System.getProperty("java.home")).append('|').append(System.getProperty("java.vm.version"));
        for (Path p : classPath) {
            what.append('|').append(p.getFileName());
            try {
                what.append(':').append(Files.size(p)).append(':').append(Files.getLastModifiedTime(p).toMillis());
            } catch (IOException e) {
                // Named only: the JVM then checks the jar itself and refuses a stale archive.
            }
        }
        return DigestUtils.sha256Hex(what.toString()).substring(0, 16);
    }
}
