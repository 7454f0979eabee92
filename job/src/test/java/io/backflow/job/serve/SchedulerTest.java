package io.backflow.job.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backflow.job.config.ConfigLoader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduling rules on a clock the test moves: a tick missed while a run goes on makes one
 * run when it ends, never two runs of a connection at once, at most {@code maxParallel} syncs,
 * and a changed file's schedule takes effect. Syncs here are stand-ins that wait for the test to
 * let them finish ({@code ServeITCase} runs real ones).
 */
class SchedulerTest {
    @TempDir Path dir;

    /** A clock that moves only when told to. */
    static final class TestClock extends Clock {
        volatile Instant now = Instant.parse("2026-01-05T10:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }

    /** Syncs that record their start and end only when the test releases a permit for their connection. */
    static final class HeldSyncs implements Scheduler.SyncRunner {
        final List<String> started = new CopyOnWriteArrayList<>();
        final Map<String, Semaphore> release = new ConcurrentHashMap<>();
        final Semaphore ended = new Semaphore(0);
        /** One permit per start, so a test waits for starts instead of polling. */
        final Semaphore starts = new Semaphore(0);

        @Override
        public int run(io.backflow.job.config.ConnectionConfig config, boolean fullResync, PrintStream out, java.util.function.Consumer<String> onRecorded) {
            started.add(config.name());
            starts.release();
            onRecorded.accept(config.name() + "-run-" + started.size());
            try {
                release.computeIfAbsent(config.name(), k -> new Semaphore(0)).acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ended.release();
            return 0;
        }

        void finish(String name) throws InterruptedException {
            release.computeIfAbsent(name, k -> new Semaphore(0)).release();
            assertTrue(ended.tryAcquire(10, TimeUnit.SECONDS), name + " did not end");
        }

        long count(String name) {
            return started.stream().filter(name::equals).count();
        }
    }

    private void file(String name, String schedule) throws Exception {
        Files.writeString(dir.resolve(name + ".yaml"), String.join("\n",
                "source: {url: 'jdbc:postgresql://db/w', table: t, primary_key: id, cursor: c}",
                "mapping: {event_type: identify, user_id: id}",
                "destination: {type: webhook, url: 'https://hooks.example.com/in'}",
                schedule, ""));
    }

    private static void awaitStarted(HeldSyncs syncs, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (syncs.started.size() < n && syncs.starts.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            // Each permit is one start: look again.
        }
        assertEquals(n, syncs.started.size(), syncs.started.toString());
    }

    /** Waits (at most 10 s) until the scheduler has seen the connection's run end. */
    private static void awaitIdle(Scheduler s, String name) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (s.state(name).running && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(5);
        }
        assertTrue(!s.state(name).running, name + " still running");
    }

    private Scheduler scheduler(HeldSyncs syncs, int maxParallel, TestClock clock) throws Exception {
        Scheduler s = new Scheduler(new ConnectionDirectory(dir, new ConfigLoader()), syncs, maxParallel,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), clock);
        s.reload();
        return s;
    }

    @Test
    void ticksMissedDuringARunMakeOneRunWhenItEnds() throws Exception {
        file("a", "schedule: {every: 10s}");
        TestClock clock = new TestClock();
        HeldSyncs syncs = new HeldSyncs();
        Scheduler s = scheduler(syncs, 2, clock);
        s.tick();
        assertEquals(0, syncs.started.size(), "nothing before the first tick");
        clock.advance(Duration.ofSeconds(10));
        s.tick();
        awaitStarted(syncs, 1);
        // Three ticks pass while the run goes on: nothing else starts.
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofSeconds(10));
            s.tick();
        }
        assertEquals(1, syncs.started.size());
        assertThrows(IllegalStateException.class, () -> s.trigger("a", false), "a trigger while running is refused");
        syncs.finish("a");
        awaitStarted(syncs, 2);
        syncs.finish("a");
        awaitIdle(s, "a");
        // The run after the long one counts the next tick from its own start.
        s.tick();
        assertEquals(2, syncs.started.size(), "three missed ticks made one run, not three");
        clock.advance(Duration.ofSeconds(10));
        s.tick();
        awaitStarted(syncs, 3);
        syncs.finish("a");
    }

    @Test
    void atMostMaxParallelSyncsRunAndTheRestStartAsSlotsFree() throws Exception {
        for (String n : new String[] {"a", "b", "c"}) {
            file(n, "schedule: {every: 1m}");
        }
        TestClock clock = new TestClock();
        HeldSyncs syncs = new HeldSyncs();
        Scheduler s = scheduler(syncs, 2, clock);
        clock.advance(Duration.ofMinutes(1));
        s.tick();
        awaitStarted(syncs, 2);
        // The scheduler decides in tick() which syncs start: two run, the third waits for a slot.
        assertEquals(2, List.of("a", "b", "c").stream().filter(n -> s.state(n).running).count());
        assertEquals(2, syncs.started.size());
        String first = syncs.started.get(0);
        syncs.finish(first);
        awaitStarted(syncs, 3);
        assertEquals(1, syncs.count("a") + syncs.count("b") + syncs.count("c") - 2);
        for (String n : List.of("a", "b", "c")) {
            if (!n.equals(first)) {
                syncs.finish(n);
            }
        }
    }

    @Test
    void aTriggerRunsAManualConnectionAndAChangedFileTakesItsNewSchedule() throws Exception {
        file("m", "");
        TestClock clock = new TestClock();
        HeldSyncs syncs = new HeldSyncs();
        Scheduler s = scheduler(syncs, 1, clock);
        clock.advance(Duration.ofDays(1));
        s.tick();
        assertEquals(0, syncs.started.size(), "manual: only triggers");
        assertEquals("m-run-1", s.trigger("m", true).get(10, TimeUnit.SECONDS));
        syncs.finish("m");
        // Before the clock moves: the run's end ticks, and a due schedule would start the next run at once.
        awaitIdle(s, "m");
        assertThrows(IllegalArgumentException.class, () -> s.trigger("nowhere", false));

        file("m", "schedule: {every: 5s}\n# changed");
        s.reload();
        clock.advance(Duration.ofSeconds(5));
        s.tick();
        awaitStarted(syncs, 2);
        syncs.finish("m");

        Files.writeString(dir.resolve("m.yaml"), "source: {url: nope}\n");
        s.reload();
        assertTrue(s.state("m").error.contains("source.url"), s.state("m").error);
        clock.advance(Duration.ofMinutes(1));
        s.tick();
        // tick() decides at once; a start would show as running before its sync even begins.
        assertTrue(!s.state("m").running, "a file that does not load runs nothing");
        assertEquals(2, syncs.started.size(), "a file that does not load runs nothing");
    }
}
