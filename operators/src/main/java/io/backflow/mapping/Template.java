package io.backflow.mapping;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A compiled JSON-builder template: the {@code properties} (track), {@code traits} (identify) or
 * {@code fields} (record) object of an event, built from a row's columns.
 *
 * <p>The template is a JSON (or YAML) tree whose root is an object:
 * <ul>
 *   <li>Objects and arrays are rebuilt recursively, so events can hold nested objects and lists.
 *       Object keys are taken literally.</li>
 *   <li>A string that is exactly {@code "{{ column }}"} becomes the column's typed value: integers
 *       and decimals become JSON numbers, booleans booleans, text strings, {@code DATE} values
 *       {@code "2024-01-31"}, timestamps without zone {@code "2024-01-31T10:00:00"}, timestamps with
 *       zone {@code "2024-01-31T10:00:00Z"} (UTC), binary values base64, and SQL NULL JSON null.</li>
 *   <li>{@code "{{ column | json }}"} parses a text column holding JSON and inserts the parsed value;
 *       a value that is not JSON makes the row invalid. It must be the whole string.</li>
 *   <li>A string mixing text and references, such as {@code "Order {{ id }} by {{ name }}"}, becomes
 *       a string with each reference replaced by its text form (NULL becomes the empty string).</li>
 *   <li>Any other value (number, boolean, null, string without <code>&#123;&#123;</code>) is a constant.</li>
 * </ul>
 * Whitespace inside the braces is optional. <code>&#123;&#123;</code> always opens a reference; there is no escape.
 * Column names match the query's columns exactly, or else case-insensitively when that is unique.
 *
 * <p>Compiling checks the syntax; columns are resolved against the first row (see {@link ColumnIndex}).
 * A compiled template keeps a scratch buffer, so an instance serves one thread.
 */
final class Template {
    private final Node root;
    private final StringBuilder scratch = new StringBuilder(64);

    private Template(Node root) {
        this.root = root;
    }

    /**
     * Compiles {@code tree}, registering every referenced column in {@code columns}.
     *
     * @throws IllegalArgumentException when the root is not an object or a reference is malformed
     */
    static Template compile(JsonNode tree, ColumnIndex columns) {
        if (tree == null || tree.isNull() || tree.isMissingNode()) {
            return new Template(new Constant("{}"));
        }
        if (!tree.isObject()) {
            throw new IllegalArgumentException("Mapping template must be an object, got " + tree.getNodeType());
        }
        return new Template(compileNode(tree, columns, "$"));
    }

    /** Writes the built value for the row whose values are {@code values} and column positions {@code positions}. */
    void write(JsonGenerator g, Object[] values, int[] positions, JsonFactory json) throws IOException, InvalidRowException {
        root.write(g, new Row(values, positions, json, scratch));
    }

    private static Node compileNode(JsonNode node, ColumnIndex columns, String path) {
        if (node.isObject()) {
            List<SerializedString> names = new ArrayList<>();
            List<Node> children = new ArrayList<>();
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                names.add(new SerializedString(field.getKey()));
                children.add(compileNode(field.getValue(), columns, path + "." + field.getKey()));
            }
            if (children.stream().allMatch(c -> c instanceof Constant)) {
                return Constant.of(node);
            }
            return new ObjectBuilder(names.toArray(new SerializedString[0]), children.toArray(new Node[0]));
        }
        if (node.isArray()) {
            List<Node> children = new ArrayList<>();
            for (int i = 0; i < node.size(); i++) {
                children.add(compileNode(node.get(i), columns, path + "[" + i + "]"));
            }
            if (children.stream().allMatch(c -> c instanceof Constant)) {
                return Constant.of(node);
            }
            return new ArrayBuilder(children.toArray(new Node[0]));
        }
        if (node.isTextual()) {
            return compileString(node.textValue(), columns, path);
        }
        return Constant.of(node);
    }

    private static Node compileString(String text, ColumnIndex columns, String path) {
        List<String> literals = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        int at = 0;
        boolean json = false;
        while (true) {
            int open = text.indexOf("{{", at);
            if (open < 0) {
                break;
            }
            int close = text.indexOf("}}", open + 2);
            if (close < 0) {
                throw new IllegalArgumentException("Mapping template at " + path + ": '{{' without a closing '}}' in \"" + text + "\"");
            }
            String inner = text.substring(open + 2, close);
            String column = inner;
            String filter = null;
            int bar = inner.indexOf('|');
            if (bar >= 0) {
                column = inner.substring(0, bar);
                filter = inner.substring(bar + 1).trim();
            }
            column = column.trim();
            if (column.isEmpty()) {
                throw new IllegalArgumentException("Mapping template at " + path + ": empty column reference in \"" + text + "\"");
            }
            if (filter != null) {
                if (!filter.equals("json")) {
                    throw new IllegalArgumentException("Mapping template at " + path + ": unknown filter '" + filter
                            + "' in \"" + text + "\" (the only filter is 'json')");
                }
                if (open != 0 || close + 2 != text.length()) {
                    throw new IllegalArgumentException("Mapping template at " + path + ": the 'json' filter must be the whole "
                            + "string, as in \"{{ " + column + " | json }}\"");
                }
                json = true;
            }
            literals.add(text.substring(at, open));
            slots.add(columns.slot(column));
            at = close + 2;
        }
        if (slots.isEmpty()) {
            return new Constant(quote(text));
        }
        literals.add(text.substring(at));
        if (slots.size() == 1 && literals.get(0).isEmpty() && literals.get(1).isEmpty()) {
            return json ? new JsonReference(slots.get(0), columns.name(slots.get(0))) : new Reference(slots.get(0));
        }
        return new Interpolation(literals.toArray(new String[0]), slots.stream().mapToInt(Integer::intValue).toArray());
    }

    private static final ObjectMapper CONSTANTS = new ObjectMapper();

    private static String quote(String text) {
        try {
            return CONSTANTS.writeValueAsString(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What a node needs to read the current row. */
    private static final class Row {
        final Object[] values;
        final int[] positions;
        final JsonFactory json;
        final StringBuilder scratch;

        Row(Object[] values, int[] positions, JsonFactory json, StringBuilder scratch) {
            this.values = values;
            this.positions = positions;
            this.json = json;
            this.scratch = scratch;
        }

        Object value(int slot) {
            return values[positions[slot]];
        }
    }

    private interface Node {
        void write(JsonGenerator g, Row row) throws IOException, InvalidRowException;
    }

    /** A subtree without references, pre-serialized once. */
    private static final class Constant implements Node {
        private final String rawJson;

        Constant(String rawJson) {
            this.rawJson = rawJson;
        }

        static Constant of(JsonNode node) {
            try {
                return new Constant(CONSTANTS.writeValueAsString(node));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void write(JsonGenerator g, Row row) throws IOException {
            g.writeRawValue(rawJson);
        }
    }

    private static final class ObjectBuilder implements Node {
        private final SerializedString[] names;
        private final Node[] children;

        ObjectBuilder(SerializedString[] names, Node[] children) {
            this.names = names;
            this.children = children;
        }

        @Override
        public void write(JsonGenerator g, Row row) throws IOException, InvalidRowException {
            g.writeStartObject();
            for (int i = 0; i < names.length; i++) {
                g.writeFieldName(names[i]);
                children[i].write(g, row);
            }
            g.writeEndObject();
        }
    }

    private static final class ArrayBuilder implements Node {
        private final Node[] children;

        ArrayBuilder(Node[] children) {
            this.children = children;
        }

        @Override
        public void write(JsonGenerator g, Row row) throws IOException, InvalidRowException {
            g.writeStartArray();
            for (Node child : children) {
                child.write(g, row);
            }
            g.writeEndArray();
        }
    }

    /** {@code "{{ column }}"}: the typed value. */
    private static final class Reference implements Node {
        private final int slot;

        Reference(int slot) {
            this.slot = slot;
        }

        @Override
        public void write(JsonGenerator g, Row row) throws IOException {
            ColumnValues.write(g, row.value(slot));
        }
    }

    /** {@code "{{ column | json }}"}: the parsed JSON held in a text column. */
    private static final class JsonReference implements Node {
        private final int slot;
        private final String column;

        JsonReference(int slot, String column) {
            this.slot = slot;
            this.column = column;
        }

        @Override
        public void write(JsonGenerator g, Row row) throws IOException, InvalidRowException {
            Object value = row.value(slot);
            if (value == null) {
                g.writeNull();
                return;
            }
            if (!(value instanceof String) && !(value instanceof byte[])) {
                // Numbers and booleans are JSON already.
                ColumnValues.write(g, value);
                return;
            }
            try (JsonParser p = value instanceof String
                    ? row.json.createParser((String) value)
                    : row.json.createParser((byte[]) value)) {
                JsonToken t = p.nextToken();
                if (t == null) {
                    throw new InvalidRowException("column '" + column + "' is empty, expected JSON");
                }
                // Copy token by token with the exact variant so decimals keep every digit.
                int depth = 0;
                while (true) {
                    g.copyCurrentEventExact(p);
                    if (t.isStructStart()) {
                        depth++;
                    } else if (t.isStructEnd()) {
                        depth--;
                    }
                    if (depth == 0) {
                        break;
                    }
                    t = p.nextToken();
                }
                if (p.nextToken() != null) {
                    throw new InvalidRowException("column '" + column + "' is not valid JSON: unexpected content after the value");
                }
            } catch (JsonProcessingException e) {
                // Only the position: the parser's message quotes the value, which may be personal data.
                throw new InvalidRowException("column '" + column + "' is not valid JSON" + where(e));
            }
        }

        private static String where(JsonProcessingException e) {
            return e.getLocation() == null ? ""
                    : " (error at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
        }
    }

    /** A string with text around references. */
    private static final class Interpolation implements Node {
        private final String[] literals;
        private final int[] slots;

        Interpolation(String[] literals, int[] slots) {
            this.literals = literals;
            this.slots = slots;
        }

        @Override
        public void write(JsonGenerator g, Row row) throws IOException {
            StringBuilder sb = row.scratch;
            sb.setLength(0);
            for (int i = 0; i < slots.length; i++) {
                sb.append(literals[i]);
                String text = ColumnValues.text(row.value(slots[i]));
                if (text != null) {
                    sb.append(text);
                }
            }
            sb.append(literals[slots.length]);
            g.writeString(sb.toString());
        }
    }
}
