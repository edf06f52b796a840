package dev.latchwork;

import static dev.latchwork.AsyncStatus.BUSY;
import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.OK;
import static dev.latchwork.AsyncStatus.WAS_PENDING;
import static dev.latchwork.TimerStatusTest.assertStatus;
import static dev.latchwork.WorkStatusTest.ready;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * {@link AsyncWork} behaviour in every {@link DispatchMode}: one run per start, coalescing,
 * exclusivity, cancels and close. "Pending" and "running" states are made deterministic with a
 * {@link Modes.HeldExecutor} or a callback blocked on a latch, never with sleeps.
 */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class WorkBehaviourTest {

    @Modes.AllModesWheelOnly
    void startRunsTheCallbackOnce(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final Object owner = new Object();
            final AsyncWork<Object> w = new AsyncWork<>();
            final AtomicInteger runs = new AtomicInteger();
            final AtomicReference<Object> seenOwner = new AtomicReference<>();
            final AtomicReference<Object> seenWork = new AtomicReference<>();
            final CountDownLatch ran = new CountDownLatch(1);
            assertStatus(OK, w.init(h.rt, owner));
            assertStatus(OK, w.setCallback((o, x) -> {
                seenOwner.set(o);
                seenWork.set(x);
                runs.incrementAndGet();
                ran.countDown();
            }));
            assertStatus(OK, w.start());
            Modes.await("runs", ran);
            Modes.pause(30);
            assertEquals(1, runs.get());
            assertSame(owner, seenOwner.get());
            assertSame(w, seenWork.get());
            assertFalse(w.isPending());
            assertEquals(1, h.rt.stats().workRuns());
        }
    }

    @Modes.AllModesWheelOnly
    void startsWhilePendingCoalesceIntoOneRun(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.openHeld(mode)) {
            final AtomicInteger runs = new AtomicInteger();
            final AsyncWork<Object> w = ready(h.rt, (o, x) -> runs.incrementAndGet());
            for (int i = 0; i < 100; i++) {
                assertStatus(OK, w.start());
            }
            Modes.awaitApplied(w);
            assertEquals(1, h.held.submitted(), "one submission for 100 starts while pending");
            assertTrue(w.isPending());
            h.held.release();
            Modes.await("runs", () -> runs.get() >= 1);
            Modes.pause(30);
            assertEquals(1, runs.get(), "100 starts while pending coalesce into one run");
        }
    }

    @Modes.AllModesWheelOnly
    void startDuringARunQueuesExactlyOneMore(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            for (final int starts : new int[] {1, 200}) {
                final AtomicInteger runs = new AtomicInteger();
                final CountDownLatch entered = new CountDownLatch(1);
                final CountDownLatch gate = new CountDownLatch(1);
                final AsyncWork<Object> w = ready(h.rt, (o, x) -> {
                    if (runs.incrementAndGet() == 1) {
                        entered.countDown();
                        gate.await();
                    }
                });
                assertStatus(OK, w.start());
                Modes.await("first run entered", entered);
                for (int i = 0; i < starts; i++) {
                    assertStatus(OK, w.start());
                }
                Modes.awaitApplied(w);
                assertTrue(w.isPending(), "a run is queued behind the running one");
                assertEquals(1, runs.get(), "nothing runs beside the blocked run");
                gate.countDown();
                Modes.await("the queued run", () -> runs.get() >= 2);
                Modes.pause(30);
                assertEquals(2, runs.get(), starts + " starts during a run queue exactly one more");
                assertStatus(OK, w.close());
            }
        }
    }

    @Modes.AllModesWheelOnly
    void neverTwoRunsAtOnce(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger inside = new AtomicInteger();
            final AtomicInteger maxInside = new AtomicInteger();
            final AtomicInteger runs = new AtomicInteger();
            final long origin = System.nanoTime();
            final AtomicLong lastEntry = new AtomicLong(origin);
            final AsyncWork<Object> w = ready(h.rt, (o, x) -> {
                lastEntry.accumulateAndGet(System.nanoTime(), Math::max);
                final int now = inside.incrementAndGet();
                maxInside.accumulateAndGet(now, Math::max);
                runs.incrementAndGet();
                for (int i = 0; i < 200; i++) {
                    Thread.onSpinWait();
                }
                inside.decrementAndGet();
            });
            final int threads = 4;
            final CyclicBarrier go = new CyclicBarrier(threads);
            final AtomicLong lastCallBegin = new AtomicLong(origin);
            final AtomicReference<String> bad = new AtomicReference<>();
            final List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final Thread th = new Thread(() -> {
                    try {
                        go.await(Modes.WAIT_SECONDS, TimeUnit.SECONDS);
                    } catch (final Exception e) {
                        bad.set(e.toString());
                        return;
                    }
                    for (int i = 0; i < 3_000; i++) {
                        final int r = w.start();
                        if (r != OK && r != BUSY) {
                            bad.compareAndSet(null, AsyncStatus.name(r));
                        }
                    }
                    // a final start that surely got published (BUSY retried)
                    lastCallBegin.accumulateAndGet(System.nanoTime(), Math::max);
                    while (w.start() == BUSY) {
                        Thread.onSpinWait();
                    }
                });
                th.start();
                ts.add(th);
            }
            for (final Thread th : ts) {
                th.join();
            }
            assertEquals(null, bad.get());
            final long lastCall = lastCallBegin.get();
            Modes.await("a run begins after the last start", () -> lastEntry.get() - lastCall > 0);
            Modes.await("quiet", () -> !w.isPending() && inside.get() == 0);
            assertEquals(1, maxInside.get(), "two runs of one work cell overlapped");
            assertTrue(runs.get() >= 1);
            System.out.println("WorkBehaviourTest.neverTwoRunsAtOnce " + mode + ": " + runs.get() + " runs for "
                + (threads * 3_001) + " starts");
        }
    }

    @Modes.AllModesWheelOnly
    void cancelAsyncDropsAPendingRun(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.openHeld(mode)) {
            final AtomicInteger runs = new AtomicInteger();
            final AsyncWork<Object> w = ready(h.rt, (o, x) -> runs.incrementAndGet());
            assertStatus(OK, w.start());
            Modes.await("queued on the held executor", () -> h.held.heldCount() == 1);
            assertTrue(w.isPending());
            assertStatus(OK, w.cancelAsync());
            Modes.await("cancel applied", () -> !w.isPending());
            h.held.release();
            Modes.pause(30);
            assertEquals(0, runs.get(), "the dropped run never happened");

            h.held.hold();
            assertStatus(OK, w.start(), "the callback survives cancelAsync");
            Modes.await("queued again", w::isPending);
            h.held.release();
            Modes.await("runs", () -> runs.get() == 1);
            Modes.pause(30);
            assertEquals(1, runs.get(), "the stale task of the dropped run did not run it again");
        }
    }

    @Modes.AllModesWheelOnly
    void cancelWaitsForTheRunningCallback(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final CountDownLatch entered = new CountDownLatch(1);
            final CountDownLatch gate = new CountDownLatch(1);
            final AtomicBoolean exited = new AtomicBoolean();
            final AsyncWork<Object> w = ready(h.rt, (o, x) -> {
                entered.countDown();
                try {
                    gate.await();
                } finally {
                    exited.set(true);
                }
            });
            assertStatus(OK, w.start());
            Modes.await("running", entered);
            final AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
            final AtomicBoolean exitedWhenCancelReturned = new AtomicBoolean();
            final CountDownLatch cancelled = new CountDownLatch(1);
            final Thread canceller = new Thread(() -> {
                result.set(w.cancel());
                exitedWhenCancelReturned.set(exited.get());
                cancelled.countDown();
            });
            canceller.setDaemon(true);
            canceller.start();
            assertFalse(cancelled.await(100, TimeUnit.MILLISECONDS), "cancel() returned while the callback runs");
            gate.countDown();
            Modes.await("cancel returns after the callback", cancelled);
            assertTrue(exitedWhenCancelReturned.get(), "cancel() returned before the callback did");
            assertStatus(OK, result.get(), "nothing was queued behind the running callback");
        }
    }

    @Modes.AllModesWheelOnly
    void cancelDropsTheRunQueuedBehindARunningCallback(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger runs = new AtomicInteger();
            final CountDownLatch entered = new CountDownLatch(1);
            final CountDownLatch gate = new CountDownLatch(1);
            final AsyncWork<Object> w = ready(h.rt, (o, x) -> {
                runs.incrementAndGet();
                entered.countDown();
                gate.await();
            });
            assertStatus(OK, w.start());
            Modes.await("running", entered);
            assertStatus(OK, w.start());
            Modes.awaitApplied(w);
            final AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
            final Thread canceller = new Thread(() -> result.set(w.cancel()));
            canceller.start();
            Modes.await("cancel dropped the queued run", () -> !w.isPending());
            gate.countDown();
            canceller.join(TimeUnit.SECONDS.toMillis(Modes.WAIT_SECONDS));
            assertFalse(canceller.isAlive());
            assertStatus(WAS_PENDING, result.get());
            Modes.pause(30);
            assertEquals(1, runs.get(), "the queued run was dropped");
        }
    }

    @Modes.AllModesWheelOnly
    void closeDropsPendingAndQueuedRunsWithoutWaiting(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.openHeld(mode)) {
            final AtomicInteger runs = new AtomicInteger();
            final AsyncWork<Object> w = ready(h.rt, (o, x) -> runs.incrementAndGet());
            assertStatus(OK, w.start());
            Modes.await("pending", w::isPending);
            assertStatus(OK, w.close());
            h.held.release();
            Modes.pause(30);
            assertEquals(0, runs.get(), "a run pending at close never happens");
            assertStatus(NOT_INITIALIZED, w.start());
        }
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger runs = new AtomicInteger();
            final CountDownLatch entered = new CountDownLatch(1);
            final CountDownLatch gate = new CountDownLatch(1);
            final AsyncWork<Object> w = ready(h.rt, (o, x) -> {
                runs.incrementAndGet();
                entered.countDown();
                gate.await();
            });
            assertStatus(OK, w.start());
            Modes.await("running", entered);
            assertStatus(OK, w.start());
            Modes.awaitApplied(w);
            assertStatus(OK, w.close(), "close never waits for the running callback");
            gate.countDown();
            Modes.pause(50);
            assertEquals(1, runs.get(), "the run queued behind the running one was dropped by close");
        }
    }

    @Modes.AllModesWheelOnly
    void selfRestartAndFailuresFromTheCallback(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger runs = new AtomicInteger();
            final CountDownLatch five = new CountDownLatch(5);
            final AsyncWork<Object> w = ready(h.rt, (o, x) -> {
                final int n = runs.incrementAndGet();
                five.countDown();
                if (n < 5) {
                    x.start();
                }
                if (n % 2 == 0) {
                    throw new IllegalStateException("run " + n);
                }
            });
            assertStatus(OK, w.start());
            Modes.await("five runs", five);
            Modes.pause(30);
            assertEquals(5, runs.get());
            Modes.await("errors reported", () -> h.errors.size() == 2);
            assertEquals(2, h.rt.stats().callbackErrors());
            assertStatus(OK, w.start(), "usable after failures");
            Modes.await("sixth run", () -> runs.get() == 6);
        }
    }
}
