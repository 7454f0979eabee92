package io.backflow.sink;

import io.backflow.model.RowError;
import java.io.IOException;
import java.util.List;

/**
 * Durable room for the row errors of a committable that is not ready yet: a writer moves them
 * here in chunks instead of holding them (and checkpointing them) until the next checkpoint, so a
 * run whose every row is invalid or refused needs no more memory than one that delivers them. The
 * committable names the stage; its commit moves the staged rows into the ledger and deletes them.
 * Staged rows of a checkpoint that never completed are never moved: the rows are read again after
 * the restore and staged anew, under another stage.
 */
public interface RowErrorStage extends AutoCloseable {
    /** Writes {@code errors} as rows {@code firstSeq, firstSeq + 1, ...} of {@code stage}, durably, before returning. */
    void write(String runId, String stage, long firstSeq, List<RowError> errors) throws IOException;

    @Override
    void close();
}
