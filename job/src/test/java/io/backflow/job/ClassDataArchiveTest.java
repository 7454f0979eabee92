package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher maps no class-data archive into a JVM that records a flight or runs an agent: on
 * OpenJDK 17 that combination crashed the sync's JVM at start (SIGSEGV, exit 134), seen with
 * {@code java -XX:StartFlightRecording -jar backflow.jar demo}.
 */
class ClassDataArchiveTest {
    @TempDir Path dir;

    @Test
    void flightRecordingsAgentsAndCdsFlagsTurnTheArchiveOff() throws Exception {
        Path jar = Files.writeString(dir.resolve("backflow.jar"), "");
        List<Path> classPath = List.of(jar);
        assertNotNull(ClassDataArchive.forLaunch(jar, classPath, List.of("-Xmx1g", "-XX:TieredStopAtLevel=4")));
        for (String flag : List.of("-XX:StartFlightRecording=filename=/tmp/x.jfr", "-XX:+FlightRecorder", "-javaagent:/opt/agent.jar",
                "-agentlib:jdwp=transport=dt_socket", "-agentpath:/opt/libprof.so", "-Xshare:off", "-XX:SharedArchiveFile=/tmp/a.jsa",
                "-XX:ArchiveClassesAtExit=/tmp/a.jsa", "-XX:DumpLoadedClassList=/tmp/list")) {
            assertTrue(ClassDataArchive.turnsArchivesOff(flag), flag);
            assertNull(ClassDataArchive.forLaunch(jar, classPath, List.of("-Xmx1g", flag)), flag);
        }
        assertFalse(ClassDataArchive.turnsArchivesOff("-XX:+UseG1GC -Xss2m"));
    }

    @Test
    void aNewArchiveRemovesTheArchivesOfEarlierBuilds() throws Exception {
        Path current = Files.writeString(dir.resolve("backflow-2222.jsa"), "new");
        Files.writeString(dir.resolve("backflow-1111.jsa"), "old");
        Files.writeString(dir.resolve("backflow.jar"), "jar");
        // In a folder shared by installs (~/.cache/backflow) another archive stays for a week.
        ClassDataArchive.removeStale(current, ClassDataArchive.SHARED_FOLDER_KEEPS);
        assertTrue(Files.exists(dir.resolve("backflow-1111.jsa")));
        ClassDataArchive.removeStale(current, java.time.Duration.ZERO);
        try (var left = Files.list(dir)) {
            assertEquals(java.util.Set.of("backflow-2222.jsa", "backflow.jar"),
                    left.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
        }
    }
}
