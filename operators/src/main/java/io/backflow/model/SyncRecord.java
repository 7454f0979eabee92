package io.backflow.model;

import io.backflow.jdbc.Position;
import java.io.Serializable;

/**
 * What the mapping operator hands the destination sink: a ready-to-send event, a row that could
 * not be mapped (invalid, with its reason), or the end of a source split. Every record carries
 * the split and position it came from so the sink can tell the ledger how far delivery got.
 * Positions travel as {@link Position}s and are encoded only for the few records whose position
 * is stored (the last per split at a checkpoint, a failed row's key).
 */
@org.apache.flink.api.common.typeinfo.TypeInfo(SyncRecordSerializer.Factory.class)
public final class SyncRecord implements Serializable {
    private static final long serialVersionUID = 2L;

    /** What a record is. */
    public enum Kind { EVENT, INVALID, SPLIT_END }

    private final Kind kind;
    private final String splitId;
    private final Position position;
    private final String key;
    private final String messageId;
    private final byte[] payload;
    private final String reason;
    private final Position keyPosition;
    private final MarkRow mark;
    private final String runId;

    private SyncRecord(Kind kind, String splitId, Position position, String key, String messageId, byte[] payload, String reason,
            Position keyPosition, MarkRow mark) {
        this(null, kind, splitId, position, key, messageId, payload, reason, keyPosition, mark);
    }

    private SyncRecord(String runId, Kind kind, String splitId, Position position, String key, String messageId, byte[] payload, String reason,
            Position keyPosition, MarkRow mark) {
        this.runId = runId;
        this.kind = kind;
        this.splitId = splitId;
        this.position = position;
        this.key = key;
        this.messageId = messageId;
        this.payload = payload;
        this.reason = reason;
        this.keyPosition = keyPosition;
        this.mark = mark;
    }

    /** Every field as given: for {@link SyncRecordSerializer}. */
    static SyncRecord of(String runId, Kind kind, String splitId, Position position, String key, String messageId, byte[] payload, String reason,
            Position keyPosition, MarkRow mark) {
        return new SyncRecord(runId, kind, splitId, position, key, messageId, payload, reason, keyPosition, mark);
    }

    /** An event of the sync run {@code runId} (null: the job's run). */
    public static SyncRecord event(String runId, String splitId, Position position, String key, String messageId, byte[] payload,
            Position keyPosition) {
        return new SyncRecord(runId, Kind.EVENT, splitId, position, key, messageId, payload, null, keyPosition, null);
    }

    /** An invalid row of the sync run {@code runId} (null: the job's run). */
    public static SyncRecord invalid(String runId, String splitId, Position position, String key, String reason, Position keyPosition) {
        return new SyncRecord(runId, Kind.INVALID, splitId, position, key, null, null, reason, keyPosition, null);
    }

    /** The end of a split of the sync run {@code runId} (null: the job's run). */
    public static SyncRecord splitEnd(String runId, String splitId, Position position) {
        return new SyncRecord(runId, Kind.SPLIT_END, splitId, position, null, null, null, null, null, null);
    }

    /** An event: {@code payload} is its UTF-8 JSON, {@code key} the row's primary key as JSON. */
    public static SyncRecord event(String splitId, String position, String key, String messageId, byte[] payload) {
        return event(splitId, position, key, messageId, payload, null);
    }

    /**
     * An event whose row's primary key values are {@code keyPosition} (a
     * {@link io.backflow.jdbc.PositionCodec} string), so a failure can be retried by key later.
     */
    public static SyncRecord event(String splitId, String position, String key, String messageId, byte[] payload, String keyPosition) {
        return event(splitId, Position.ofEncoded(position), key, messageId, payload, Position.ofEncoded(keyPosition));
    }

    public static SyncRecord event(String splitId, Position position, String key, String messageId, byte[] payload, Position keyPosition) {
        return new SyncRecord(Kind.EVENT, splitId, position, key, messageId, payload, null, keyPosition, null);
    }

    public static SyncRecord invalid(String splitId, String position, String key, String reason) {
        return invalid(splitId, position, key, reason, null);
    }

    /** An invalid row with its primary key values, so a diff sync's log can mark it. */
    public static SyncRecord invalid(String splitId, String position, String key, String reason, String keyPosition) {
        return invalid(splitId, Position.ofEncoded(position), key, reason, Position.ofEncoded(keyPosition));
    }

    public static SyncRecord invalid(String splitId, Position position, String key, String reason, Position keyPosition) {
        return new SyncRecord(Kind.INVALID, splitId, position, key, null, null, reason, keyPosition, null);
    }

    public static SyncRecord splitEnd(String splitId, String position) {
        return splitEnd(splitId, Position.ofEncoded(position));
    }

    public static SyncRecord splitEnd(String splitId, Position position) {
        return new SyncRecord(Kind.SPLIT_END, splitId, position, null, null, null, null, null, null);
    }

    /**
     * This record, from a row at its run's high-water mark: once resolved (delivered or invalid)
     * the ledger remembers {@code mark}, so the next run does not resolve it again.
     */
    public SyncRecord atHighWaterMark(MarkRow mark) {
        return new SyncRecord(runId, kind, splitId, position, key, messageId, payload, reason, keyPosition, mark);
    }

    /**
     * The sync run the record belongs to, or null for the job's run: a continuous job reads one
     * run after another, and the sink reports each record to its own run.
     */
    public String runId() { return runId; }
    public Kind kind() { return kind; }
    public String splitId() { return splitId; }
    public String position() { return Position.encoded(position); }
    public Position positionValue() { return position; }
    public String key() { return key; }
    public String messageId() { return messageId; }
    public byte[] payload() { return payload; }
    public String reason() { return reason; }
    /** The row's primary key values as a PositionCodec string, or null when unknown. */
    public String keyPosition() { return Position.encoded(keyPosition); }
    public Position keyPositionValue() { return keyPosition; }
    /** The row's identity at the run's high-water mark, or null when its cursor is below it. */
    public MarkRow mark() { return mark; }

    @Override
    public String toString() {
        return "SyncRecord{" + kind + ", split=" + splitId + ", key=" + key + (reason == null ? "" : ", reason=" + reason) + "}";
    }
}
