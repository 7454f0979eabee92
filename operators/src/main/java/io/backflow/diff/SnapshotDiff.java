package io.backflow.diff;

import static io.backflow.model.DeltaColumns.ATTEMPTS;
import static io.backflow.model.DeltaColumns.ERROR;
import static io.backflow.model.DeltaColumns.HASH;
import static io.backflow.model.DeltaColumns.OP;
import static io.backflow.model.DeltaColumns.OP_DELETE;
import static io.backflow.model.DeltaColumns.OP_DUPLICATE;
import static io.backflow.model.DeltaColumns.OP_INSERT;
import static io.backflow.model.DeltaColumns.OP_UPDATE;
import static io.backflow.model.DeltaColumns.ROWS;
import static io.backflow.model.DeltaColumns.STATUS;

import io.backflow.jdbc.ColumnNames;
import io.backflow.jdbc.JdbcEndpoint;
import io.backflow.jdbc.SqlDialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.commons.codec.digest.DigestUtils;

/**
 * Computes a diff sync's delta inside the database: the model's rows, each with a hash of its
 * mapped columns, compared by primary key with the connection's snapshot of what was last
 * delivered. The result is materialized as a delta table holding, per changed key, the operation
 * (insert, update, delete in mirror mode, or duplicate for a key several rows share), the mapped
 * columns as they were at planning time, and room for the row's outcome.
 *
 * <p>Nothing of the table passes through the JVM: a sync where nothing changed costs a hash join
 * in the database (and, unless the table declares its key unique, an aggregate that finds
 * duplicate keys) and an empty delta. Reading the delta instead of the live model gives a
 * stopped sync a fixed set of rows to resume, and makes the hash stored on delivery the hash of
 * exactly what was sent.
 */
public final class SnapshotDiff {
    private final SqlDialect dialect;
    private final String schema;
    private final String connectionName;
    private final String table;
    private final String query;
    private final String modelRelation;
    private final List<String> primaryKey;
    private final List<String> mappedColumns;
    private final SyncMode mode;
    private final boolean sendAll;
    private final JdbcEndpoint source;
    private final boolean sourceElsewhere;

    /**
     * @param dialect the database's dialect; it must have a {@link SqlDialect#rowHash}
     * @param schema the ledger's schema, where the snapshot and delta tables live
     * @param table the model's table, or null
     * @param query the model's query when {@code table} is null
     * @param primaryKey the key columns, as configured
     * @param mappedColumns the columns the mapping reads, as configured (the key is added)
     * @param sendAll true for a FULL run: every row is in the delta, changed or not
     * @param source the model's database, to read it in a read-only transaction where a query can
     *     write ({@link SqlDialect#queriesCanWrite}): the delta is built in a read-write transaction,
     *     and a model calling a data-modifying function must not run there. Null to read the model
     *     in the ledger's transaction (only where queries cannot write).
     */
    public SnapshotDiff(SqlDialect dialect, String schema, String connectionName, String table, String query, List<String> primaryKey,
            Collection<String> mappedColumns, SyncMode mode, boolean sendAll, JdbcEndpoint source) {
        this(dialect, schema, connectionName, table, query, primaryKey, mappedColumns, mode, sendAll, source, false);
    }

    /**
     * @param sourceElsewhere true when the model lives in another database than the ledger
     *     ({@code source}, read with its own dialect): each run then first copies the model's key
     *     and mapped columns into a temporary table next to the ledger ({@link ModelCopy}), and
     *     diffs that copy
     */
    public SnapshotDiff(SqlDialect dialect, String schema, String connectionName, String table, String query, List<String> primaryKey,
            Collection<String> mappedColumns, SyncMode mode, boolean sendAll, JdbcEndpoint source, boolean sourceElsewhere) {
        this.sourceElsewhere = sourceElsewhere;
        if (sourceElsewhere && source == null) {
            throw new IllegalArgumentException("a model in another database needs its endpoint");
        }
        this.dialect = Objects.requireNonNull(dialect);
        if (dialect.rowHash(List.of("x")) == null) {
            throw new IllegalArgumentException("change_detection: diff is not available on " + dialect.name());
        }
        this.schema = Objects.requireNonNull(schema);
        this.connectionName = Objects.requireNonNull(connectionName);
        if ((table == null) == (query == null)) {
            throw new IllegalArgumentException("set exactly one of table and query");
        }
        this.table = table;
        this.query = query;
        this.modelRelation = sourceElsewhere ? null : dialect.modelRelation(table, query);
        this.primaryKey = List.copyOf(primaryKey);
        LinkedHashSet<String> columns = new LinkedHashSet<>(primaryKey);
        columns.addAll(mappedColumns);
        this.mappedColumns = List.copyOf(columns);
        this.mode = Objects.requireNonNull(mode);
        this.sendAll = sendAll;
        this.source = source;
    }

    /** A key that earlier syncs failed to deliver, and how many times they tried. */
    public record Retry(String keyPosition, int attempts) {}

    /** The delta of one run, and how many rows it holds per operation. */
    public record Result(DeltaTable delta, Map<String, Long> rowsByOperation) {
        public long rows(String operation) {
            return rowsByOperation.getOrDefault(operation, 0L);
        }

        /** "3 inserts, 1 update, 0 deletes": what the sync is about to send. */
        public String describe() {
            long nullKeys = rowsByOperation.getOrDefault("null key", 0L);
            return rows(OP_INSERT) + " insert(s), " + rows(OP_UPDATE) + " update(s), " + rows(OP_DELETE) + " delete(s)"
                    + (rows(OP_DUPLICATE) > 0 ? ", " + rows(OP_DUPLICATE) + " duplicate key(s)" : "")
                    + (nullKeys > 0 ? ", " + nullKeys + " row(s) with a null key" : "");
        }
    }

    /** The snapshot table of a connection with this primary key: another key starts another snapshot. */
    public static String snapshotTableName(String connectionName, List<String> primaryKey) {
        String slug = connectionName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        if (slug.length() > 30) {
            slug = slug.substring(0, 30);
        }
        return "snapshot_" + slug + "_" + shortHash(connectionName + "\u0000" + String.join("\u0000", primaryKey));
    }

    /** The delta table of a run. */
    public static String deltaTableName(String runId) {
        return "delta_" + runId.replace("-", "");
    }

    /**
     * Creates the run's delta table (and the connection's snapshot table on its first diff) in the
     * caller's transaction, and returns it with its row counts.
     *
     * @param retries keys earlier syncs failed to deliver: their delta rows carry the attempt number
     */
    public Result materialize(Connection c, String runId, List<Retry> retries) throws SQLException {
        dialect.prepareBulkWork(c);
        Model model = model(c, runId);
        try {
            return materialize(c, runId, retries, model);
        } finally {
            if (model.staged() != null) {
                try (Statement st = c.createStatement()) {
                    st.execute("DROP TABLE IF EXISTS " + model.staged());
                }
            }
        }
    }

    private Result materialize(Connection c, String runId, List<Retry> retries, Model model) throws SQLException {
        List<String> keys = resolve(primaryKey, model.columns());
        List<String> columns = List.copyOf(new LinkedHashSet<>(resolve(mappedColumns, model.columns())));
        DeltaTable delta = new DeltaTable(schema, deltaTableName(runId), snapshotTableName(connectionName, primaryKey), keys);
        String snapshot = delta.qualifiedSnapshot(dialect);
        String deltaTable = delta.qualifiedTable(dialect);
        List<String> k = quote(keys);
        List<String> cols = quote(columns);
        try (Statement st = c.createStatement()) {
            String createSnapshot = " " + snapshot + " AS SELECT " + String.join(", ", k)
                    + ", CAST(NULL AS VARCHAR(32)) AS " + q(HASH) + " FROM " + model.from("bf_m") + " WHERE 1 = 0";
            st.execute("CREATE TABLE IF NOT EXISTS" + createSnapshot);
            List<String> before = keyTypes(c, snapshot, k);
            List<String> after = keyTypes(c, model.from("bf_m"), k);
            if (!before.equals(after)) {
                // The key's type changed (the fingerprint made this run FULL): the old snapshot
                // cannot be joined with the model any more, and every row is sent again. Keys an
                // integer column widened to keep their values: they stay, without a hash, so keys the
                // model lost since are still deleted in mirror mode. Other keys are forgotten.
                boolean widened = widened(before, after);
                String previous = dialect.quoteIdentifier(schema) + "." + dialect.quoteIdentifier(delta.snapshot() + "_prev");
                if (widened) {
                    st.execute("DROP TABLE IF EXISTS " + previous);
                    st.execute("CREATE TABLE " + previous + " AS SELECT " + String.join(", ", k) + " FROM " + snapshot);
                }
                st.execute("DROP TABLE " + snapshot);
                st.execute("CREATE TABLE" + createSnapshot);
                if (widened) {
                    st.execute("INSERT INTO " + snapshot + " (" + String.join(", ", k) + ", " + q(HASH) + ") SELECT " + String.join(", ", k)
                            + ", NULL FROM " + previous);
                    st.execute("DROP TABLE " + previous);
                }
            }
            st.execute("DROP TABLE IF EXISTS " + deltaTable);
            st.execute("CREATE TABLE " + deltaTable + " AS " + deltaQuery(model, k, cols, snapshot, sourceElsewhere || !keyIsDeclaredUnique(c, keys)));
            st.execute("CREATE INDEX " + dialect.quoteIdentifier(delta.table() + "_key") + " ON " + deltaTable + " (" + String.join(", ", k) + ")");
        }
        KeyMatch match = KeyMatch.on(c, dialect, deltaTable, keys);
        checkKeysRoundTrip(c, deltaTable, keys, k, match);
        if (!retries.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + deltaTable + " SET " + q(ATTEMPTS) + " = ? WHERE " + match.condition())) {
                int batched = 0;
                for (Retry r : retries) {
                    ps.setInt(1, r.attempts() + 1);
                    if (match.bind(ps, 2, r.keyPosition())) {
                        ps.addBatch();
                        batched++;
                    }
                }
                if (batched > 0) {
                    ps.executeBatch();
                }
            }
        }
        Map<String, Long> counts = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT CASE WHEN " + anyNull(k, "") + " THEN 'null key' ELSE " + q(OP)
                + " END, COUNT(*) FROM " + deltaTable + " GROUP BY 1");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                counts.put(rs.getString(1), rs.getLong(2));
            }
        }
        return new Result(delta, counts);
    }

    /**
     * The SELECT whose rows the next run's delta would hold, in key order, without creating or
     * changing anything (for {@code preview}, which runs it in a read-only transaction): against the
     * connection's snapshot when it has one, else as a first diff, where every row is an insert.
     */
    public String previewQuery(Connection c) throws SQLException {
        Model staged = sourceElsewhere ? model(c, "preview" + Long.toHexString(System.nanoTime())) : null;
        String[] actual = staged != null ? staged.columns() : actualColumns(c);
        List<String> keys = resolve(primaryKey, actual);
        List<String> k = quote(keys);
        List<String> cols = quote(List.copyOf(new LinkedHashSet<>(resolve(mappedColumns, actual))));
        String snapshotName = snapshotTableName(connectionName, primaryKey);
        boolean exists;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?")) {
            ps.setString(1, schema);
            ps.setString(2, snapshotName);
            try (ResultSet rs = ps.executeQuery()) {
                exists = rs.next();
            }
        }
        String snapshot = exists
                ? dialect.quoteIdentifier(schema) + "." + dialect.quoteIdentifier(snapshotName)
                : "(SELECT " + String.join(", ", k) + ", CAST(NULL AS VARCHAR(32)) AS " + q(HASH) + " FROM "
                        + (staged != null ? staged.from("bf_e") : modelRelation) + " WHERE 1 = 0)";
        Model model = staged != null ? staged : new Model(null, actual, null, dialect, table, query);
        return "SELECT * FROM (" + deltaQuery(model, k, cols, snapshot, true) + ") AS backflow_delta ORDER BY " + String.join(", ", k);
    }

    /**
     * One row per changed key (every key on a FULL run). A key several rows share becomes one
     * duplicate row, found by a hash aggregate rather than a window over the whole model; rows
     * with a null key are all kept, to be counted invalid. In mirror mode, snapshot keys the model
     * no longer has follow as deletes.
     */
    private String deltaQuery(Model model, List<String> k, List<String> cols, String snapshot, boolean findDuplicates) {
        String hash = model.hashColumn() != null ? "bf_m." + model.hashColumn() : dialect.rowHash(prefixed("bf_m.", cols));
        String nullKey = anyNull(k, "bf_m.");
        StringBuilder sql = new StringBuilder();
        if (findDuplicates) {
            sql.append("WITH backflow_dups AS (SELECT ").append(String.join(", ", k)).append(", COUNT(*) AS backflow_n FROM ").append(model.from("bf_dm"))
                    .append(" WHERE ").append(String.join(" AND ", suffixed(k, " IS NOT NULL")))
                    .append(" GROUP BY ").append(String.join(", ", k)).append(" HAVING COUNT(*) > 1) ");
        }
        sql.append("SELECT ").append(String.join(", ", prefixed("bf_m.", cols)));
        sql.append(", CASE WHEN ").append(nullKey).append(" OR bf_s.").append(k.get(0)).append(" IS NULL OR bf_s.").append(q(HASH)).append(" = '")
                .append(SnapshotUpdate.REFUSED_INSERT).append("' THEN '").append(OP_INSERT)
                .append("' ELSE '").append(OP_UPDATE).append("' END AS ").append(q(OP));
        sql.append(", CAST(1 AS BIGINT) AS ").append(q(ROWS)).append(", ").append(hash).append(" AS ").append(q(HASH)).append(", ");
        sql.append(outcomeColumns());
        sql.append(" FROM ").append(model.from("bf_m"));
        sql.append(" LEFT JOIN ").append(snapshot).append(" bf_s ON ").append(join(k, "bf_s.", "bf_m."));
        sql.append(" WHERE ").append(findDuplicates ? "NOT EXISTS (SELECT 1 FROM backflow_dups bf_d WHERE " + join(k, "bf_d.", "bf_m.") + ")" : "1 = 1");
        if (!sendAll) {
            sql.append(" AND (").append(nullKey).append(" OR bf_s.").append(k.get(0)).append(" IS NULL OR bf_s.").append(q(HASH))
                    .append(" IS NULL OR bf_s.").append(q(HASH)).append(" <> ").append(hash).append(")");
        }
        if (findDuplicates) {
            sql.append(" UNION ALL SELECT ");
            for (String c : cols) {
                sql.append(k.contains(c) ? "bf_d." + c : "NULL").append(", ");
            }
            sql.append("'").append(OP_DUPLICATE).append("', bf_d.backflow_n, NULL, ").append(outcomeColumns()).append(" FROM backflow_dups bf_d");
        }
        if (mode == SyncMode.MIRROR) {
            sql.append(" UNION ALL SELECT ");
            for (String c : cols) {
                sql.append(k.contains(c) ? "bf_s." + c : "NULL").append(", ");
            }
            sql.append("'").append(OP_DELETE).append("', 1, NULL, ").append(outcomeColumns())
                    .append(" FROM ").append(snapshot).append(" bf_s WHERE NOT EXISTS (SELECT 1 FROM ").append(model.from("bf_mm"))
                    .append(" WHERE ").append(join(k, "bf_mm.", "bf_s.")).append(")");
        }
        return sql.toString();
    }

    /**
     * True when the model is a table whose primary key or a unique index covers the key columns:
     * then no two rows share a key, and the diff skips looking for duplicates (an aggregate over
     * the whole table). Any doubt (a query model, metadata the driver does not give) means false.
     */
    private boolean keyIsDeclaredUnique(Connection c, List<String> keys) {
        if (table == null) {
            return false;
        }
        String[] parts = table.split("\\.");
        String name = parts[parts.length - 1];
        String schemaName = parts.length > 1 ? parts[parts.length - 2] : currentSchema(c);
        if (schemaName == null) {
            return false;
        }
        // Names compare exactly: a table may have both "ID" and id, and the keys are spelled as quoted.
        java.util.Set<String> key = new java.util.HashSet<>(keys);
        try {
            java.sql.DatabaseMetaData md = c.getMetaData();
            // The table the diff reads is named exactly (quoted); only a catalog that does not
            // keep the spelling (DuckDB's) is asked for the lower-case one. Asking PostgreSQL for
            // orders when the model is "Orders" would take another table's key for this one's.
            List<String[]> names = new ArrayList<>();
            names.add(new String[] {schemaName, name});
            names.add(new String[] {schemaName.toLowerCase(Locale.ROOT), name.toLowerCase(Locale.ROOT)});
            for (String[] n : names) {
                String schemaCandidate = n[0];
                String candidate = n[1];
                if (!tableExists(md, schemaCandidate, candidate)) {
                    continue;
                }
                Map<String, java.util.Set<String>> unique = new LinkedHashMap<>();
                try (ResultSet rs = md.getPrimaryKeys(null, schemaCandidate, candidate)) {
                    while (rs.next()) {
                        unique.computeIfAbsent("primary key", x -> new java.util.HashSet<>()).add(rs.getString("COLUMN_NAME"));
                    }
                }
                Map<String, String> indexSchemas = new LinkedHashMap<>();
                try (ResultSet rs = md.getIndexInfo(null, schemaCandidate, candidate, true, true)) {
                    while (rs.next()) {
                        String index = rs.getString("INDEX_NAME");
                        String column = rs.getString("COLUMN_NAME");
                        // A partial unique index says nothing about the rows outside its condition.
                        if (index != null && column != null && !rs.getBoolean("NON_UNIQUE") && rs.getString("FILTER_CONDITION") == null) {
                            unique.computeIfAbsent(index, x -> new java.util.HashSet<>()).add(column);
                            indexSchemas.put(index, rs.getString("TABLE_SCHEM"));
                        }
                    }
                } catch (SQLException e) {
                    // Some drivers do not list indexes; the primary key is enough.
                }
                for (Map.Entry<String, java.util.Set<String>> e : unique.entrySet()) {
                    String index = e.getKey();
                    if (!e.getValue().isEmpty() && key.containsAll(e.getValue())
                            && (!indexSchemas.containsKey(index) || dialect.indexEnforced(c, indexSchemas.get(index), index))) {
                        return true;
                    }
                }
                return false;
            }
        } catch (SQLException | RuntimeException e) {
            return false;
        }
        return false;
    }

    /** Whether {@code schema.table} exists with exactly these names (the metadata takes patterns, where _ matches any character). */
    private static boolean tableExists(java.sql.DatabaseMetaData md, String schema, String table) throws SQLException {
        try (ResultSet rs = md.getTables(null, schema, table, null)) {
            while (rs.next()) {
                if (table.equals(rs.getString("TABLE_NAME")) && schema.equals(rs.getString("TABLE_SCHEM"))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The ledger finds a delta row again by the key values the job read: refuses keys that cannot
     * be matched by value (floating point), and tries one row of the delta the way a failure would.
     */
    private void checkKeysRoundTrip(Connection c, String table, List<String> keys, List<String> k, KeyMatch match) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + String.join(", ", k) + " FROM " + table + " WHERE "
                + String.join(" AND ", suffixed(k, " IS NOT NULL")))) {
            ps.setMaxRows(1);
            try (ResultSet rs = ps.executeQuery()) {
                int[] types = io.backflow.jdbc.JdbcValues.columnTypes(rs.getMetaData());
                for (int i = 0; i < types.length; i++) {
                    if (types[i] == java.sql.Types.REAL || types[i] == java.sql.Types.FLOAT || types[i] == java.sql.Types.DOUBLE) {
                        throw new IllegalArgumentException("primary key column '" + keys.get(i) + "' is floating point ("
                                + rs.getMetaData().getColumnTypeName(i + 1) + "), which cannot identify a row exactly; change_detection: diff"
                                + " needs a key of integer, decimal, text, date, timestamp or uuid columns");
                    }
                }
                if (!rs.next()) {
                    return;
                }
                Object[] values = new Object[k.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = io.backflow.jdbc.JdbcValues.read(rs, i + 1, types[i]);
                }
                try (PreparedStatement find = c.prepareStatement("SELECT COUNT(*) FROM " + table + " WHERE " + match.condition())) {
                    boolean bound = match.bind(find, 1, io.backflow.jdbc.PositionCodec.encode(values));
                    try (ResultSet found = bound ? find.executeQuery() : null) {
                        if (found == null || !found.next() || found.getLong(1) == 0) {
                            throw new IllegalArgumentException("primary key " + keys + " (" + typeNames(rs.getMetaData()) + ") does not find its own"
                                    + " row again by value, so a failed row could not be recorded; change_detection: diff needs a key of integer,"
                                    + " decimal, text, date, timestamp or uuid columns");
                        }
                    }
                }
            }
        }
    }

    /** Integer types by width, in the names PostgreSQL and DuckDB give them. */
    private static final List<List<String>> INTEGER_WIDTHS = List.of(List.of("tinyint", "int1"), List.of("smallint", "int2"),
            List.of("integer", "int4", "int"), List.of("bigint", "int8"));

    /** True when each key column kept its type or became an integer type at least as wide as it was. */
    static boolean widened(List<String> before, List<String> after) {
        for (int i = 0; i < before.size(); i++) {
            if (before.get(i).equals(after.get(i))) {
                continue;
            }
            int from = integerWidth(before.get(i));
            int to = integerWidth(after.get(i));
            if (from < 0 || to < from) {
                return false;
            }
        }
        return true;
    }

    private static int integerWidth(String type) {
        for (int i = 0; i < INTEGER_WIDTHS.size(); i++) {
            if (INTEGER_WIDTHS.get(i).contains(type)) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> keyTypes(Connection c, String relation, List<String> k) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + String.join(", ", k) + " FROM " + relation + " WHERE 1 = 0");
                ResultSet rs = ps.executeQuery()) {
            List<String> out = new ArrayList<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                out.add(rs.getMetaData().getColumnTypeName(i).toLowerCase(Locale.ROOT));
            }
            return out;
        }
    }

    private static String typeNames(ResultSetMetaData md) throws SQLException {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
            out.add(md.getColumnTypeName(i));
        }
        return String.join(", ", out);
    }

    /** The schema an unqualified table name resolves to, or null when the database will not say. */
    private static String currentSchema(Connection c) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_schema()")) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            return null;
        }
    }


    private static List<String> prefixed(String prefix, List<String> names) {
        List<String> out = new ArrayList<>();
        names.forEach(n -> out.add(prefix + n));
        return out;
    }

    private static List<String> suffixed(List<String> names, String suffix) {
        List<String> out = new ArrayList<>();
        names.forEach(n -> out.add(n + suffix));
        return out;
    }

    private String outcomeColumns() {
        return "CAST(NULL AS VARCHAR(16)) AS " + q(STATUS) + ", CAST(NULL AS VARCHAR) AS " + q(ERROR)
                + ", CAST(1 AS INTEGER) AS " + q(ATTEMPTS);
    }

    /**
     * What the delta is computed from: the model itself ({@code hashColumn} null), or a temporary
     * copy of its key and mapped columns with their row hash, taken through a read-only connection.
     */
    private record Model(String staged, String[] columns, String hashColumn, SqlDialect dialect, String table, String query) {
        /** The model as a FROM item named {@code alias}. */
        String from(String alias) {
            return staged != null ? staged + " " + alias : dialect.modelRelation(table, query, alias);
        }
    }

    /** The staged copy's row-hash column. */
    private static final String STAGED_HASH = "backflow_row_hash";

    private Model model(Connection c, String runId) throws SQLException {
        if (sourceElsewhere) {
            return copiedFromSource(c, runId);
        }
        if (source == null || !dialect.queriesCanWrite()) {
            return new Model(null, actualColumns(c), null, dialect, table, query);
        }
        try (Connection readOnly = source.open()) {
            dialect.beginStreamingRead(readOnly);
            try {
                // The same session settings as the hash would get in the ledger's transaction (UTC).
                dialect.prepareBulkWork(readOnly);
                String[] actual = actualColumns(readOnly);
                List<String> names = List.copyOf(new LinkedHashSet<>(resolve(mappedColumns, actual)));
                List<String> cols = prefixed("bf_m.", quote(names));
                String select = "SELECT " + String.join(", ", cols) + ", " + dialect.rowHash(cols) + " AS " + q(STAGED_HASH)
                        + " FROM " + dialect.modelRelation(table, query, "bf_m");
                String staged = dialect.quoteIdentifier("backflow_model_" + deltaTableName(runId));
                dialect.copyIntoTemporaryTable(readOnly, select, c, staged);
                return new Model(staged, names.toArray(new String[0]), q(STAGED_HASH), dialect, table, query);
            } finally {
                readOnly.rollback();
            }
        }
    }

    /** The model's key and mapped columns, copied from its own database into a temporary table here. */
    private Model copiedFromSource(Connection c, String runId) throws SQLException {
        SqlDialect sourceDialect = source.dialect();
        String relation = sourceDialect.modelRelation(table, query, "bf_m");
        try (Connection readOnly = source.open()) {
            sourceDialect.beginStreamingRead(readOnly);
            try {
                String[] actual;
                try (PreparedStatement ps = readOnly.prepareStatement("SELECT * FROM " + relation + " WHERE 1 = 0");
                        ResultSet rs = ps.executeQuery()) {
                    actual = new String[rs.getMetaData().getColumnCount()];
                    for (int i = 0; i < actual.length; i++) {
                        actual[i] = rs.getMetaData().getColumnLabel(i + 1);
                    }
                }
                List<String> names = List.copyOf(new LinkedHashSet<>(resolve(mappedColumns, actual)));
                List<String> cols = new ArrayList<>();
                names.forEach(n -> cols.add("bf_m." + sourceDialect.quoteIdentifier(n)));
                String staged = dialect.quoteIdentifier("backflow_model_" + deltaTableName(runId));
                ModelCopy.copy(readOnly, "SELECT " + String.join(", ", cols) + " FROM " + relation, COPY_FETCH_SIZE, c, dialect, staged);
                return new Model(staged, names.toArray(new String[0]), null, dialect, table, query);
            } finally {
                readOnly.rollback();
            }
        }
    }

    /** Rows fetched per round trip while copying a model from another database. */
    private static final int COPY_FETCH_SIZE = 5_000;

    private String[] actualColumns(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM " + modelRelation + " WHERE 1 = 0");
                ResultSet rs = ps.executeQuery()) {
            ResultSetMetaData md = rs.getMetaData();
            String[] out = new String[md.getColumnCount()];
            for (int i = 0; i < out.length; i++) {
                out[i] = md.getColumnLabel(i + 1);
            }
            return out;
        }
    }

    /** The model's own spelling of each configured column, by the rule of {@link ColumnNames#find}. */
    private static List<String> resolve(List<String> configured, String[] actual) {
        List<String> out = new ArrayList<>();
        for (String name : configured) {
            int found = ColumnNames.find(name, actual);
            if (found < 0) {
                throw new IllegalArgumentException("the model has no column '" + name + "'; it has " + java.util.Arrays.toString(actual));
            }
            out.add(actual[found]);
        }
        return out;
    }

    private List<String> quote(List<String> names) {
        List<String> out = new ArrayList<>();
        names.forEach(n -> out.add(dialect.quoteIdentifier(n)));
        return out;
    }

    private String q(String name) {
        return dialect.quoteIdentifier(name);
    }

    private static String anyNull(List<String> k, String prefix) {
        List<String> parts = new ArrayList<>();
        k.forEach(c -> parts.add(prefix + c + " IS NULL"));
        return "(" + String.join(" OR ", parts) + ")";
    }

    private static String join(List<String> k, String left, String right) {
        List<String> parts = new ArrayList<>();
        k.forEach(c -> parts.add(left + c + " = " + right + c));
        return String.join(" AND ", parts);
    }

    /** The first 4 bytes of the SHA-256 of {@code s}, in hex: part of a snapshot table's name, so never changed. */
    private static String shortHash(String s) {
        return DigestUtils.sha256Hex(s).substring(0, 8);
    }
}
