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
        String text = v.asText().trim();
        if (!(v.isIntegralNumber() || v.isTextual() && text.matches("-?\\d+"))) {
            problem(field, "must be a whole number, got '" + v.asText() + "'");
            return fallback;
        }
        // Parsed without a size limit: a number too large for a long is out of range, not a crash.
        java.math.BigInteger n = v.isIntegralNumber() ? v.bigIntegerValue() : new java.math.BigInteger(text);
        if (n.compareTo(java.math.BigInteger.valueOf(min)) < 0 || n.compareTo(java.math.BigInteger.valueOf(max)) > 0) {
            problem(field, "must be between " + min + " and " + max + ", got " + n);
            return fallback;
        }
        return n.longValueExact();
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

    /**
     * Durations such as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}; a bare number is
     * seconds. Outside {@code [min, max]} is a problem naming the field, however many digits it has.
     */
    Duration duration(String field, Duration fallback, Duration min, Duration max) {
        String s = string(field, false);
        if (s == null) {
            return fallback;
        }
        Matcher m = DURATION.matcher(s.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            problem(field, "'" + s + "' is not a duration (examples: 500ms, 30s, 5m, 1h, 30d)");
            return fallback;
        }
        String unit = m.group(2) == null ? "s" : m.group(2);
        long unitMillis;
        switch (unit) {
            case "ms": unitMillis = 1; break;
            case "m": unitMillis = 60_000; break;
            case "h": unitMillis = 3_600_000; break;
            case "d": unitMillis = 86_400_000; break;
            default: unitMillis = 1_000;
        }
        java.math.BigInteger millis = new java.math.BigInteger(m.group(1)).multiply(java.math.BigInteger.valueOf(unitMillis));
        if (millis.compareTo(java.math.BigInteger.valueOf(min.toMillis())) < 0 || millis.compareTo(java.math.BigInteger.valueOf(max.toMillis())) > 0) {
            problem(field, "must be between " + describe(min) + " and " + describe(max) + ", got '" + s + "'");
            return fallback;
        }
        return Duration.ofMillis(millis.longValueExact());
    }

    /** A bound as a user writes it: 100ms, 30s, 5m, 1h, 365d. */
    static String describe(Duration d) {
        long ms = d.toMillis();
        if (ms == 0 || ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        return s % 86_400 == 0 ? s / 86_400 + "d" : s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
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
