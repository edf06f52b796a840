package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 section 3: the JFR events, recorded in-process with a {@link Recording}, dumped to a
 * file and read back with {@link RecordingFile}. On both timer backends: a fired timer (lateness,
 * runtime name), a slow callback, a stuck callback (the watchdog), a callback error, and the
 * periodic runtime statistics.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JfrEventsTest {
    @TempDir
    Path dir;

    private static Recording start() {
        final Recording r = new Recording();
        r.enable("dev.latchwork.TimerFired");
        r.enable("dev.latchwork.SlowCallback").withThreshold(Duration.ofMillis(10));
        r.enable("dev.latchwork.StuckCallback");
        r.enable("dev.latchwork.CallbackError");
        r.enable("dev.latchwork.DispatcherBehind");
        r.enable("dev.latchwork.RuntimeStatistics").withPeriod(Duration.ofMillis(100));
        r.start();
        return r;
    }

    private List<RecordedEvent> stopAndRead(final Recording r, final String name) throws Exception {
        r.stop();
        final Path file = dir.resolve(name + ".jfr");
        r.dump(file);
        r.close();
        final List<RecordedEvent> out = new ArrayList<>();
        for (final RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (e.getEventType().getName().startsWith("dev.latchwork.")) {
                out.add(e);
            }
        }
        return out;
    }

    private static List<RecordedEvent> of(final List<RecordedEvent> events, final String type, final String runtime) {
        final List<RecordedEvent> out = new ArrayList<>();
        for (final RecordedEvent e : events) {
            if (e.getEventType().getName().equals(type) && runtime.equals(e.getString("runtime"))) {
                out.add(e);
            }
        }
        return out;
    }

    /**
     * Dumps the running recording (a chunk rotation) until {@code done} holds for the events of
     * {@code name} read back, for up to 10 s.
     */
    private List<RecordedEvent> awaitEvents(final Recording r, final String name,
                                            final java.util.function.Predicate<List<RecordedEvent>> done) throws Exception {
        final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Modes.WAIT_SECONDS);
        for (int i = 0; ; i++) {
            final Path file = dir.resolve(name + "-" + i + ".jfr");
            r.dump(file);
            final List<RecordedEvent> out = new ArrayList<>();
            for (final RecordedEvent e : RecordingFile.readAllEvents(file)) {
                if (e.getEventType().getName().startsWith("dev.latchwork.")) {
                    out.add(e);
                }
            }
            if (done.test(out) || System.nanoTime() - end > 0) {
                return out;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    @TestBackend.BothBackends
    void recordsFiredSlowStuckErrorAndStatistics(final DispatchMode mode) throws Exception {
        assertTrue(Flight.SINK instanceof FlightJfr, "the JFR sink is loaded when jdk.jfr is present");
        final String name = "jfr-" + mode + "-" + TestBackend.current();
        // unique per run: JDK 17's string pool may drop a constant string already written by an
        // earlier recording of this JVM (the field then reads back as null)
        final String boom = "boom from the slow callback of " + name;
        final Recording rec = start();
        final List<RecordedEvent> events;
        try (Modes.Harness h = Modes.open(mode, b -> b.name(name).stuckCallbackThreshold(Duration.ofMillis(50)))) {
            final CountDownLatch fired = new CountDownLatch(3);
            final AsyncTimer<JfrEventsTest> quick = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, quick.init(h.rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, quick.setCallback((o, t) -> {
                fired.countDown();
                if (fired.getCount() > 0) {
                    t.start(1, TimeUnit.MILLISECONDS);
                }
            }));
            assertEquals(AsyncStatus.OK, quick.start(1, TimeUnit.MILLISECONDS));
            Modes.await("quick timer fired 3 times", fired);

            final CountDownLatch slowDone = new CountDownLatch(1);
            final AsyncTimer<String> slow = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, slow.init(h.rt, "slow-owner", TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, slow.setCallback((o, t) -> {
                // well past the watchdog's 50 ms and the event's 10 ms; ends when the watchdog reported
                final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (h.rt.stuckCallbacks() == 0 && System.nanoTime() < end) {
                    LockSupport.parkNanos(1_000_000);
                }
                slowDone.countDown();
                throw new IllegalStateException(boom);
            }));
            assertEquals(AsyncStatus.OK, slow.start(0));
            Modes.await("slow callback done", slowDone);
            Modes.await("error reported", () -> h.rt.callbackErrors() == 1);
            events = awaitEvents(rec, name, ev -> of(ev, "dev.latchwork.RuntimeStatistics", name).stream()
                .anyMatch(e -> e.getLong("callbackErrors") == 1));
        } finally {
            rec.close();
        }
        final List<RecordedEvent> firedEvents = of(events, "dev.latchwork.TimerFired", name);
        assertTrue(firedEvents.size() >= 4, "fired events: " + firedEvents);
        for (final RecordedEvent e : firedEvents) {
            assertTrue(e.getLong("lateness") >= 0, e.toString());
            assertEquals("MONOTONIC", e.getString("clock"));
        }
        assertTrue(firedEvents.stream().anyMatch(e ->
            JfrEventsTest.class.getName().equals(e.getClass("ownerClass").getName())), firedEvents.toString());

        final List<RecordedEvent> slow = of(events, "dev.latchwork.SlowCallback", name);
        assertEquals(1, slow.size(), slow.toString());
        assertTrue(slow.get(0).getDuration().toMillis() >= 50, slow.toString());
        assertEquals("timer", slow.get(0).getString("kind"));
        assertEquals(String.class.getName(), slow.get(0).getClass("ownerClass").getName());

        final List<RecordedEvent> stuck = of(events, "dev.latchwork.StuckCallback", name);
        assertEquals(1, stuck.size(), stuck.toString());
        assertEquals("timer", stuck.get(0).getString("kind"));
        assertEquals(String.class.getName(), stuck.get(0).getString("ownerClass"));
        assertTrue(stuck.get(0).getLong("elapsed") >= TimeUnit.MILLISECONDS.toNanos(50), stuck.toString());
        assertTrue(stuck.get(0).getString("stack").contains("JfrEventsTest"), stuck.get(0).getString("stack"));
        assertFalse(stuck.get(0).getThread("stuckThread") == null, stuck.toString());

        final List<RecordedEvent> errors = of(events, "dev.latchwork.CallbackError", name);
        assertEquals(1, errors.size(), errors.toString());
        assertEquals(IllegalStateException.class.getName(), errors.get(0).getClass("exceptionClass").getName());
        assertEquals(boom, errors.get(0).getString("message"), errors.toString());

        final List<RecordedEvent> stats = of(events, "dev.latchwork.RuntimeStatistics", name);
        final RecordedEvent last = stats.get(stats.size() - 1);
        assertTrue(last.getLong("timersFired") >= 4, last.toString());
        assertEquals(1, last.getLong("callbackErrors"), last.toString());
        assertEquals(1, last.getLong("stuckCallbacks"), last.toString());
    }

    @Test
    void statisticsStopAfterClose() throws Exception {
        final Recording rec = start();
        final AsyncRuntime rt = AsyncRuntime.builder().name("jfr-closed").build();
        rt.close();
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(400));
        final List<RecordedEvent> events = stopAndRead(rec, "closed");
        // at most one period may have started before close removed the hook
        assertTrue(of(events, "dev.latchwork.RuntimeStatistics", "jfr-closed").size() <= 1, events.toString());
    }

    @Test
    void timerFiredIsOffByDefault() throws Exception {
        final Recording rec = new Recording(); // the events' own defaults
        rec.start();
        try (AsyncRuntime rt = AsyncRuntime.builder().name("jfr-defaults").build()) {
            final CountDownLatch fired = new CountDownLatch(1);
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> fired.countDown()));
            assertEquals(AsyncStatus.OK, t.start(0));
            Modes.await("fired", fired);
        }
        assertEquals(List.of(), of(stopAndRead(rec, "defaults"), "dev.latchwork.TimerFired", "jfr-defaults"));
    }

    @Test
    void dispatcherBehindOnAFullRoundRateLimited() throws Exception {
        final Recording rec = new Recording();
        rec.enable("dev.latchwork.DispatcherBehind");
        rec.start();
        try (Modes.Harness h = Modes.manual(b -> b.name("jfr-behind"))) {
            final int n = 600; // more than two rounds' worth (256 blocks per drain() call)
            for (int i = 0; i < n; i++) {
                final AsyncTimer<Object> t = new AsyncTimer<>();
                assertEquals(AsyncStatus.OK, t.init(h.rt, this, TimerClock.MONOTONIC));
                assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> { }));
                assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.HOURS));
            }
            assertEquals(256, h.rt.drain()); // a full round: an event
            assertEquals(256, h.rt.drain()); // full again, within 100 ms: rate-limited
            while (h.rt.drain() > 0) {
                // the rest
            }
        }
        final List<RecordedEvent> behind = of(stopAndRead(rec, "behind"), "dev.latchwork.DispatcherBehind", "jfr-behind");
        assertTrue(behind.size() >= 1 && behind.size() <= 2, behind.toString()); // 2 only if a pause passed 100 ms
        final RecordedEvent e = behind.get(0);
        assertEquals(256, e.getInt("handled"), e.toString());
        assertTrue(e.getBoolean("budgetHit"), e.toString());
        assertFalse(e.getBoolean("wheel"), e.toString());
    }
}
