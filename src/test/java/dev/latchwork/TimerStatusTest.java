package dev.latchwork;

import static dev.latchwork.AsyncStatus.BUSY;
import static dev.latchwork.AsyncStatus.CLOSED;
import static dev.latchwork.AsyncStatus.DEAD;
import static dev.latchwork.AsyncStatus.DEADLOCK;
import static dev.latchwork.AsyncStatus.INVALID_ARGUMENT;
import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.NO_CALLBACK;
import static dev.latchwork.AsyncStatus.OK;
import static dev.latchwork.AsyncStatus.WAS_PENDING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * Every status of every {@link AsyncTimer} operation, in every {@link DispatchMode}.
 * Statuses are compared with {@link AsyncStatus#name(int)} so a failure reads as names.
 */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class TimerStatusTest {
    private static final TimerCallback<Object> NOOP = (o, t) -> { };
    private static final long LONG_DELAY = TimeUnit.SECONDS.toNanos(30);

    static void assertStatus(final int expected, final int actual) {
        assertEquals(AsyncStatus.name(expected), AsyncStatus.name(actual));
    }

    static void assertStatus(final int expected, final int actual, final String msg) {
        assertEquals(AsyncStatus.name(expected), AsyncStatus.name(actual), msg);
    }

    static AsyncTimer<Object> ready(final AsyncRuntime rt, final TimerCallback<Object> cb) {
        final AsyncTimer<Object> t = new AsyncTimer<>();
        assertStatus(OK, t.init(rt, new Object(), TimerClock.MONOTONIC));
        assertStatus(OK, t.setCallback(cb));
        return t;
    }

    // ---------------------------------------------------------------------------------- init

    @Modes.AllModes
    void initOkThenBusy(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertFalse(t.isInitialized());
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertTrue(t.isInitialized());
            assertStatus(BUSY, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(BUSY, t.init(h.rt, new Object(), TimerClock.REALTIME));
            assertTrue(t.isInitialized());
        }
    }

    @Modes.AllModes
    void racingInitsExactlyOneWins(final DispatchMode mode) throws Exception {
        final int threads = 4;
        try (Modes.Harness h = Modes.open(mode)) {
            for (int round = 0; round < 50; round++) {
                final AsyncTimer<Object> t = new AsyncTimer<>();
                final CyclicBarrier go = new CyclicBarrier(threads);
                final int[] results = new int[threads];
                final List<Thread> ts = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    final int id = i;
                    final Thread th = new Thread(() -> {
                        try {
                            go.await(Modes.WAIT_SECONDS, TimeUnit.SECONDS);
                        } catch (final Exception e) {
                            results[id] = Integer.MIN_VALUE;
                            return;
                        }
                        results[id] = t.init(h.rt, new Object(), TimerClock.MONOTONIC);
                    });
                    th.start();
                    ts.add(th);
                }
                for (final Thread th : ts) {
                    th.join();
                }
                int ok = 0;
                for (final int r : results) {
                    if (r == OK) {
                        ok++;
                    } else {
                        assertStatus(BUSY, r, "round " + round);
                    }
                }
                assertEquals(1, ok, "exactly one init wins, round " + round);
                assertStatus(OK, t.close());
            }
        }
    }

    @Modes.AllModes
    void initOnClosedRuntimeIsClosed(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            h.rt.close();
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertStatus(CLOSED, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertFalse(t.isInitialized(), "a CLOSED init leaves nothing behind");
        }
    }

    @Modes.AllModes
    void initRejectsEveryNull(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertStatus(INVALID_ARGUMENT, t.init(null, new Object(), TimerClock.MONOTONIC));
            assertStatus(INVALID_ARGUMENT, t.init(h.rt, null, TimerClock.MONOTONIC));
            assertStatus(INVALID_ARGUMENT, t.init(h.rt, new Object(), null));
            assertFalse(t.isInitialized());
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
        }
    }

    // --------------------------------------------------------------------------- setCallback

    @Modes.AllModes
    void setCallbackStatuses(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertStatus(NOT_INITIALIZED, t.setCallback(NOOP));
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(INVALID_ARGUMENT, t.setCallback(null));
            assertStatus(NO_CALLBACK, t.start(LONG_DELAY), "a null setCallback installs nothing");
            assertStatus(OK, t.setCallback(NOOP));
            assertStatus(OK, t.setCallback(NOOP), "replacing is fine");
            assertStatus(OK, t.close());
            assertStatus(NOT_INITIALIZED, t.setCallback(NOOP), "after the cell's close");
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            h.rt.close();
            assertStatus(CLOSED, t.setCallback(NOOP), "after the runtime's close");
        }
    }

    // --------------------------------------------------------------------------------- start

    @Modes.AllModes
    void startStatuses(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertStatus(NOT_INITIALIZED, t.start(LONG_DELAY), "before init");
            assertStatus(NOT_INITIALIZED, t.start(30, TimeUnit.SECONDS), "before init");
            assertStatus(NOT_INITIALIZED, t.startAt(System.nanoTime() + LONG_DELAY), "before init");

            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(NO_CALLBACK, t.start(LONG_DELAY));
            assertStatus(NO_CALLBACK, t.start(30, TimeUnit.SECONDS));
            assertStatus(NO_CALLBACK, t.startAt(System.nanoTime() + LONG_DELAY));

            assertStatus(OK, t.setCallback(NOOP));
            assertStatus(INVALID_ARGUMENT, t.start(-1));
            assertStatus(INVALID_ARGUMENT, t.start(Long.MIN_VALUE));
            assertStatus(INVALID_ARGUMENT, t.start(-1, TimeUnit.MILLISECONDS));
            assertStatus(INVALID_ARGUMENT, t.start(1, null));
            assertStatus(OK, t.start(LONG_DELAY));
            assertStatus(OK, t.start(0));
            assertStatus(OK, t.start(30, TimeUnit.SECONDS));
            assertStatus(OK, t.startAt(System.nanoTime() + LONG_DELAY));

            assertStatus(OK, t.close());
            assertStatus(NOT_INITIALIZED, t.start(LONG_DELAY), "after the cell's close");
            assertStatus(NOT_INITIALIZED, t.start(30, TimeUnit.SECONDS), "after the cell's close");
            assertStatus(NOT_INITIALIZED, t.startAt(System.nanoTime() + LONG_DELAY), "after the cell's close");

            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(OK, t.setCallback(NOOP));
            h.rt.close();
            assertStatus(CLOSED, t.start(LONG_DELAY), "after the runtime's close");
            assertStatus(CLOSED, t.start(30, TimeUnit.SECONDS), "after the runtime's close");
            assertStatus(CLOSED, t.startAt(System.nanoTime() + LONG_DELAY), "after the runtime's close");
        }
    }

    /**
     * {@code DEAD} is answered by a publisher that read the cell's control block just before a
     * concurrent {@code close()} detached it. Through the public API that is a race (the window is
     * between the publisher's read of the cell and its refcount check), so it cannot be reached
     * deterministically from outside: a start that begins after {@code close()} returned reads an
     * empty cell and answers {@code NOT_INITIALIZED}. This test opens the window by hand (it is in
     * the library's package): it holds the block as such a publisher would, closes the cell and
     * then publishes on the stale block.
     */
    @Modes.AllModes
    void deadIsAnsweredOnADetachedBlock(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger fired = new AtomicInteger();
            final AsyncTimer<Object> t = ready(h.rt, (o, tm) -> fired.incrementAndGet());
            final ControlBlock stale = t.block;
            assertStatus(OK, t.close());
            assertStatus(DEAD, stale.publish(ControlBlock.OP_START, 0, true));
            assertStatus(DEAD, stale.publish(ControlBlock.OP_START_AT, 0, true));
            assertStatus(DEAD, stale.publish(ControlBlock.OP_CANCEL, 0, false));
            assertStatus(NOT_INITIALIZED, t.start(0), "the cell itself is simply empty");
            // a fresh block on the same cell is unaffected by the dead one
            final CountDownLatch fresh = new CountDownLatch(1);
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(OK, t.setCallback((o, tm) -> fresh.countDown()));
            assertStatus(DEAD, stale.publish(ControlBlock.OP_START, 0, true));
            assertStatus(OK, t.start(0));
            Modes.await("fresh block fires", fresh);
            assertEquals(0, fired.get(), "the dead block's callback never ran");
        }
    }

    /**
     * Black-box side of DEAD: with a close racing the starts, DEAD may appear (and only the
     * documented statuses do); without any close, DEAD never appears.
     */
    @Modes.AllModes
    void deadOnlyWhenACloseRaces(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncTimer<Object> t = ready(h.rt, NOOP);
            final Set<String> withClose = ConcurrentHashMap.newKeySet();
            final Thread closer = new Thread(() -> {
                for (int i = 0; i < 3_000; i++) {
                    t.close();
                    t.init(h.rt, new Object(), TimerClock.MONOTONIC);
                    t.setCallback(NOOP);
                }
            });
            closer.start();
            while (closer.isAlive()) {
                withClose.add(AsyncStatus.name(t.start(LONG_DELAY)));
                withClose.add(AsyncStatus.name(t.cancelAsync()));
            }
            closer.join();
            assertTrue(Set.of("OK", "BUSY", "NOT_INITIALIZED", "NO_CALLBACK", "DEAD").containsAll(withClose),
                "only documented statuses with a racing close: " + withClose);

            t.close();
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(OK, t.setCallback(NOOP));
            final Set<String> noClose = ConcurrentHashMap.newKeySet();
            final Thread other = new Thread(() -> {
                for (int i = 0; i < 20_000; i++) {
                    noClose.add(AsyncStatus.name(t.start(LONG_DELAY)));
                }
            });
            other.start();
            for (int i = 0; i < 20_000; i++) {
                noClose.add(AsyncStatus.name(t.start(LONG_DELAY)));
                noClose.add(AsyncStatus.name(t.cancelAsync()));
            }
            other.join();
            assertTrue(Set.of("OK", "BUSY").containsAll(noClose), "without a close, never DEAD: " + noClose);
        }
    }

    // --------------------------------------------------------------------------- cancelAsync

    @Modes.AllModes
    void cancelAsyncStatuses(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertStatus(NOT_INITIALIZED, t.cancelAsync());
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(OK, t.cancelAsync(), "no callback needed, nothing armed");
            assertStatus(OK, t.setCallback(NOOP));
            assertStatus(OK, t.start(LONG_DELAY));
            assertStatus(OK, t.cancelAsync());
            assertStatus(OK, t.cancelAsync(), "twice");
            assertStatus(OK, t.start(LONG_DELAY), "cancelAsync keeps the callback");
            assertStatus(OK, t.close());
            assertStatus(NOT_INITIALIZED, t.cancelAsync());
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            h.rt.close();
            assertStatus(CLOSED, t.cancelAsync());
        }
    }

    // -------------------------------------------------------------------------------- cancel

    @Modes.AllModes
    void cancelWasPendingWhenArmedEvenRightAfterStart(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncTimer<Object> t = ready(h.rt, NOOP);
            // Long enough (bounded by time) to land the cancel while a drain applies the start,
            // between its claim and its apply: that window once answered OK.
            final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(400);
            for (int i = 0; i < 200_000 && (i < 500 || System.nanoTime() - end < 0); i++) {
                assertStatus(OK, t.setCallback(NOOP));
                assertStatus(OK, t.start(LONG_DELAY));
                for (int spin = i & 63; spin > 0; spin--) {
                    Thread.onSpinWait();
                }
                assertStatus(WAS_PENDING, t.cancel(), "start then cancel at once, iteration " + i);
            }
            // armed and applied
            assertStatus(OK, t.setCallback(NOOP));
            assertStatus(OK, t.start(LONG_DELAY));
            Modes.await("armed", t::isArmed);
            assertStatus(WAS_PENDING, t.cancel());
            // isArmed() reports the applied state, which may lag the cancel by a drain
            Modes.await("disarmed after cancel", () -> !t.isArmed());
        }
    }

    @Modes.AllModes
    void cancelOkWhenNotArmedAndClearsTheCallback(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertStatus(NOT_INITIALIZED, t.cancel());
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(OK, t.cancel(), "never armed, no callback");
            final CountDownLatch fired = new CountDownLatch(1);
            assertStatus(OK, t.setCallback((o, tm) -> fired.countDown()));
            assertStatus(OK, t.cancel(), "never armed");
            assertStatus(NO_CALLBACK, t.start(0), "cancel cleared the callback");
            assertStatus(NO_CALLBACK, t.startAt(0));
            assertStatus(OK, t.cancelAsync(), "cancelAsync needs no callback");

            assertStatus(OK, t.setCallback((o, tm) -> fired.countDown()));
            assertStatus(OK, t.start(0));
            Modes.await("fires", fired);
            Modes.await("disarmed after firing", () -> !t.isArmed());
            assertStatus(OK, t.cancel(), "already fired");
            assertStatus(NO_CALLBACK, t.start(0));

            assertStatus(OK, t.close());
            assertStatus(NOT_INITIALIZED, t.cancel());
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            h.rt.close();
            assertStatus(CLOSED, t.cancel());
        }
    }

    @Modes.AllModes
    void cancelFromOwnCallbackIsDeadlock(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger cancelResult = new AtomicInteger(Integer.MIN_VALUE);
            final AtomicInteger restartResult = new AtomicInteger(Integer.MIN_VALUE);
            final AtomicInteger runs = new AtomicInteger();
            final CountDownLatch twice = new CountDownLatch(2);
            final AsyncTimer<Object> t = ready(h.rt, (o, tm) -> {
                if (runs.incrementAndGet() == 1) {
                    cancelResult.set(tm.cancel());
                    restartResult.set(tm.start(0));
                }
                twice.countDown();
            });
            assertStatus(OK, t.start(0));
            Modes.await("re-armed after DEADLOCK", twice);
            assertStatus(DEADLOCK, cancelResult.get());
            assertStatus(OK, restartResult.get(), "DEADLOCK leaves the callback in place");
        }
    }

    /**
     * Two timers on a two-thread scheduler whose callbacks run at the same time and cancel each
     * other: the kernel's {@code cancelling} rule gives DEADLOCK to at least one side and no
     * thread hangs.
     */
    @Modes.AllModes
    void mutualCancelFromCallbacksNeverHangs(final DispatchMode mode) throws Exception {
        final ScheduledThreadPoolExecutor two = new ScheduledThreadPoolExecutor(2);
        try (Modes.Harness h = Modes.open(mode, b -> b.timerScheduler(two))) {
            h.own(two);
            for (int round = 0; round < 5; round++) {
                final CyclicBarrier both = new CyclicBarrier(2);
                final AtomicReference<AsyncTimer<Object>> ra = new AtomicReference<>();
                final AtomicReference<AsyncTimer<Object>> rb = new AtomicReference<>();
                final AtomicInteger resA = new AtomicInteger(Integer.MIN_VALUE);
                final AtomicInteger resB = new AtomicInteger(Integer.MIN_VALUE);
                final CountDownLatch done = new CountDownLatch(2);
                ra.set(ready(h.rt, (o, tm) -> {
                    both.await(Modes.WAIT_SECONDS, TimeUnit.SECONDS);
                    resA.set(rb.get().cancel());
                    done.countDown();
                }));
                rb.set(ready(h.rt, (o, tm) -> {
                    both.await(Modes.WAIT_SECONDS, TimeUnit.SECONDS);
                    resB.set(ra.get().cancel());
                    done.countDown();
                }));
                final long at = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
                assertStatus(OK, ra.get().startAt(at));
                assertStatus(OK, rb.get().startAt(at));
                Modes.await("both callbacks return", done);
                assertTrue(resA.get() == DEADLOCK || resB.get() == DEADLOCK,
                    "at least one side gets DEADLOCK: " + AsyncStatus.name(resA.get()) + ", "
                        + AsyncStatus.name(resB.get()));
                for (final int r : new int[] {resA.get(), resB.get()}) {
                    assertTrue(r == DEADLOCK || r == OK || r == WAS_PENDING, AsyncStatus.name(r));
                }
                assertTrue(h.errors.isEmpty(), h.errors.toString());
            }
        }
    }

    // --------------------------------------------------------------------------------- close

    @Modes.AllModes
    void closeStatuses(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertStatus(NOT_INITIALIZED, t.close(), "never initialized");
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(OK, t.close());
            assertFalse(t.isInitialized());
            assertStatus(NOT_INITIALIZED, t.close(), "second close");
            assertStatus(NOT_INITIALIZED, t.close(), "third close");

            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC), "re-init at once");
            assertStatus(OK, t.setCallback(NOOP));
            assertStatus(OK, t.start(LONG_DELAY));
            assertStatus(OK, t.close(), "close of an armed timer");

            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            h.rt.close();
            assertStatus(CLOSED, t.close(), "after the runtime's close");
            assertFalse(t.isInitialized(), "detached anyway");
            assertStatus(NOT_INITIALIZED, t.close());
        }
    }

    @Test
    void concurrentClosesExactlyOneWins() throws Exception {
        try (Modes.Harness h = Modes.open(DispatchMode.DEFERRED)) {
            for (int round = 0; round < 50; round++) {
                final AsyncTimer<Object> t = ready(h.rt, NOOP);
                assertStatus(OK, t.start(LONG_DELAY));
                final CyclicBarrier go = new CyclicBarrier(3);
                final AtomicInteger ok = new AtomicInteger();
                final List<Thread> ts = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    final Thread th = new Thread(() -> {
                        try {
                            go.await(Modes.WAIT_SECONDS, TimeUnit.SECONDS);
                        } catch (final Exception e) {
                            return;
                        }
                        final int r = t.close();
                        if (r == OK) {
                            ok.incrementAndGet();
                        } else {
                            assertStatus(NOT_INITIALIZED, r);
                        }
                    });
                    th.start();
                    ts.add(th);
                }
                for (final Thread th : ts) {
                    th.join();
                }
                assertEquals(1, ok.get(), "round " + round);
            }
        }
    }

    @Test
    void ownerAndTimerArePassedToTheCallback() throws Exception {
        try (Modes.Harness h = Modes.open(DispatchMode.DEFERRED)) {
            final Object owner = new Object();
            final AtomicReference<Object> seenOwner = new AtomicReference<>();
            final AtomicReference<Object> seenTimer = new AtomicReference<>();
            final CountDownLatch fired = new CountDownLatch(1);
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertStatus(OK, t.init(h.rt, owner, TimerClock.MONOTONIC));
            assertStatus(OK, t.setCallback((o, tm) -> {
                seenOwner.set(o);
                seenTimer.set(tm);
                fired.countDown();
            }));
            assertStatus(OK, t.start(0));
            Modes.await("fires", fired);
            assertSame(owner, seenOwner.get());
            assertSame(t, seenTimer.get());
        }
    }
}
