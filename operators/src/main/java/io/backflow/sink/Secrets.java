package io.backflow.sink;

import java.util.ArrayList;
import java.util.List;

/** Keeps the secrets a destination's requests carry out of what is stored and logged. */
public final class Secrets {
    private Secrets() {}

    /**
     * {@code text} with every secret replaced by {@code ***}: a destination's error body can echo
     * the request's headers, and such bodies go into the ledger and the log. Short values (under 4
     * characters) are left alone: they would blank half the text and protect nothing. A value such
     * as {@code Bearer abc...} is also redacted when only its token is echoed.
     */
    public static String redact(String text, List<String> secrets) {
        if (text == null) {
            return null;
        }
        List<String> sorted = new ArrayList<>(secrets);
        // Longest first, so a secret that contains another is replaced whole.
        sorted.sort((a, b) -> Integer.compare(b == null ? 0 : b.length(), a == null ? 0 : a.length()));
        String out = text;
        for (String secret : sorted) {
            if (secret != null && secret.length() >= 4) {
                out = out.replace(secret, "***");
                int space = secret.indexOf(' ');
                if (space > 0 && secret.length() - space > 4) {
                    out = out.replace(secret.substring(space + 1), "***");
                }
            }
        }
        return out;
    }
}
