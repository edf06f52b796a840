package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A runtime on a {@link ManualTimeSource} (issue 13 section 5, the test clock): HOST_DRIVEN, time
 * moves only when the test advances it, and timers fire inside the test's own {@code drain()}
 * calls, deterministically and with no sleeps. Every test here runs in real time well under a
 * second; no test sleeps.
 */
class ManualTimeSourceTest {
    /** The wheel's default tick: a timer fires in the first drain at least this long past its deadline at the latest. */
    static final long TICK = WheelBackend.DEFAULT_TICK_NANOS;
    static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    ManualTimeSource clock;
    AsyncRuntime rt;
    final List<Throwable> errors = new CopyOnWriteArrayList<>();
    /** Clock readings ({@code nanoTime}) at which a callback ran. */
    final List<Long> fires = new ArrayList<>();

    @BeforeEach
    void setUp() {
        clock = new ManualTimeSource();
        rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).timeSource(clock)
            .errorHandler(errors::add).build();
    }

    @AfterEach
    void tearDown() {
        rt.close();
        assertTrue(errors.isEmpty(), errors.toString());
    }

    /** Drains until there is nothing left to do, so commands published by callbacks apply at the same instant. */
    void drainAll() {
        for (int i = 0; i < 1000 && rt.drain() > 0; i++) {
            // again
        }
    }

    void advance(final long nanos) {
        clock.advance(nanos, TimeUnit.NANOSECONDS);
        drainAll();
    }

    AsyncTimer<Object> timer(final TimerClock c) {
        final AsyncTimer<Object> t = new AsyncTimer<>();
        assertEquals(AsyncStatus.OK, t.init(rt, this, c));
        assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> fires.add(clock.nanoTime())));
        return t;
    }

    // ------------------------------------------------------------------------------------------

    @Test
    void theClockItself() {
        final ManualTimeSource c = new ManualTimeSource();
        assertEquals(0, c.nanoTime());
        assertEquals(ManualTimeSource.DEFAULT_EPOCH_NANOS, c.epochNanos());
        assertEquals(java.time.Instant.parse("2026-01-01T00:00:00Z"),
            java.time.Instant.ofEpochSecond(0, ManualTimeSource.DEFAULT_EPOCH_NANOS));
        assertEquals(1_500_000_000L, c.advance(1_500, TimeUnit.MILLISECONDS));
        assertEquals(2_500_000_000L, c.advance(Duration.ofSeconds(1)));
        assertEquals(ManualTimeSource.DEFAULT_EPOCH_NANOS + 2_500_000_000L, c.epochNanos()); // both move
        assertEquals(ManualTimeSource.DEFAULT_EPOCH_NANOS + 2_500_000_000L - 3_600_000_000_000L,
            c.stepWall(-1, TimeUnit.HOURS));
        assertEquals(2_500_000_000L, c.nanoTime()); // a wall step leaves the monotonic clock alone
        c.stepWall(Duration.ofHours(2));
        assertEquals(ManualTimeSource.DEFAULT_EPOCH_NANOS + 2_500_000_000L + 3_600_000_000_000L, c.epochNanos());
        c.setEpochNanos(42);
        assertEquals(42, c.epochNanos());
        assertEquals(2_500_000_000L, c.nanoTime());
        assertThrows(IllegalArgumentException.class, () -> c.advance(-1, TimeUnit.NANOSECONDS));
        assertThrows(IllegalArgumentException.class, () -> c.advance(Duration.ofNanos(-1)));
        assertThrows(IllegalArgumentException.class, () -> c.advance(Long.MAX_VALUE, TimeUnit.NANOSECONDS));
        assertEquals(2_500_000_000L, c.nanoTime()); // a refused advance moves nothing
        assertThrows(NullPointerException.class, () -> c.advance(1, null));
        final ManualTimeSource d = new ManualTimeSource(-5, 7);
        assertEquals(-5, d.nanoTime());
        assertEquals(7, d.epochNanos());
    }

    @Test
    void advanceIsAtomicAcrossThreads() throws Exception {
        final ManualTimeSource c = new ManualTimeSource();
        final Thread[] ts = new Thread[4];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = new Thread(() -> {
                for (int k = 0; k < 10_000; k++) {
                    c.advance(1, TimeUnit.NANOSECONDS);
                }
            });
            ts[i].start();
        }
        for (final Thread t : ts) {
            t.join();
        }
        assertEquals(40_000, c.nanoTime());
        assertEquals(ManualTimeSource.DEFAULT_EPOCH_NANOS + 40_000, c.epochNanos());
    }

    @Test
    void aManualSourceNeedsHostDrivenAndTheWheel() {
        final ManualTimeSource c = new ManualTimeSource();
        for (final DispatchMode m : new DispatchMode[] {DispatchMode.DEFERRED, DispatchMode.INLINE}) {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AsyncRuntime.builder().dispatchMode(m).timeSource(c).build());
            assertTrue(e.getMessage().contains("HOST_DRIVEN"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> AsyncRuntime.builder().timeSource(c).build()); // DEFERRED by default
        final ScheduledExecutorService ses = Executors.newSingleThreadScheduledExecutor();
        try {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).timeSource(c)
                    .timerScheduler(ses).build());
            assertTrue(e.getMessage().contains("wheel"), e.getMessage());
            // the system source goes with everything
            try (AsyncRuntime a = AsyncRuntime.builder().timeSource(TimeSource.system()).timerScheduler(ses).build();
                 AsyncRuntime b = AsyncRuntime.create()) {
                assertSame(TimeSource.system(), a.timeSource());
                assertSame(TimeSource.system(), b.timeSource());
                assertTrue(a.systemClock && b.systemClock);
            }
        } finally {
            ses.shutdownNow();
        }
        assertThrows(NullPointerException.class, () -> AsyncRuntime.builder().timeSource(null));
        assertSame(clock, rt.timeSource());
        assertFalse(rt.systemClock);
        final long a = System.nanoTime();
        final long s = TimeSource.system().nanoTime();
        assertTrue(s - a >= 0 && s - a < SECOND);
        final long wall = TimeSource.system().epochNanos();
        assertTrue(Math.abs(wall - System.currentTimeMillis() * 1_000_000L) < SECOND);
        assertEquals(0, wall % 1_000_000L); // the floor of the millisecond
    }

    @Test
    void nothingBeforeTheDeadlineThenExactlyOnce() {
        final AsyncTimer<Object> t = timer(TimerClock.MONOTONIC);
        assertEquals(AsyncStatus.OK, t.start(Duration.ofSeconds(30)));
        drainAll(); // applied at nanoTime 0: deadline 30 s
        assertTrue(t.isArmed());
        assertEquals(30 * SECOND, t.deadline());
        advance(30 * SECOND - 1);
        assertEquals(List.of(), fires);
        assertTrue(t.isArmed());
        advance(1 + TICK); // past the deadline by at most a tick: fires in this drain
        assertEquals(List.of(30 * SECOND + TICK), fires);
        assertFalse(t.isArmed());
        advance(TimeUnit.DAYS.toNanos(1));
        assertEquals(1, fires.size(), "one arm fires once");
        assertEquals(0, rt.stats().timersArmed());
        assertEquals(1, rt.stats().timersFired());
    }

    @Test
    void itFiresWithinOneTickOfItsDeadline() {
        final AsyncTimer<Object> t = timer(TimerClock.MONOTONIC);
        for (final long delay : new long[] {0, 1, TICK - 1, TICK, TICK + 1, 12_345_678, 7 * SECOND + 3}) {
            fires.clear();
            final long start = clock.nanoTime();
            assertEquals(AsyncStatus.OK, t.start(delay));
            drainAll();
            // step in quarter ticks: the fire comes in the first drain at or after the deadline
            // rounded up to the tick, never before the deadline
            while (fires.isEmpty()) {
                advance(TICK / 4);
                assertTrue(clock.nanoTime() - start <= delay + TICK + TICK / 4, "late: delay " + delay);
            }
            final long at = fires.get(0);
            assertTrue(at - start >= delay, "early: delay " + delay + " fired after " + (at - start));
        }
    }

    @Test
    void reArmMovesTheDeadline() {
        final AsyncTimer<Object> t = timer(TimerClock.MONOTONIC);
        t.start(10, TimeUnit.SECONDS);
        drainAll();
        advance(8 * SECOND);
        assertEquals(AsyncStatus.OK, t.start(10, TimeUnit.SECONDS)); // activity: 10 s from now (8 s)
        drainAll(); // a relative start counts from the drain that applies it: apply it now
        advance(5 * SECOND); // 13 s: past the first deadline
        assertEquals(List.of(), fires);
        assertEquals(18 * SECOND, t.deadline());
        t.start(1, TimeUnit.SECONDS); // earlier
        drainAll();
        advance(SECOND + TICK);
        assertEquals(List.of(14 * SECOND + TICK), fires);
        advance(10 * SECOND);
        assertEquals(1, fires.size());
    }

    @Test
    void aRelativeStartCountsFromTheDrainThatAppliesIt() {
        final AsyncTimer<Object> t = timer(TimerClock.MONOTONIC);
        t.start(10, TimeUnit.SECONDS); // published at 0, not applied yet
        clock.advance(3, TimeUnit.SECONDS);
        drainAll(); // applied at 3 s: due at 13 s (never early: at least 10 s after the call)
        assertEquals(13 * SECOND, t.deadline());
        advance(10 * SECOND - 1);
        assertEquals(List.of(), fires);
        advance(TICK + 1);
        assertEquals(1, fires.size());
    }

    @Test
    void cancelAsyncAndSyncCancel() {
        final AsyncTimer<Object> t = timer(TimerClock.MONOTONIC);
        t.start(Duration.ofSeconds(5));
        drainAll();
        advance(4 * SECOND);
        assertEquals(AsyncStatus.OK, t.cancelAsync());
        advance(TimeUnit.HOURS.toNanos(1));
        assertEquals(List.of(), fires);
        assertFalse(t.isArmed());

        t.start(Duration.ofSeconds(5));
        drainAll();
        assertEquals(AsyncStatus.WAS_PENDING, t.cancel()); // on the test thread: nothing is running, no wait
        advance(TimeUnit.HOURS.toNanos(1));
        assertEquals(List.of(), fires);
        assertEquals(AsyncStatus.NO_CALLBACK, t.start(1)); // a sync cancel clears the callback
        assertEquals(AsyncStatus.OK, t.close());
        assertEquals(0, rt.stats().timersArmed());
    }

    @Test
    void periodicReArmFromTheCallback() {
        final AsyncTimer<Object> t = new AsyncTimer<>();
        t.init(rt, this, TimerClock.MONOTONIC);
        t.setCallback((o, x) -> {
            fires.add(clock.nanoTime());
            x.start(1, TimeUnit.SECONDS); // applied by the next drain, at the same clock reading (drainAll)
        });
        t.start(1, TimeUnit.SECONDS);
        drainAll();
        final long ms = TimeUnit.MILLISECONDS.toNanos(1);
        for (int i = 0; i < 10_500; i++) {
            advance(ms);
        }
        assertEquals(10, fires.size(), fires.toString());
        long prev = 0;
        for (final long at : fires) {
            final long gap = at - prev;
            assertTrue(gap >= SECOND && gap <= SECOND + ms, "period " + gap);
            prev = at;
        }
    }

    @Test
    void periodicWithStartAtDoesNotDrift() {
        final AsyncTimer<Object> t = new AsyncTimer<>();
        t.init(rt, this, TimerClock.MONOTONIC);
        final long[] next = {rt.timeSource().nanoTime() + SECOND}; // startAt: on the source's nanoTime scale
        t.setCallback((o, x) -> {
            fires.add(clock.nanoTime());
            next[0] += SECOND;
            x.startAt(next[0]);
        });
        t.startAt(next[0]);
        for (int i = 0; i < 100; i++) {
            advance(100 * TimeUnit.MILLISECONDS.toNanos(1));
        }
        assertEquals(10, fires.size(), fires.toString()); // 1 s .. 10 s
        for (int k = 0; k < 10; k++) {
            assertEquals((k + 1) * SECOND, fires.get(k), "fire " + k); // each on the first 100 ms step at or past it
        }
    }

    @Test
    void realtimeStartAtHonoursAForwardWallStep() {
        final AsyncTimer<Object> t = timer(TimerClock.REALTIME);
        final long deadline = clock.epochNanos() + TimeUnit.HOURS.toNanos(1);
        assertEquals(AsyncStatus.OK, t.startAt(deadline));
        drainAll();
        assertEquals(deadline, t.deadline());
        advance(10 * SECOND);
        assertEquals(List.of(), fires);
        clock.stepWall(2, TimeUnit.HOURS); // NTP steps the wall clock past the deadline
        // looked at again within a second of monotonic time (a wall-clock deadline is re-checked
        // at least once a second), not after the hour
        for (int i = 0; i < 11 && fires.isEmpty(); i++) {
            advance(SECOND / 10);
        }
        assertEquals(1, fires.size());
        assertTrue(fires.get(0) <= 11 * SECOND + TICK, "fired at " + fires.get(0));
        advance(TimeUnit.HOURS.toNanos(2));
        assertEquals(1, fires.size());
    }

    @Test
    void realtimeStartAtWaitsOutABackwardWallStep() {
        final AsyncTimer<Object> t = timer(TimerClock.REALTIME);
        final long deadline = clock.epochNanos() + 10 * SECOND;
        t.startAt(deadline);
        drainAll();
        clock.stepWall(-1, TimeUnit.HOURS); // the deadline is now 1 h 10 s away on the wall clock
        advance(10 * SECOND + TICK);
        assertEquals(List.of(), fires, "never before the deadline on the wall clock");
        // step in 100 ms until the wall clock reaches the deadline: nothing fires before it
        while (clock.epochNanos() < deadline) {
            advance(SECOND / 10);
            if (clock.epochNanos() < deadline) {
                assertEquals(List.of(), fires);
            }
        }
        final long reached = clock.nanoTime();
        while (fires.isEmpty() && clock.nanoTime() - reached <= 2 * SECOND) {
            advance(SECOND / 10);
        }
        assertEquals(1, fires.size());
        assertTrue(fires.get(0) - reached <= SECOND + SECOND / 10, "noticed within about a second");
    }

    @Test
    void aRelativeStartOnARealtimeCellIgnoresWallSteps() {
        final AsyncTimer<Object> t = timer(TimerClock.REALTIME);
        t.start(Duration.ofSeconds(10));
        drainAll();
        assertEquals(clock.epochNanos() + 10 * SECOND, t.deadline()); // reported on the cell's (wall) clock
        clock.stepWall(1, TimeUnit.HOURS);
        advance(9 * SECOND);
        assertEquals(List.of(), fires, "a wall step does not move a relative start");
        clock.stepWall(-2, TimeUnit.HOURS);
        advance(SECOND + TICK);
        assertEquals(List.of(10 * SECOND + TICK), fires);
    }

    @Test
    void nanosUntilDueFollowsTheManualClock() {
        assertEquals(Long.MAX_VALUE, rt.nanosUntilDue());
        final AsyncTimer<Object> t = timer(TimerClock.MONOTONIC);
        t.start(Duration.ofSeconds(30));
        assertEquals(0, rt.nanosUntilDue(), "a command is queued");
        drainAll();
        final long first = rt.nanosUntilDue();
        assertTrue(first > 0 && first <= 30 * SECOND, "until due " + first);
        clock.advance(1, TimeUnit.SECONDS); // no drain: the answer moves with the clock alone
        assertEquals(first - SECOND, rt.nanosUntilDue());
        clock.advance(first - SECOND, TimeUnit.NANOSECONDS);
        assertEquals(0, rt.nanosUntilDue());
        // a host that sleeps exactly as long as it is told reaches the fire in a few hops
        int hops = 0;
        while (fires.isEmpty()) {
            assertTrue(++hops < 32, "too many hops");
            drainAll();
            if (fires.isEmpty()) {
                final long n = rt.nanosUntilDue();
                assertTrue(n != Long.MAX_VALUE, "armed but nothing due");
                clock.advance(Math.max(n, 1), TimeUnit.NANOSECONDS);
            }
        }
        assertTrue(fires.get(0) >= 30 * SECOND && fires.get(0) <= 30 * SECOND + TICK, "fired at " + fires.get(0));
        assertEquals(Long.MAX_VALUE, rt.nanosUntilDue());
    }

    @Test
    void maxValueMeansNever() {
        final AsyncTimer<Object> t = timer(TimerClock.MONOTONIC);
        final AsyncTimer<Object> w = timer(TimerClock.REALTIME);
        assertEquals(AsyncStatus.OK, t.start(Long.MAX_VALUE));
        assertEquals(AsyncStatus.OK, w.startAt(Long.MAX_VALUE));
        drainAll();
        assertFalse(t.isArmed());
        assertFalse(w.isArmed());
        assertEquals(Long.MAX_VALUE, rt.nanosUntilDue());
        t.start(Duration.ofSeconds(Long.MAX_VALUE)); // saturates: never
        t.startAt(Long.MAX_VALUE);
        drainAll();
        assertFalse(t.isArmed());
        advance(Long.MAX_VALUE / 2);
        advance(Long.MAX_VALUE / 4);
        assertEquals(List.of(), fires);
        assertEquals(Long.MAX_VALUE, rt.nanosUntilDue());
        // a huge but finite delay is armed, and due only that far away
        t.start(Long.MAX_VALUE / 8);
        drainAll();
        assertTrue(t.isArmed());
        assertTrue(rt.nanosUntilDue() > Long.MAX_VALUE / 16);
        advance(Long.MAX_VALUE / 8 - 1);
        assertEquals(List.of(), fires);
        advance(TICK + 1);
        assertEquals(1, fires.size());
    }

    @Test
    void aPastDeadlineFiresAtTheNextDrain() {
        final AsyncTimer<Object> t = timer(TimerClock.MONOTONIC);
        advance(5 * SECOND);
        t.startAt(SECOND); // already past on the source's scale
        drainAll();
        drainAll();
        assertEquals(List.of(5 * SECOND), fires);
        t.startAt(Long.MIN_VALUE);
        drainAll();
        drainAll();
        assertEquals(2, fires.size());
    }
}
