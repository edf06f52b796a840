package dev.latchwork;

import static dev.latchwork.AsyncStatus.CLOSED;
import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.OK;
import static dev.latchwork.TimerStatusTest.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * {@link AsyncRuntime#close()}: idempotent, callable from callbacks, leaves every cell answering
 * {@code CLOSED}, runs no callback once it returned, shuts down what it owns and only that.
 */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class RuntimeCloseTest {
    private static final long MS = 1_000_000L;

    @Modes.AllModes
    void closeIsIdempotentAndConcurrentClosesAllReturn(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            assertFalse(h.rt.isClosed());
            assertEquals(mode, h.rt.dispatchMode());
            final AsyncTimer<Object> t = TimerStatusTest.ready(h.rt, (o, x) -> { });
            assertStatus(OK, t.start(TimeUnit.SECONDS.toNanos(30)));
            final int threads = 3;
            final CyclicBarrier go = new CyclicBarrier(threads);
            final CountDownLatch returned = new CountDownLatch(threads);
            for (int i = 0; i < threads; i++) {
                final Thread th = new Thread(() -> {
                    try {
                        go.await(Modes.WAIT_SECONDS, TimeUnit.SECONDS);
                    } catch (final Exception e) {
                        return;
                    }
                    h.rt.close();
                    returned.countDown();
                });
                th.setDaemon(true);
                th.start();
            }
            Modes.await("every concurrent close returns", returned);
            assertTrue(h.rt.isClosed());
            h.rt.close();
            h.rt.close();
            assertTrue(h.rt.isClosed());
            assertEquals(0, h.rt.drain(), "drain after close does nothing");
            if (mode == DispatchMode.HOST_DRIVEN) {
                Modes.await("the host driver sees the close", () -> !h.driverAlive());
            }
        }
    }

    @Modes.AllModes
    void everyCellAnswersClosedAndNothingFiresAfterClose(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger timerRuns = new AtomicInteger();
            final AsyncTimer<Object> t = TimerStatusTest.ready(h.rt, (o, x) -> timerRuns.incrementAndGet());
            final AsyncTimer<Object> idle = new AsyncTimer<>();
            assertStatus(OK, idle.init(h.rt, new Object(), TimerClock.REALTIME));
            final AtomicInteger workRuns = new AtomicInteger();
            final AsyncWork<Object> w = WorkStatusTest.ready(h.rt, (o, x) -> workRuns.incrementAndGet());
            assertStatus(OK, t.start(30 * MS));
            h.rt.close();

            assertStatus(CLOSED, t.start(0));
            assertStatus(CLOSED, t.start(1, TimeUnit.MILLISECONDS));
            assertStatus(CLOSED, t.startAt(0));
            assertStatus(CLOSED, t.cancelAsync());
            assertStatus(CLOSED, t.cancel());
            assertStatus(CLOSED, t.setCallback((o, x) -> { }));
            assertStatus(CLOSED, idle.start(0));
            assertStatus(CLOSED, w.start());
            assertStatus(CLOSED, w.cancelAsync());
            assertStatus(CLOSED, w.cancel());
            assertStatus(CLOSED, w.setCallback((o, x) -> { }));
            assertStatus(CLOSED, new AsyncTimer<>().init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(CLOSED, new AsyncWork<>().init(h.rt, new Object()));

            Modes.pause(80);
            assertEquals(0, timerRuns.get(), "a timer armed before close never fires");
            assertEquals(0, workRuns.get());

            assertStatus(CLOSED, t.close());
            assertStatus(NOT_INITIALIZED, t.close());
            assertStatus(NOT_INITIALIZED, t.start(0), "once closed, the cell is simply uninitialized");
            assertStatus(CLOSED, idle.close());
            assertStatus(CLOSED, w.close());
            assertStatus(NOT_INITIALIZED, w.start());
            assertTrue(h.errors.isEmpty(), h.errors.toString());
        }
    }

    @Modes.AllModes
    void closeFromInsideATimerCallbackReturns(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final CountDownLatch returned = new CountDownLatch(1);
            final AtomicInteger afterClose = new AtomicInteger(Integer.MIN_VALUE);
            final AsyncTimer<Object> t = TimerStatusTest.ready(h.rt, (o, x) -> {
                h.rt.close();
                h.rt.close(); // idempotent from inside too
                afterClose.set(x.start(0));
                returned.countDown();
            });
            assertStatus(OK, t.start(0));
            Modes.await("close from a timer callback returns", returned);
            assertTrue(h.rt.isClosed());
            assertStatus(CLOSED, afterClose.get());
            h.rt.close(); // and from outside after it
        }
    }

    @Modes.AllModes
    void closeFromInsideAWorkCallbackReturns(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final CountDownLatch returned = new CountDownLatch(1);
            final AtomicInteger afterClose = new AtomicInteger(Integer.MIN_VALUE);
            final AsyncWork<Object> w = WorkStatusTest.ready(h.rt, (o, x) -> {
                h.rt.close();
                afterClose.set(x.start());
                returned.countDown();
            });
            assertStatus(OK, w.start());
            Modes.await("close from a work callback returns", returned);
            assertTrue(h.rt.isClosed());
            assertStatus(CLOSED, afterClose.get());
        }
    }

    /**
     * When {@code close()} returns no callback is running and none starts: timers re-arm
     * themselves with delay 0 and work items restart themselves, as fast as they can.
     */
    @Modes.AllModes
    void noCallbackRunsOnceCloseReturned(final DispatchMode mode) throws Exception {
        for (int round = 0; round < 10; round++) {
            try (Modes.Harness h = Modes.open(mode)) {
                final AtomicInteger inside = new AtomicInteger();
                final AtomicInteger runs = new AtomicInteger();
                final List<AsyncTimer<Object>> timers = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    final AsyncTimer<Object> t = TimerStatusTest.ready(h.rt, (o, x) -> {
                        inside.incrementAndGet();
                        runs.incrementAndGet();
                        x.start(0);
                        inside.decrementAndGet();
                    });
                    timers.add(t);
                    assertStatus(OK, t.start(0));
                }
                final AsyncWork<Object> w = WorkStatusTest.ready(h.rt, (o, x) -> {
                    inside.incrementAndGet();
                    runs.incrementAndGet();
                    for (int i = 0; i < 500; i++) {
                        Thread.onSpinWait();
                    }
                    x.start();
                    inside.decrementAndGet();
                });
                assertStatus(OK, w.start());
                final int want = 20 + round * 5;
                Modes.await("busy callbacks", () -> runs.get() >= want);
                h.rt.close();
                assertEquals(0, inside.get(), "a callback is still running after close() returned");
                final int runsAtClose = runs.get();
                Modes.pause(10);
                assertEquals(runsAtClose, runs.get(), "a callback started after close() returned");
                assertEquals(0, inside.get());
            }
        }
    }

    /** An init racing with the runtime's close never leaves a live cell behind. */
    @Modes.AllModes
    void initRacingWithCloseLeavesNothingLive(final DispatchMode mode) throws Exception {
        for (int round = 0; round < 10; round++) {
            try (Modes.Harness h = Modes.open(mode)) {
                final int n = 2_000;
                final List<AsyncTimer<Object>> cells = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    cells.add(new AsyncTimer<>());
                }
                final int[] results = new int[n];
                final CountDownLatch started = new CountDownLatch(1);
                final Thread initer = new Thread(() -> {
                    for (int i = 0; i < n; i++) {
                        if (i == 50) {
                            started.countDown();
                        }
                        results[i] = cells.get(i).init(h.rt, new Object(), TimerClock.MONOTONIC);
                    }
                });
                initer.start();
                Modes.await("inits under way", started);
                h.rt.close();
                initer.join();
                for (int i = 0; i < n; i++) {
                    final int r = results[i];
                    assertTrue(r == OK || r == CLOSED, AsyncStatus.name(r));
                    if (r == CLOSED) {
                        assertFalse(cells.get(i).isInitialized(), "a CLOSED init left a block behind");
                    } else {
                        assertStatus(CLOSED, cells.get(i).setCallback((o, x) -> { }));
                    }
                }
            }
        }
    }

    @Modes.AllModes
    void ownedExecutorThreadsEndAfterClose(final DispatchMode mode) throws Exception {
        final AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(mode).build();
        final AtomicBoolean stopDriver = new AtomicBoolean();
        final Thread driver = new Thread(() -> {
            while (!stopDriver.get() && !rt.isClosed()) {
                if (rt.drain() == 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(50_000);
                }
            }
        });
        driver.setDaemon(true);
        if (mode == DispatchMode.HOST_DRIVEN) {
            driver.start();
        }
        try {
            final AtomicReference<Thread> timerThread = new AtomicReference<>();
            final AtomicReference<Thread> workThread = new AtomicReference<>();
            final CountDownLatch both = new CountDownLatch(2);
            final AsyncTimer<Object> t = TimerStatusTest.ready(rt, (o, x) -> {
                timerThread.set(Thread.currentThread());
                both.countDown();
            });
            final AsyncWork<Object> w = WorkStatusTest.ready(rt, (o, x) -> {
                workThread.set(Thread.currentThread());
                both.countDown();
            });
            assertStatus(OK, t.start(0));
            assertStatus(OK, w.start());
            Modes.await("timer and work ran", both);
            // On the wheel a timer callback runs on the thread that drains: the dispatcher, or in
            // HOST_DRIVEN the host's own driver thread.
            if (mode != DispatchMode.HOST_DRIVEN) {
                assertTrue(timerThread.get().getName().startsWith("latchwork-"), "default thread names: " + timerThread.get());
            } else {
                assertEquals(driver, timerThread.get(), "HOST_DRIVEN: timers fire on the thread calling drain()");
            }
            final String name = workThread.get().getName();
            assertTrue(name.startsWith("latchwork-"), name);
            final String prefix = name.substring(0, name.indexOf('-', "latchwork-".length()) + 1);
            final Set<Thread> mine = ConcurrentHashMap.newKeySet();
            for (final Thread th : Thread.getAllStackTraces().keySet()) {
                if (th.getName().startsWith(prefix)) {
                    mine.add(th);
                }
            }
            assertTrue(mine.contains(workThread.get()), mine.toString());
            if (mode != DispatchMode.HOST_DRIVEN) {
                assertTrue(mine.contains(timerThread.get()), mine.toString());
                assertTrue(mine.size() >= 2, "dispatcher (which runs the wheel) and a worker: " + mine);
            }
            for (final Thread th : mine) {
                assertTrue(th.isDaemon(), th + " is a daemon");
            }
            rt.close();
            Modes.await("every owned latchwork thread ends: " + mine, () -> mine.stream().noneMatch(Thread::isAlive));
        } finally {
            rt.close();
            stopDriver.set(true);
            driver.join(TimeUnit.SECONDS.toMillis(Modes.WAIT_SECONDS));
        }
    }

    @Modes.AllModes
    void userSuppliedExecutorsAreNotShutDown(final DispatchMode mode) throws Exception {
        final ScheduledThreadPoolExecutor sched = new ScheduledThreadPoolExecutor(1);
        final ExecutorService work = Executors.newFixedThreadPool(2);
        try {
            try (Modes.Harness h = Modes.open(mode, b -> b.timerScheduler(sched).workExecutor(work))) {
                final CountDownLatch both = new CountDownLatch(2);
                final AsyncTimer<Object> t = TimerStatusTest.ready(h.rt, (o, x) -> both.countDown());
                final AsyncWork<Object> w = WorkStatusTest.ready(h.rt, (o, x) -> both.countDown());
                assertStatus(OK, t.start(1 * MS));
                assertStatus(OK, w.start());
                Modes.await("ran on the user's executors", both);
                assertStatus(OK, t.start(TimeUnit.SECONDS.toNanos(30)), "leave a wake-up on the user's scheduler");
                h.rt.close();
                assertFalse(sched.isShutdown(), "the user's scheduler was shut down");
                assertFalse(work.isShutdown(), "the user's work executor was shut down");
                assertEquals("ok", sched.schedule(() -> "ok", 1, TimeUnit.MILLISECONDS).get(10, TimeUnit.SECONDS));
                assertEquals("ok", work.submit(() -> "ok").get(10, TimeUnit.SECONDS));
            }
        } finally {
            sched.shutdownNow();
            work.shutdownNow();
            assertTrue(sched.awaitTermination(10, TimeUnit.SECONDS));
            assertTrue(work.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void drainIsANoOpOutsideHostDriven() throws Exception {
        try (Modes.Harness h = Modes.open(DispatchMode.DEFERRED)) {
            final AsyncTimer<Object> t = TimerStatusTest.ready(h.rt, (o, x) -> { });
            assertStatus(OK, t.start(TimeUnit.SECONDS.toNanos(30)));
            assertEquals(0, h.rt.drain(), "the dispatcher owns the queue");
        }
        try (Modes.Harness h = Modes.manual(b -> { })) {
            final AsyncTimer<Object> t = TimerStatusTest.ready(h.rt, (o, x) -> { });
            assertStatus(OK, t.start(TimeUnit.SECONDS.toNanos(30)));
            assertEquals(1, h.rt.drain());
            assertStatus(OK, t.start(TimeUnit.SECONDS.toNanos(30)));
            h.rt.close();
            assertEquals(0, h.rt.drain(), "nothing is drained after close");
            assertTrue(h.rt.stats().commandsDropped() >= 1, "the undrained command is counted as dropped: "
                + h.rt.stats());
            assertNotNull(h.rt.toString());
        }
    }
}
