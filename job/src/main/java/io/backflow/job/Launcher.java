package io.backflow.job;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Starts Backflow with {@code java -jar backflow.jar}: backflow.jar does not bundle Flink (a
 * cluster provides it under {@code flink run}), so this puts the Flink jars from the {@code lib/}
 * folder next to the jar on a class loader and hands over to {@link Main}.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (isOnClassPath("org.apache.flink.streaming.api.environment.StreamExecutionEnvironment")) {
            Main.main(args);
            return;
        }
        Path jar = Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path lib = jar.resolveSibling("lib");
        List<URL> urls = new ArrayList<>();
        urls.add(jar.toUri().toURL());
        try (Stream<Path> jars = Files.list(lib)) {
            for (Path p : (Iterable<Path>) jars.filter(p -> p.toString().endsWith(".jar")).sorted()::iterator) {
                urls.add(p.toUri().toURL());
            }
        } catch (IOException e) {
            System.err.println("backflow: Flink's jars were not found in " + lib
                    + " (mvn package puts them there); to run on a Flink cluster use: flink run " + jar.getFileName() + " ...");
            System.exit(2);
        }
        // The platform loader as parent keeps every Backflow and Flink class in this one loader.
        URLClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        try {
            loader.loadClass(Main.class.getName()).getMethod("main", String[].class).invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
        }
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
