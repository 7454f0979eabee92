package io.backflow.job.serve;

import io.backflow.job.config.ConfigException;
import io.backflow.job.config.ConfigLoader;
import io.backflow.job.config.ConnectionConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The connection files of a directory ({@code *.yaml}, {@code *.yml}), loaded again when one
 * changes (size or modification time), appears or goes. A file that does not load is kept as
 * its one-line error, so {@code serve} can show it and run nothing from it until it is fixed.
 */
final class ConnectionDirectory {
    /** A loaded file: its connection, or why it did not load. */
    record Loaded(Path file, ConnectionConfig config, String error) {}

    /** What changed since the last scan. */
    record Changes(List<Loaded> loaded, List<Path> removed) {
        boolean isEmpty() {
            return loaded.isEmpty() && removed.isEmpty();
        }
    }

    private final Path dir;
    private final ConfigLoader loader;
    private final Map<Path, String> stamps = new HashMap<>();

    ConnectionDirectory(Path dir, ConfigLoader loader) {
        this.dir = dir;
        this.loader = loader;
    }

    /** Loads new and changed files, and lists the ones that are gone. */
    Changes scan() throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> p.getFileName().toString().matches(".*\\.ya?ml") && Files.isRegularFile(p)).sorted().toList();
        }
        List<Loaded> loaded = new ArrayList<>();
        for (Path f : files) {
            String stamp = Files.size(f) + "@" + Files.getLastModifiedTime(f).toMillis();
            if (stamp.equals(stamps.put(f, stamp))) {
                continue;
            }
            try {
                loaded.add(new Loaded(f, loader.load(f), null));
            } catch (ConfigException e) {
                loaded.add(new Loaded(f, null, e.getMessage()));
            } catch (RuntimeException e) {
                loaded.add(new Loaded(f, null, f + ": " + e.getMessage()));
            }
        }
        List<Path> removed = new ArrayList<>();
        for (Path known : List.copyOf(stamps.keySet())) {
            if (!files.contains(known)) {
                stamps.remove(known);
                removed.add(known);
            }
        }
        return new Changes(loaded, removed);
    }
}
