package io.backflow.mapping;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamWriteFeature;
import io.backflow.model.DeltaColumns;
import io.backflow.source.SourceRow;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Dry run of a mapping for the CLI {@code preview} command: shows the exact event a row would
 * become, pretty-printed, or why the row is invalid. Nothing is sent anywhere.
 *
 * <p>With an {@link MappingSpec#operationColumn() operation column} a model row, which lacks the delta
 * table's columns, previews as the insert a first diff sync would send; a row that carries the
 * operation column (a delta row) previews as its operation says.
 */
public final class EventPreview {
    /** The run id written into previewed events. */
    public static final String PREVIEW_RUN_ID = "preview";

    private static final JsonFactory JSON = JsonFactory.builder().enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN).build();

    private final EventMapper mapper;
    // The last model column array and the same plus the delta columns, so the mapper binds once per query.
    private String[] modelColumns;
    private String[] withDeltaColumns;

    public EventPreview(MappingSpec spec) {
        this.mapper = new EventMapper(spec);
        mapper.open();
    }

    /**
     * Previews one row.
     *
     * @throws IllegalArgumentException when the row lacks a column the mapping references
     */
    public Result preview(SourceRow row) {
        MappedRow mapped = mapper.map(asDeltaRow(row), PREVIEW_RUN_ID);
        if (!mapped.isEvent()) {
            return new Result(mapped.key(), null, null, mapped.reason());
        }
        return new Result(mapped.key(), mapped.messageId(), pretty(mapped.payload()), null);
    }

    /** {@code row} as a diff sync would read it: unchanged, or a model row extended to an insert of one row. */
    private SourceRow asDeltaRow(SourceRow row) {
        String operation = mapper.spec().operationColumn();
        if (operation == null || ColumnIndex.resolves(operation, row.columns())) {
            return row;
        }
        int n = row.columns().length;
        if (row.columns() != modelColumns) {
            modelColumns = row.columns();
            withDeltaColumns = Arrays.copyOf(modelColumns, n + 2);
            withDeltaColumns[n] = operation;
            withDeltaColumns[n + 1] = DeltaColumns.ROWS;
        }
        Object[] values = Arrays.copyOf(row.values(), n + 2);
        values[n] = DeltaColumns.OP_INSERT;
        values[n + 1] = 1L;
        return SourceRow.row(row.splitId(), withDeltaColumns, values, row.position());
    }

    /** Re-indents the event token by token, so numbers keep their exact digits. */
    static String pretty(byte[] json) {
        StringWriter out = new StringWriter();
        try (JsonParser p = JSON.createParser(json);
             JsonGenerator g = JSON.createGenerator(out).useDefaultPrettyPrinter()) {
            while (p.nextToken() != null) {
                g.copyCurrentEventExact(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Mapped event is not readable JSON", e);
        }
        return out.toString();
    }

    /** One-off form: the pretty-printed event, or {@code "invalid row <key>: <reason>"}. */
    public static String render(MappingSpec spec, SourceRow row) {
        Result r = new EventPreview(spec).preview(row);
        return r.valid() ? r.json() : "invalid row " + r.key() + ": " + r.invalidReason();
    }

    /** A previewed row: {@code json} (pretty event) and {@code messageId} when valid, else {@code invalidReason}. */
    public record Result(String key, String messageId, String json, String invalidReason) {
        public boolean valid() {
            return invalidReason == null;
        }
    }
}
