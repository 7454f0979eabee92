package io.backflow.mapping;

import java.io.Serializable;

/**
 * Where the mapping finds which rows at the run's start mark were resolved by the run that
 * committed that mark: the ledger implements it. An INCREMENTAL run reads the rows whose cursor
 * equals the mark again, because rows can arrive later with exactly that value; of those, only
 * the ones whose key and content the last run already resolved are skipped.
 *
 * <p>Called once per mapping subtask that meets a row at the mark, off the task thread.
 */
@FunctionalInterface
public interface AlreadyDelivered extends Serializable {
    /** The rows resolved at the start mark, by key and version. */
    RowVersions load() throws Exception;
}
