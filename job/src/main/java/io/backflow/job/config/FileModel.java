package io.backflow.job.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code source.files} shorthand: Parquet, CSV or JSON files (local paths, globs, or URLs
 * DuckDB reads, such as {@code s3://}) become a model query that DuckDB answers, so a lakehouse
 * table syncs like a table.
 */
final class FileModel {
    /** An in-memory DuckDB: each connection reads the files afresh and keeps nothing. */
    static final String IN_MEMORY_DUCKDB = "jdbc:duckdb:";

    private static final Map<String, String> READERS = Map.of("parquet", "read_parquet", "csv", "read_csv", "json", "read_json");
    private static final Map<String, String> EXTENSIONS = Map.of("parquet", "parquet", "csv", "csv", "tsv", "csv", "json", "json",
            "jsonl", "json", "ndjson", "json");

    private FileModel() {}

    /**
     * The query that reads {@code files} as one table.
     *
     * @param format parquet, csv or json; null to take it from the files' extension
     * @param dir where relative paths start: the connection file's directory
     * @throws IllegalArgumentException naming the path or format that cannot be read
     */
    static String query(List<String> files, String format, Path dir) {
        String f = format == null ? null : format.toLowerCase(Locale.ROOT);
        if (f != null && !READERS.containsKey(f)) {
            throw new IllegalArgumentException("'" + format + "' is not one of parquet, csv, json");
        }
        List<String> paths = new ArrayList<>();
        for (String file : files) {
            if (f == null) {
                String ext = extension(file);
                String detected = EXTENSIONS.get(ext);
                if (detected == null) {
                    throw new IllegalArgumentException("cannot tell the format of '" + file + "' from its extension; set source.format");
                }
                f = detected;
            } else if (format == null && !f.equals(EXTENSIONS.get(extension(file)))) {
                throw new IllegalArgumentException("'" + file + "' is not " + f + " like the files before it; one source reads one format");
            }
            boolean url = file.matches("[A-Za-z][A-Za-z0-9+.-]*://.*");
            String path = url ? file : dir.resolve(file).normalize().toString();
            paths.add("'" + path.replace("'", "''") + "'");
        }
        // A CSV line with fewer fields than the header gets NULLs for the rest instead of making
        // DuckDB's sniffer read the whole file as one column (and the sync fail naming none of it).
        String options = f.equals("csv") ? ", null_padding = true" : "";
        return "SELECT * FROM " + READERS.get(f) + "([" + String.join(", ", paths) + "]" + options + ")";
    }

    private static String extension(String file) {
        String name = file.substring(file.lastIndexOf('/') + 1);
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
