package io.backflow.job.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A YAML mapping being read with its dotted path, collecting problems instead of stopping at the
 * first one, so a user sees every mistake in a file at once.
 */
final class Node {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");

    private final JsonNode node;
    private final String path;
    private final List<String> problems;

    Node(JsonNode node, String path, List<String> problems) {
        this.node = node;
        this.path = path;
        this.problems = problems;
    }

    boolean present() {
        return node != null && !node.isNull() && !node.isMissingNode();
    }

    String path() {
        return path;
    }

    JsonNode raw() {
        return node;
    }

    private String at(String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    void problem(String field, String message) {
        problems.add(at(field) + ": " + message);
    }

    /** Reports keys this mapping does not know, with a suggestion when one is close. */
    void allowOnly(Set<String> known) {
        if (!present() || !node.isObject()) {
            return;
        }
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                String hint = closest(name, known);
                problems.add(at(name) + ": unknown field" + (hint == null ? "" : " (did you mean " + hint + "?)"));
            }
        }
    }

    Node child(String field, boolean required) {
        JsonNode c = present() ? node.get(field) : null;
        if (c != null && !c.isNull() && !c.isObject()) {
            problem(field, "must be a mapping of fields");
            c = null;
        }
        if ((c == null || c.isNull()) && required) {
            problem(field, "required");
        }
        return new Node(c, at(field), problems);
    }

    String string(String field, boolean required) {
        JsonNode v = present() ? node.get(field) : null;
        if (v == null || v.isNull()) {
            if (required) {
                problem(field, "required");
            }
            return null;
        }
        if (!v.isValueNode()) {
            problem(field, "must be a single value");
            return null;
        }
        String s = v.asText();
        if (required && s.isBlank()) {
            problem(field, "must not be empty");
            return null;
        }
        return s.isBlank() ? null : s;
    }

    <E extends Enum<E>> E enumValue(String field, Class<E> type, E fallback) {
        String s = string(field, fallback == null);
        if (s == null) {
            return fallback;
        }
        try {
            return Enum.valueOf(type, s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            List<String> allowed = new ArrayList<>();
            for (E c : type.getEnumConstants()) {
                allowed.add(c.name().toLowerCase(Locale.ROOT));
            }
            problem(field, "'" + s + "' is not one of " + String.join(", ", allowed));
            return fallback;
        }
    }

    long number(String field, long fallback, long min, long max) {
        JsonNode v = present() ? node.get(field) : null;
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.canConvertToLong() && !(v.isTextual() && v.asText().matches("-?\\d+"))) {
            problem(field, "must be a whole number, got '" + v.asText() + "'");
            return fallback;
        }
        long n = v.isTextual() ? Long.parseLong(v.asText()) : v.asLong();
        if (n < min || n > max) {
            problem(field, "must be between " + min + " and " + max + ", got " + n);
            return fallback;
        }
        return n;
    }

    boolean bool(String field, boolean fallback) {
        JsonNode v = present() ? node.get(field) : null;
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        String s = v.asText().toLowerCase(Locale.ROOT);
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        problem(field, "must be true or false, got '" + v.asText() + "'");
        return fallback;
    }

    /** Durations such as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}; a bare number is seconds. */
    Duration duration(String field, Duration fallback) {
        String s = string(field, false);
        if (s == null) {
            return fallback;
        }
        Matcher m = DURATION.matcher(s.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            problem(field, "'" + s + "' is not a duration (examples: 500ms, 30s, 5m, 1h, 30d)");
            return fallback;
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        switch (unit) {
            case "ms": return Duration.ofMillis(n);
            case "m": return Duration.ofMinutes(n);
            case "h": return Duration.ofHours(n);
            case "d": return Duration.ofDays(n);
            default: return Duration.ofSeconds(n);
        }
    }

    /** A list of names, also accepting one name or a comma-separated string. */
    List<String> names(String field, boolean required) {
        JsonNode v = present() ? node.get(field) : null;
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            if (required) {
                problem(field, "required");
            }
            return out;
        }
        if (v.isArray()) {
            for (JsonNode e : v) {
                if (!e.isValueNode() || e.asText().isBlank()) {
                    problem(field, "must be a list of column names");
                    return new ArrayList<>();
                }
                out.add(e.asText().trim());
            }
        } else if (v.isValueNode()) {
            for (String s : v.asText().split(",")) {
                if (!s.isBlank()) {
                    out.add(s.trim());
                }
            }
        } else {
            problem(field, "must be a column name or a list of column names");
        }
        if (required && out.isEmpty()) {
            problem(field, "must name at least one column");
        }
        return out;
    }

    private static String closest(String name, Set<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = distance(name, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
