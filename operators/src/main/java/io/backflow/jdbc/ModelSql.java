package io.backflow.jdbc;

import java.util.Locale;

/**
 * A user's {@code source.sql}, checked to be exactly one query. Backflow only ever wraps it as a
 * subquery in a read-only transaction, but a driver runs {@code SELECT 1) m; COMMIT; DELETE ...}
 * as three statements, the second of which ends the read-only transaction. So the text is lexed
 * the way PostgreSQL and DuckDB read it (quoted strings with their escapes, dollar quotes, quoted
 * identifiers, line and nested block comments) and refused when a {@code ;} separates statements
 * or when it does not start as a query ({@code SELECT}, {@code WITH}, {@code VALUES},
 * {@code TABLE}, {@code FROM} or a parenthesis).
 */
public final class ModelSql {
    private ModelSql() {}

    /**
     * The query without trailing semicolons and whitespace.
     *
     * @throws IllegalArgumentException naming what is wrong and where (line and column)
     */
    public static String singleQuery(String sql) {
        if (sql == null || sql.isBlank()) {
            throw new IllegalArgumentException("the query is empty");
        }
        int end = lastCodeIndex(sql);
        String query = sql.substring(0, end + 1).strip();
        String first = firstWord(query);
        if (!(first.equals("select") || first.equals("with") || first.equals("values") || first.equals("table") || first.equals("from")
                || first.startsWith("("))) {
            throw new IllegalArgumentException("must be one query (SELECT or WITH ...), not '" + (first.length() > 20 ? first.substring(0, 20) : first) + "'");
        }
        return query;
    }

    /**
     * The index of the last character that is neither whitespace, a comment nor a trailing
     * {@code ;}; any other {@code ;} outside quotes and comments is an error.
     */
    private static int lastCodeIndex(String s) {
        int n = s.length();
        int lastCode = -1;
        int semicolon = -1;
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            if (c == '-' && i + 1 < n && s.charAt(i + 1) == '-') {
                i = skipTo(s, i + 2, "\n");
                continue;
            }
            if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                i = skipBlockComment(s, i);
                continue;
            }
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            if (c == ';') {
                if (semicolon < 0) {
                    semicolon = i;
                }
                i++;
                continue;
            }
            if (semicolon >= 0) {
                throw new IllegalArgumentException("must be one statement: a ';' at " + where(s, semicolon)
                        + " is followed by more SQL; remove it (Backflow runs the query as a subquery, read-only)");
            }
            if (c == '\'') {
                boolean backslashes = i > 0 && (s.charAt(i - 1) == 'E' || s.charAt(i - 1) == 'e')
                        && (i < 2 || !Character.isLetterOrDigit(s.charAt(i - 2)) && s.charAt(i - 2) != '_');
                i = skipQuoted(s, i, '\'', backslashes);
            } else if (c == '"') {
                i = skipQuoted(s, i, '"', false);
            } else if (c == '$' && dollarTag(s, i) != null) {
                String tag = dollarTag(s, i);
                int close = s.indexOf(tag, i + tag.length());
                if (close < 0) {
                    throw new IllegalArgumentException("has a " + tag + " quote opened at " + where(s, i) + " that is never closed");
                }
                i = close + tag.length();
            } else {
                i++;
            }
            lastCode = i - 1;
        }
        if (lastCode < 0) {
            throw new IllegalArgumentException("the query is empty");
        }
        return lastCode;
    }

    private static int skipTo(String s, int from, String end) {
        int at = s.indexOf(end, from);
        return at < 0 ? s.length() : at + end.length();
    }

    /** Block comments nest in PostgreSQL. */
    private static int skipBlockComment(String s, int start) {
        int depth = 0;
        int i = start;
        while (i < s.length()) {
            if (s.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (s.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        throw new IllegalArgumentException("has a comment opened at " + where(s, start) + " that is never closed");
    }

    private static int skipQuoted(String s, int start, char quote, boolean backslashEscapes) {
        int i = start + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < s.length() && s.charAt(i + 1) == quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        throw new IllegalArgumentException("has a " + quote + " opened at " + where(s, start) + " that is never closed");
    }

    /** {@code $tag$} or {@code $$} starting at {@code i}, or null ({@code $1} is a parameter, not a quote). */
    private static String dollarTag(String s, int i) {
        int j = i + 1;
        while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
            j++;
        }
        if (j >= s.length() || s.charAt(j) != '$') {
            return null;
        }
        String tag = s.substring(i, j + 1);
        return tag.length() > 2 && Character.isDigit(tag.charAt(1)) ? null : tag;
    }

    private static String firstWord(String query) {
        String q = query;
        // Leading comments were kept by the trim; drop them to find the first keyword.
        while (true) {
            q = q.stripLeading();
            if (q.startsWith("--")) {
                int nl = q.indexOf('\n');
                q = nl < 0 ? "" : q.substring(nl + 1);
            } else if (q.startsWith("/*")) {
                q = q.substring(skipBlockComment(q, 0));
            } else {
                break;
            }
        }
        if (q.startsWith("(")) {
            return "(";
        }
        int end = 0;
        while (end < q.length() && Character.isLetter(q.charAt(end))) {
            end++;
        }
        return q.substring(0, end).toLowerCase(Locale.ROOT);
    }

    private static String where(String s, int index) {
        int line = 1;
        int column = 1;
        for (int i = 0; i < index; i++) {
            if (s.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return "line " + line + " column " + column;
    }
}
