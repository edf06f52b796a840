package dev.latchwork;

import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.OK;
import static dev.latchwork.AsyncStatus.WAS_PENDING;
import static dev.latchwork.TimerStatusTest.assertStatus;
import static dev.latchwork.TimerStatusTest.ready;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * Timer behaviour in every {@link DispatchMode}: "never" deadlines, firing once and never early,
 * both clocks, last command wins, self-re-arming and other calls from the callback, and failing
 * callbacks. Timing assertions are only ever "not before the deadline"; "does not fire" is checked
 * after a generous wait, never asserted as a duration.
 */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class TimerBehaviourTest {
    private static final long MS = 1_000_000L;

    /** A timer that counts its runs and records the time of its last one. */
    static final class Probe {
        final AsyncTimer<Object> timer = new AsyncTimer<>();
        final AtomicInteger runs = new AtomicInteger();
        final AtomicLong lastNanos = new AtomicLong();
        final AtomicLong lastMillis = new AtomicLong();
        final CountDownLatch first = new CountDownLatch(1);

        Probe(final AsyncRuntime rt, final TimerClock clock) {
            assertStatus(OK, timer.init(rt, this, clock));
            assertStatus(OK, timer.setCallback((o, t) -> {
                lastNanos.set(System.nanoTime());
                lastMillis.set(System.currentTimeMillis());
                runs.incrementAndGet();
                first.countDown();
            }));
        }
    }

    // ------------------------------------------------------------------------ never / overflow

    @Modes.AllModes
    void maxValueMeansNeverAndNothingOverflows(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            // Exactly "never": Long.MAX_VALUE itself, or a TimeUnit conversion that saturates to it.
            final List<Probe> never = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                never.add(new Probe(h.rt, i < 6 ? TimerClock.MONOTONIC : TimerClock.REALTIME));
            }
            assertStatus(OK, never.get(0).timer.start(Long.MAX_VALUE));
            assertStatus(OK, never.get(1).timer.start(Long.MAX_VALUE, TimeUnit.DAYS), "TimeUnit saturates");
            assertStatus(OK, never.get(2).timer.start(200_000, TimeUnit.DAYS), "1.7e19 ns saturates");
            assertStatus(OK, never.get(3).timer.start(Long.MAX_VALUE, TimeUnit.NANOSECONDS));
            assertStatus(OK, never.get(4).timer.startAt(Long.MAX_VALUE));
            assertStatus(OK, never.get(5).timer.start(100 * MS));
            assertStatus(OK, never.get(5).timer.start(Long.MAX_VALUE), "re-arm to never disarms");
            assertStatus(OK, never.get(6).timer.start(Long.MAX_VALUE));
            assertStatus(OK, never.get(7).timer.startAt(Long.MAX_VALUE));

            // Near Long.MAX_VALUE: now + delay overflows (saturating to never) or lands centuries
            // ahead, depending on the clock's origin; either way no wrap into the past.
            final List<Probe> huge = new ArrayList<>();
            final long[] hugeDelays = {Long.MAX_VALUE - 1, Long.MAX_VALUE - 1_000_000_000L,
                Long.MAX_VALUE / 2 + Long.MAX_VALUE / 4, Long.MAX_VALUE - 1};
            for (int i = 0; i < hugeDelays.length; i++) {
                final Probe p = new Probe(h.rt, i < 3 ? TimerClock.MONOTONIC : TimerClock.REALTIME);
                assertStatus(OK, p.timer.start(hugeDelays[i]));
                huge.add(p);
            }

            // Far but finite: armed, no overflow into the past.
            final Probe far = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, far.timer.start(Long.MAX_VALUE / 2));
            final Probe farAt = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, farAt.timer.startAt(Long.MAX_VALUE - 1));

            // A sentinel proves the commands above went through the drain before we judge them.
            final Probe sentinel = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, sentinel.timer.start(150 * MS));
            Modes.await("sentinel fires", sentinel.first);
            Modes.pause(150);

            for (int i = 0; i < never.size(); i++) {
                final Probe p = never.get(i);
                assertEquals(0, p.runs.get(), "never-timer #" + i + " fired");
                assertFalse(p.timer.isArmed(), "never-timer #" + i + " is not armed");
                assertEquals(Long.MAX_VALUE, p.timer.deadline(), "never-timer #" + i + " has no deadline");
            }
            for (int i = 0; i < huge.size(); i++) {
                final Probe p = huge.get(i);
                assertEquals(0, p.runs.get(), "huge-delay timer #" + i + " fired");
                final long now = i < 3 ? System.nanoTime() : System.currentTimeMillis() * MS;
                assertTrue(!p.timer.isArmed() || p.timer.deadline() - now > Long.MAX_VALUE / 4,
                    "huge-delay timer #" + i + " is either never or far ahead: " + p.timer.deadline());
            }
            Modes.await("far timers armed", () -> far.timer.isArmed() && farAt.timer.isArmed());
            assertEquals(0, far.runs.get());
            assertEquals(0, farAt.runs.get());
            assertTrue(far.timer.deadline() - System.nanoTime() > Long.MAX_VALUE / 4, "far deadline kept far");
            assertEquals(Long.MAX_VALUE - 1, farAt.timer.deadline());
            assertStatus(WAS_PENDING, far.timer.cancel());
            assertStatus(WAS_PENDING, farAt.timer.cancel());
            assertEquals(0, h.rt.stats().callbackErrors(), h.errors.toString());
        }
    }

    // ------------------------------------------------------------------------- firing and time

    @Modes.AllModes
    void relativeStartFiresOnceNeverBeforeItsDelay(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final long[] delays = {0, 1 * MS, 5 * MS, 25 * MS, 60 * MS};
            final Probe[] probes = new Probe[delays.length];
            final long[] calledAt = new long[delays.length];
            for (int i = 0; i < delays.length; i++) {
                probes[i] = new Probe(h.rt, TimerClock.MONOTONIC);
                calledAt[i] = System.nanoTime();
                assertStatus(OK, probes[i].timer.start(delays[i]));
            }
            final Probe unit = new Probe(h.rt, TimerClock.MONOTONIC);
            final long unitCalledAt = System.nanoTime();
            assertStatus(OK, unit.timer.start(30, TimeUnit.MILLISECONDS));
            for (int i = 0; i < delays.length; i++) {
                Modes.await("delay " + delays[i], probes[i].first);
                final long early = calledAt[i] + delays[i] - probes[i].lastNanos.get();
                assertTrue(early <= 0, "fired " + early + " ns before its deadline (delay " + delays[i] + ")");
            }
            Modes.await("unit delay", unit.first);
            assertTrue(unit.lastNanos.get() - unitCalledAt >= 30 * MS, "start(30, ms) fired early");
            Modes.pause(60);
            for (int i = 0; i < delays.length; i++) {
                assertEquals(1, probes[i].runs.get(), "fires exactly once (delay " + delays[i] + ")");
                assertFalse(probes[i].timer.isArmed());
            }
            assertEquals(1, unit.runs.get());
        }
    }

    @Modes.AllModes
    void monotonicStartAtAbsoluteAndPast(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final Probe future = new Probe(h.rt, TimerClock.MONOTONIC);
            final long deadline = System.nanoTime() + 40 * MS;
            assertStatus(OK, future.timer.startAt(deadline));
            final Probe past = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, past.timer.startAt(System.nanoTime() - TimeUnit.SECONDS.toNanos(1)));
            final Probe now = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, now.timer.startAt(System.nanoTime()));
            Modes.await("a past deadline fires promptly", past.first);
            Modes.await("a present deadline fires promptly", now.first);
            Modes.await("absolute deadline", future.first);
            assertTrue(future.lastNanos.get() >= deadline, "fired before its absolute deadline");
            Modes.pause(30);
            assertEquals(1, future.runs.get());
            assertEquals(1, past.runs.get());
            assertEquals(1, now.runs.get());
        }
    }

    /** A deadline far in the past (near {@code Long.MIN_VALUE}) is still "the past", not "never". */
    @Modes.AllModes
    void extremePastDeadlineFiresPromptly(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final Probe min = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, min.timer.startAt(Long.MIN_VALUE));
            final Probe minRealtime = new Probe(h.rt, TimerClock.REALTIME);
            assertStatus(OK, minRealtime.timer.startAt(Long.MIN_VALUE));
            final Probe epoch = new Probe(h.rt, TimerClock.REALTIME);
            assertStatus(OK, epoch.timer.startAt(0));
            Modes.await("startAt(Long.MIN_VALUE) fires", min.first);
            Modes.await("REALTIME startAt(Long.MIN_VALUE) fires", minRealtime.first);
            Modes.await("REALTIME startAt(0) fires", epoch.first);
        }
    }

    @Modes.AllModes
    void realtimeNeverFiresBeforeTheWallClockDeadline(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final Probe abs = new Probe(h.rt, TimerClock.REALTIME);
            final long deadlineMillis = System.currentTimeMillis() + 40;
            assertStatus(OK, abs.timer.startAt(deadlineMillis * MS));
            final Probe rel = new Probe(h.rt, TimerClock.REALTIME);
            final long relCalledMillis = System.currentTimeMillis();
            assertStatus(OK, rel.timer.start(25, TimeUnit.MILLISECONDS));
            final Probe past = new Probe(h.rt, TimerClock.REALTIME);
            assertStatus(OK, past.timer.startAt((System.currentTimeMillis() - 1_000) * MS));
            Modes.await("REALTIME absolute", abs.first);
            Modes.await("REALTIME relative", rel.first);
            Modes.await("REALTIME past", past.first);
            assertTrue(abs.lastMillis.get() >= deadlineMillis,
                "fired at " + abs.lastMillis.get() + " ms, before the epoch deadline " + deadlineMillis);
            assertTrue(rel.lastMillis.get() >= relCalledMillis + 25, "REALTIME relative start fired early");
            Modes.pause(30);
            assertEquals(1, abs.runs.get());
            assertEquals(1, rel.runs.get());
            assertEquals(1, past.runs.get());
        }
    }

    // ----------------------------------------------------------------------- last command wins

    @Modes.AllModes
    void manyReArmsEndWithTheLastDeadline(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final Probe p = new Probe(h.rt, TimerClock.MONOTONIC);
            for (int i = 0; i < 10_000; i++) {
                assertStatus(OK, p.timer.start(TimeUnit.SECONDS.toNanos(10) + i), "single publisher: never BUSY");
            }
            final long lastCall = System.nanoTime();
            assertStatus(OK, p.timer.start(50 * MS));
            Modes.await("fires at the last deadline", p.first);
            assertTrue(p.lastNanos.get() - lastCall >= 50 * MS, "fired before the last deadline");
            Modes.pause(50);
            assertEquals(1, p.runs.get(), "the superseded deadlines never fire");
            assertFalse(p.timer.isArmed());

            // Re-arming to ever later deadlines (an idle timeout touched on every read).
            final Probe idle = new Probe(h.rt, TimerClock.MONOTONIC);
            long maxGap = 0;
            long prev = System.nanoTime();
            long lastArm = prev;
            for (int i = 0; i < 10_000; i++) {
                assertStatus(OK, idle.timer.start(100 * MS));
                lastArm = System.nanoTime();
                maxGap = Math.max(maxGap, lastArm - prev);
                prev = lastArm;
            }
            final long finalArm = lastArm;
            // every fire is a legitimate one; the last must come from the last arm, not before it
            Modes.await("the last arm fires", () -> idle.lastNanos.get() - finalArm >= 100 * MS);
            Modes.pause(20);
            if (maxGap < 100 * MS) {
                // no re-arm came later than the previous deadline, so nothing could expire before the end
                assertEquals(1, idle.runs.get(), "re-armed timeout fired more than once");
            }
        }
    }

    @Modes.AllModes
    void cancelAsyncAfterStartMeansNoFire(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final Probe cancelled = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, cancelled.timer.start(20 * MS));
            assertStatus(OK, cancelled.timer.cancelAsync());
            final Probe cancelledZero = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, cancelledZero.timer.start(0));
            assertStatus(OK, cancelledZero.timer.cancelAsync());
            final Probe restarted = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, restarted.timer.start(TimeUnit.SECONDS.toNanos(30)));
            assertStatus(OK, restarted.timer.cancelAsync());
            final long restartCall = System.nanoTime();
            assertStatus(OK, restarted.timer.start(10 * MS));
            Modes.await("start after cancelAsync fires", restarted.first);
            assertTrue(restarted.lastNanos.get() - restartCall >= 10 * MS);
            Modes.pause(320);
            assertEquals(0, cancelled.runs.get(), "cancelAsync after start: no fire");
            assertFalse(cancelled.timer.isArmed());
            // start(0) may be applied and fire before the cancel is published: at most once
            assertTrue(cancelledZero.runs.get() <= 1);
            assertEquals(1, restarted.runs.get());
        }
    }

    @Test
    @Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
    void deferredModeCoalescesReArms() throws Exception {
        try (Modes.Harness h = Modes.open(DispatchMode.DEFERRED)) {
            final Probe p = new Probe(h.rt, TimerClock.MONOTONIC);
            final long before = h.rt.stats().commandsPublished();
            for (int i = 0; i < 10_000; i++) {
                assertStatus(OK, p.timer.start(TimeUnit.SECONDS.toNanos(30)));
            }
            assertStatus(OK, p.timer.cancelAsync());
            h.awaitClaimed(before + 10_001);
            assertTrue(h.rt.stats().commandsSuperseded() > 0,
                "10k back-to-back re-arms were applied one by one: " + h.rt.stats());
            assertEquals(0, p.runs.get());
        }
    }

    /** With a hand-driven drain the coalescing is exact: only the last of three commands is applied. */
    @Test
    void hostDrivenDrainAppliesOnlyTheLastCommand() throws Exception {
        try (Modes.Harness h = Modes.manual(b -> { })) {
            final Probe p = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, p.timer.start(0));
            assertStatus(OK, p.timer.startAt(System.nanoTime() - 1));
            assertStatus(OK, p.timer.start(TimeUnit.SECONDS.toNanos(30)));
            assertFalse(p.timer.isArmed(), "nothing applied before the drain");
            assertEquals(1, h.rt.drain());
            assertEquals(3, h.rt.stats().commandsPublished());
            assertEquals(2, h.rt.stats().commandsSuperseded());
            assertTrue(p.timer.isArmed());
            assertTrue(p.timer.deadline() - System.nanoTime() > TimeUnit.SECONDS.toNanos(20), "the last deadline won");
            Modes.pause(30);
            assertEquals(0, p.runs.get(), "the superseded start(0) never fired");

            assertStatus(OK, p.timer.cancelAsync());
            assertEquals(1, h.rt.drain());
            assertEquals(0, h.rt.drain(), "a block is queued once per batch");
            assertEquals(4, h.rt.stats().commandsPublished());
            assertEquals(2, h.rt.stats().commandsSuperseded());
            assertFalse(p.timer.isArmed());

            final long call = System.nanoTime();
            assertStatus(OK, p.timer.start(5 * MS));
            assertTrue(h.rt.drain() >= 1, "the block drained (the wheel may also count a bucket it re-filed)");
            // on the wheel the timer fires inside a later drain(): the host's duty cycle
            final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(Modes.WAIT_SECONDS);
            while (p.first.getCount() > 0 && System.nanoTime() < until) {
                h.rt.drain();
                Thread.onSpinWait();
            }
            Modes.await("fires after a hand drain", p.first);
            assertTrue(p.lastNanos.get() - call >= 5 * MS);
        }
    }

    // ---------------------------------------------------------------------- calls from callback

    @Modes.AllModes
    void periodicSelfReArmRunsTenTimes(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger runs = new AtomicInteger();
            final List<Long> times = new CopyOnWriteArrayList<>();
            final List<Integer> rearm = new CopyOnWriteArrayList<>();
            final CountDownLatch ten = new CountDownLatch(10);
            final AsyncTimer<Object> t = ready(h.rt, (o, tm) -> {
                times.add(System.nanoTime());
                if (runs.incrementAndGet() < 10) {
                    rearm.add(tm.start(2 * MS));
                }
                ten.countDown();
            });
            assertStatus(OK, t.start(0));
            Modes.await("ten periodic runs", ten);
            Modes.pause(30);
            assertEquals(10, runs.get(), "stops after the tenth run");
            for (final int r : rearm) {
                assertStatus(OK, r);
            }
            for (int i = 1; i < times.size(); i++) {
                assertTrue(times.get(i) - times.get(i - 1) >= 2 * MS, "period respected at run " + i);
            }
            assertFalse(t.isArmed());
        }
    }

    @Modes.AllModes
    void setCallbackFromWithinTheCallback(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger a = new AtomicInteger();
            final AtomicInteger b = new AtomicInteger();
            final CountDownLatch bRan = new CountDownLatch(1);
            final AtomicInteger results = new AtomicInteger(Integer.MIN_VALUE);
            final TimerCallback<Object> second = (o, tm) -> {
                b.incrementAndGet();
                bRan.countDown();
            };
            final AsyncTimer<Object> t = ready(h.rt, (o, tm) -> {
                a.incrementAndGet();
                final int s1 = tm.setCallback(second);
                final int s2 = tm.start(1 * MS);
                results.set(s1 == OK && s2 == OK ? OK : Math.min(s1, s2));
            });
            assertStatus(OK, t.start(0));
            Modes.await("new callback runs", bRan);
            Modes.pause(20);
            assertStatus(OK, results.get());
            assertEquals(1, a.get());
            assertEquals(1, b.get());
        }
    }

    @Modes.AllModes
    void closeFromWithinTheCallback(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final int[] inside = new int[5];
            final boolean[] initialized = new boolean[1];
            final AtomicInteger runs = new AtomicInteger();
            final CountDownLatch ran = new CountDownLatch(1);
            final AsyncTimer<Object> t = ready(h.rt, (o, tm) -> {
                runs.incrementAndGet();
                inside[0] = tm.start(0);           // re-armed first: close must cancel it
                inside[1] = tm.close();
                inside[2] = tm.start(0);
                inside[3] = tm.cancelAsync();
                inside[4] = tm.setCallback((x, y) -> runs.addAndGet(100));
                initialized[0] = tm.isInitialized();
                ran.countDown();
            });
            assertStatus(OK, t.start(0));
            Modes.await("callback ran", ran);
            Modes.pause(30);
            assertStatus(OK, inside[0]);
            assertStatus(OK, inside[1]);
            assertStatus(NOT_INITIALIZED, inside[2]);
            assertStatus(NOT_INITIALIZED, inside[3]);
            assertStatus(NOT_INITIALIZED, inside[4]);
            assertFalse(initialized[0]);
            assertEquals(1, runs.get(), "the re-arm before close never fired");
            // the cell is reusable
            final CountDownLatch again = new CountDownLatch(1);
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(OK, t.setCallback((o, tm) -> again.countDown()));
            assertStatus(OK, t.start(0));
            Modes.await("re-initialized cell fires", again);
        }
    }

    @Modes.AllModes
    void cancelAsyncFromWithinTheCallback(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger runs = new AtomicInteger();
            final int[] inside = new int[2];
            final CountDownLatch ran = new CountDownLatch(1);
            final AsyncTimer<Object> t = ready(h.rt, (o, tm) -> {
                runs.incrementAndGet();
                inside[0] = tm.start(5 * MS);
                inside[1] = tm.cancelAsync();
                ran.countDown();
            });
            assertStatus(OK, t.start(0));
            Modes.await("callback ran", ran);
            Modes.pause(60);
            assertStatus(OK, inside[0]);
            assertStatus(OK, inside[1]);
            assertEquals(1, runs.get(), "the re-arm was cancelled");
        }
    }

    // ------------------------------------------------------------------------- failing callback

    @Modes.AllModes
    void throwingCallbackGoesToTheErrorHandlerAndTheTimerStaysUsable(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final RuntimeException boom = new IllegalStateException("boom");
            final AssertionError error = new AssertionError("an Error subclass");
            final AtomicInteger runs = new AtomicInteger();
            final AsyncTimer<Object> t = ready(h.rt, (o, tm) -> {
                final int n = runs.incrementAndGet();
                if (n == 1) {
                    throw boom;
                }
                if (n == 2) {
                    throw error;
                }
                if (n == 3) {
                    throw new Exception("checked");
                }
            });
            for (int i = 1; i <= 4; i++) {
                final int expected = i;
                assertStatus(OK, t.start(0), "re-arm after a failure, run " + i);
                Modes.await("run " + i, () -> runs.get() >= expected);
            }
            Modes.await("three errors reported", () -> h.errors.size() >= 3);
            assertSame(boom, h.errors.get(0));
            assertSame(error, h.errors.get(1));
            assertEquals("checked", h.errors.get(2).getMessage());
            Modes.pause(20);
            assertEquals(3, h.errors.size(), "the normal run reported nothing");
            assertEquals(3, h.rt.stats().callbackErrors());
            assertEquals(4, runs.get());
        }
    }

    @Modes.AllModes
    void throwingErrorHandlerBreaksNothing(final DispatchMode mode) throws Exception {
        final AtomicInteger handled = new AtomicInteger();
        try (Modes.Harness h = Modes.open(mode, b -> b.errorHandler(e -> {
            handled.incrementAndGet();
            throw new IllegalStateException("the handler itself fails");
        }))) {
            final AtomicInteger runs = new AtomicInteger();
            final AsyncTimer<Object> t = ready(h.rt, (o, tm) -> {
                runs.incrementAndGet();
                throw new RuntimeException("callback fails");
            });
            for (int i = 1; i <= 3; i++) {
                final int expected = i;
                assertStatus(OK, t.start(0));
                Modes.await("run " + i, () -> runs.get() >= expected && handled.get() >= expected);
            }
            assertEquals(3, h.rt.stats().callbackErrors());
            // the dispatcher and the scheduler thread are still alive: another timer still works
            final Probe other = new Probe(h.rt, TimerClock.MONOTONIC);
            assertStatus(OK, other.timer.start(1 * MS));
            Modes.await("another timer fires", other.first);
        }
    }
}
