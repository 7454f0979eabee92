package io.backflow.source.reader;

import io.backflow.jdbc.Position;
import io.backflow.source.SourceRow;
import java.sql.SQLException;
import java.util.function.Consumer;

/** Reads the rows of one split over its own connection, a bounded batch at a time. */
interface RowScan extends AutoCloseable {

    String splitId();

    /** The sync run the split is read for, or null for the job's run. */
    String runId();

    /** The position of the last row read, or the split's start position. */
    Position position();

    /**
     * Reads up to {@code maxRows} rows into {@code sink}.
     *
     * @return true when the split has no more rows
     */
    boolean read(int maxRows, Consumer<SourceRow> sink) throws SQLException;

    @Override
    void close();
}
