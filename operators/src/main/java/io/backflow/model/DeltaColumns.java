package io.backflow.model;

/**
 * The columns Backflow adds to a diff sync's delta table next to the model's own columns, and the
 * operations a delta row can carry. The source reads them like any other column; the mapping
 * turns the operation into the event's action, and the ledger keeps each row's outcome in them,
 * which makes the delta table the run's row-level log.
 */
public final class DeltaColumns {
    /** What happened to the row since the last delivered snapshot: one of the {@code OP_*} values. */
    public static final String OP = "_backflow_op";
    /** How many model rows share this row's primary key (more than 1 makes it invalid). */
    public static final String ROWS = "_backflow_rows";
    /** Hash of the mapped columns as the diff saw them; what the snapshot keeps once delivered. */
    public static final String HASH = "_backflow_hash";
    /** The row's outcome: null while pending, then {@code succeeded}, {@code failed} or {@code invalid}. */
    public static final String STATUS = "_backflow_status";
    /** Why the row was not delivered. */
    public static final String ERROR = "_backflow_error";
    /** Which attempt this sync is for the row: 1, or more when earlier syncs failed to deliver it. */
    public static final String ATTEMPTS = "_backflow_attempts";

    public static final String OP_INSERT = "insert";
    public static final String OP_UPDATE = "update";
    public static final String OP_DELETE = "delete";
    /** The key appears in several model rows: none of them is sent. */
    public static final String OP_DUPLICATE = "duplicate";

    private DeltaColumns() {}
}
