package io.backflow.job.config;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Optional;

/**
 * When {@code serve} runs a connection by itself: never ({@code manual}, only when triggered),
 * every fixed interval, or at the times of a five-field Unix cron expression in a time zone
 * (parsed by cron-utils).
 */
public final class Schedule {
    private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    /** Only triggered runs: the default. */
    public static final Schedule MANUAL = new Schedule("manual", null, null, null);

    private final String description;
    private final Duration every;
    private final ExecutionTime cron;
    private final ZoneId zone;

    private Schedule(String description, Duration every, ExecutionTime cron, ZoneId zone) {
        this.description = description;
        this.every = every;
        this.cron = cron;
        this.zone = zone;
    }

    /** Every {@code interval}, counted from when the previous scheduled run started. */
    public static Schedule every(Duration interval) {
        return new Schedule("every " + Node.describe(interval), interval, null, null);
    }

    /**
     * A Unix cron expression ({@code minute hour day-of-month month day-of-week}) in {@code zone}.
     *
     * @throws IllegalArgumentException naming what is wrong with the expression
     */
    public static Schedule cron(String expression, ZoneId zone) {
        try {
            return new Schedule("cron " + expression + " " + zone.getId(), null, ExecutionTime.forCron(UNIX.parse(expression)), zone);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + expression + "' is not a five-field cron expression: " + e.getMessage(), e);
        }
    }

    /** The interval of an {@code every:} schedule, or null for cron and manual schedules. */
    public Duration every() {
        return every;
    }

    public boolean manual() {
        return every == null && cron == null;
    }

    /**
     * The first time strictly after {@code last} (the previous scheduled time, or the start of
     * {@code serve}) that a run is due; empty for manual schedules. Ticks missed while a run was
     * going are not queued: the caller asks again from the time the run ended.
     */
    public Optional<ZonedDateTime> nextAfter(ZonedDateTime last) {
        if (every != null) {
            return Optional.of(last.plus(every));
        }
        if (cron != null) {
            return cron.nextExecution(last.withZoneSameInstant(zone));
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return description;
    }
}
