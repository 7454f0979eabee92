package io.backflow.sink.http;

import io.backflow.sink.Destination;
import io.backflow.sink.DestinationAnswer;
import io.backflow.sink.DestinationRequest;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * How most HTTP APIs answer, for destinations whose answers say nothing more:
 *
 * <ul>
 *   <li>2xx: delivered;
 *   <li>429: throttled, retried after {@code Retry-After} or a backoff, and the sender slows down;
 *       408 and 5xx: retried the same way without slowing down;
 *   <li>401, 403, 404 and answers that are not 2xx or 4xx: Backflow's settings are wrong;
 *   <li>any other 4xx: some event was refused. One event: it is refused; several: split until
 *       the refused ones are alone.
 * </ul>
 */
public final class HttpAnswers {
    private static final int EXCERPT_CHARS = 200;

    private HttpAnswers() {}

    public static DestinationAnswer standard(Destination destination, DestinationRequest request, int status, HttpHeaders headers, byte[] body) {
        if (status >= 200 && status < 300) {
            return DestinationAnswer.delivered();
        }
        if (status == 429 || status == 408 || status >= 500) {
            Duration after = retryAfter(headers).orElse(null);
            String why = "HTTP " + status;
            return status == 429 ? DestinationAnswer.throttled(why + ": " + excerpt(body), after) : DestinationAnswer.retry(why + ": " + excerpt(body), after);
        }
        if (status == 401 || status == 403 || status == 404 || status < 400) {
            return DestinationAnswer.fatal(destination.configurationError(status));
        }
        String why = "HTTP " + status + ": " + excerpt(body);
        return request.entries().size() == 1 ? DestinationAnswer.rejected(Map.of(0, why)) : DestinationAnswer.split(why);
    }

    /** The destination's {@code Retry-After}, if it sent one that can be read. */
    public static Optional<Duration> retryAfter(HttpHeaders headers) {
        return RetryPolicy.parseRetryAfter(headers.firstValue("Retry-After").orElse(null), Instant.now());
    }

    /** The start of a response body, on one line, for a reason that is stored (redacted by the transport). */
    public static String excerpt(byte[] body) {
        if (body == null || body.length == 0) {
            return "(empty body)";
        }
        String s = new String(body, 0, Math.min(body.length, EXCERPT_CHARS * 4), StandardCharsets.UTF_8).replaceAll("\\s+", " ").trim();
        return s.length() > EXCERPT_CHARS ? s.substring(0, EXCERPT_CHARS) + "..." : s;
    }
}
