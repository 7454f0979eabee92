package io.backflow.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A sync's JVM gets the documented collector and heap, and any choice of the user's wins over them. */
class LauncherTest {
    @Test
    void theSerialCollectorAndADefaultHeapUnlessTheUserChose() {
        assertEquals(List.of("-XX:+UseSerialGC", "-Xmx1g"), Launcher.memoryDefaults(List.of()));
        assertEquals(List.of("-Xmx1g"), Launcher.memoryDefaults(List.of("-XX:+UseG1GC")));
        assertEquals(List.of("-XX:+UseSerialGC"), Launcher.memoryDefaults(List.of("-Xmx4g")));
        assertEquals(List.of("-XX:+UseSerialGC"), Launcher.memoryDefaults(List.of("-XX:MaxRAMPercentage=50")));
        assertEquals(List.of(), Launcher.memoryDefaults(List.of("-XX:+UseParallelGC", "-XX:MaxHeapSize=2g")));
        // -Xms2g with the default -Xmx1g would not start.
        assertEquals(List.of("-XX:+UseSerialGC"), Launcher.memoryDefaults(List.of("-Xms2g")));
    }

    @Test
    void theJarsOwnLoggingConfigurationUnlessTheUserNamedOne() {
        assertEquals(List.of("-Dlog4j2.configurationFile=classpath:log4j2.properties", "-Dlog4j2.disableJmx=true"),
                Launcher.loggingDefaults(List.of(), java.util.Map.of()));
        assertEquals(List.of("-Dlog4j2.disableJmx=true"), Launcher.loggingDefaults(List.of("-Dlog4j.configurationFile=/etc/log4j2.xml"), java.util.Map.of()));
        assertEquals(List.of("-Dlog4j2.disableJmx=true"),
                Launcher.loggingDefaults(List.of(), java.util.Map.of("LOG4J_CONFIGURATION_FILE", "/etc/log4j2.xml")));
        assertEquals(List.of("-Dlog4j2.configurationFile=classpath:log4j2.properties"), Launcher.loggingDefaults(List.of("-Dlog4j2.disable.jmx=false"),
                java.util.Map.of()));
    }
}
