package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 13 section 3: the stuck-callback watchdog reports a callback running past its threshold to
 * the error handler, once per invocation, while it still runs, with the stuck thread's stack; not
 * fast callbacks, and nothing after close. Timer callbacks on every mode and backend, work
 * callbacks, and a HOST_DRIVEN {@code drain()} caller's thread.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WatchdogTest {
    private static final Duration THRESHOLD = Duration.ofMillis(50);

    /** A callback that blocks until released; tells when it has been reported. */
    static final class Stuck {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean returned;

        void blockHere() throws InterruptedException {
            entered.countDown();
            release.await(30, TimeUnit.SECONDS);
            returned = true;
        }
    }

    private static List<StuckCallbackException> stuckOf(final List<Throwable> errors) {
        final List<StuckCallbackException> out = new ArrayList<>();
        for (final Throwable t : errors) {
            if (t instanceof StuckCallbackException) {
                out.add((StuckCallbackException) t);
            }
        }
        return out;
    }

    private static boolean stackHas(final StuckCallbackException e, final String method) {
        for (final StackTraceElement f : e.getStackTrace()) {
            if (f.getClassName().equals(Stuck.class.getName()) && f.getMethodName().equals(method)) {
                return true;
            }
        }
        return false;
    }

    @TestBackend.BothBackends
    void stuckTimerCallbackIsReportedOnceWhileRunning(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode, b -> b.name("wd-timer").stuckCallbackThreshold(THRESHOLD))) {
            final Stuck stuck = new Stuck();
            final AsyncTimer<Stuck> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(h.rt, stuck, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((s, x) -> s.blockHere()));
            assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
            Modes.await("callback entered", stuck.entered);
            Modes.await("stuck report", () -> !stuckOf(h.errors).isEmpty());
            assertTrue(!stuck.returned, "reported while the callback still runs");
            // several more thresholds: still one report for this one invocation
            LockSupport.parkNanos(THRESHOLD.toNanos() * 4);
            stuck.release.countDown();
            Modes.await("stuck counted", () -> h.rt.stuckCallbacks() == 1);
            final List<StuckCallbackException> reports = stuckOf(h.errors);
            assertEquals(1, reports.size(), reports.toString());
            final StuckCallbackException e = reports.get(0);
            assertTrue(stackHas(e, "blockHere"), "the stuck thread's stack: " + java.util.Arrays.toString(e.getStackTrace()));
            assertEquals("wd-timer", e.runtimeName());
            assertEquals("timer", e.cellKind());
            assertEquals(Stuck.class.getName(), e.ownerClassName());
            assertTrue(e.elapsedNanos() >= THRESHOLD.toNanos(), "elapsed " + e.elapsedNanos());
            assertTrue(e.getMessage().contains("wd-timer") && e.getMessage().contains(Stuck.class.getName()), e.getMessage());
            assertEquals(0, h.rt.callbackErrors(), "a stuck report is not a callback error");
        }
    }

    @Test
    void eachStuckInvocationIsReportedOnce() throws Exception {
        try (Modes.Harness h = Modes.open(DispatchMode.DEFERRED, b -> b.stuckCallbackThreshold(THRESHOLD))) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            final CountDownLatch twice = new CountDownLatch(2);
            assertEquals(AsyncStatus.OK, t.init(h.rt, this, TimerClock.MONOTONIC));
            final long before = h.rt.stuckCallbacks();
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> {
                final long seen = h.rt.stuckCallbacks();
                final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (h.rt.stuckCallbacks() == seen && System.nanoTime() < end) {
                    LockSupport.parkNanos(1_000_000); // stuck until the watchdog has reported us
                }
                twice.countDown();
                if (twice.getCount() > 0) {
                    x.start(1, TimeUnit.MILLISECONDS); // a second invocation, stuck as well
                }
            }));
            assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
            Modes.await("two invocations", twice);
            assertEquals(before + 2, h.rt.stuckCallbacks());
            assertEquals(2, stuckOf(h.errors).size());
        }
    }

    @TestBackend.BothBackends
    void fastCallbacksAreNotReported(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode, b -> b.stuckCallbackThreshold(Duration.ofSeconds(5)))) {
            final int n = 2_000;
            final CountDownLatch fired = new CountDownLatch(n);
            final CountDownLatch ran = new CountDownLatch(n);
            final AsyncTimer<Object> t = new AsyncTimer<>();
            final AsyncWork<Object> w = new AsyncWork<>();
            assertEquals(AsyncStatus.OK, t.init(h.rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, w.init(h.rt, this));
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> {
                fired.countDown();
                if (fired.getCount() > 0) {
                    x.start(0);
                }
            }));
            assertEquals(AsyncStatus.OK, w.setCallback((o, x) -> {
                ran.countDown();
                if (ran.getCount() > 0) {
                    x.start();
                }
            }));
            assertEquals(AsyncStatus.OK, t.start(0));
            assertEquals(AsyncStatus.OK, w.start());
            Modes.await("timers", fired);
            Modes.await("work", ran);
            assertEquals(0, h.rt.stuckCallbacks());
            assertEquals(List.of(), stuckOf(h.errors));
        }
    }

    @Test
    void stuckWorkCallbackIsReported() throws Exception {
        try (Modes.Harness h = Modes.open(DispatchMode.DEFERRED, b -> b.name("wd-work").stuckCallbackThreshold(THRESHOLD))) {
            final Stuck stuck = new Stuck();
            final AsyncWork<Stuck> w = new AsyncWork<>();
            assertEquals(AsyncStatus.OK, w.init(h.rt, stuck));
            assertEquals(AsyncStatus.OK, w.setCallback((s, x) -> s.blockHere()));
            assertEquals(AsyncStatus.OK, w.start());
            Modes.await("work entered", stuck.entered);
            Modes.await("stuck report", () -> !stuckOf(h.errors).isEmpty());
            assertTrue(!stuck.returned, "reported while the work still runs");
            stuck.release.countDown();
            final StuckCallbackException e = stuckOf(h.errors).get(0);
            assertEquals("work", e.cellKind());
            assertEquals("wd-work", e.runtimeName());
            assertTrue(e.threadName().startsWith("wd-work-work-"), e.threadName());
            assertTrue(stackHas(e, "blockHere"), java.util.Arrays.toString(e.getStackTrace()));
            assertEquals(1, stuckOf(h.errors).size());
        }
    }

    @Test
    void hostDrivenDrainCallerIsWatched() throws Exception {
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        try (AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN)
                 .stuckCallbackThreshold(THRESHOLD).errorHandler(errors::add).build()) {
            final Stuck stuck = new Stuck();
            final AsyncTimer<Stuck> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(rt, stuck, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((s, x) -> s.blockHere()));
            assertEquals(AsyncStatus.OK, t.start(0));
            final Thread host = new Thread(() -> {
                while (stuck.entered.getCount() > 0) {
                    rt.drain();
                    LockSupport.parkNanos(100_000);
                }
            }, "my-event-loop");
            host.start();
            Modes.await("callback entered", stuck.entered);
            Modes.await("stuck report", () -> !stuckOf(errors).isEmpty());
            stuck.release.countDown();
            host.join(10_000);
            final StuckCallbackException e = stuckOf(errors).get(0);
            assertEquals("my-event-loop", e.threadName());
            assertTrue(stackHas(e, "blockHere"), java.util.Arrays.toString(e.getStackTrace()));
        }
    }

    @Test
    void nothingAfterClose() throws Exception {
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        final Stuck stuck = new Stuck();
        final AsyncRuntime rt = AsyncRuntime.builder().name("wd-close").stuckCallbackThreshold(Duration.ofMillis(300))
            .closeTimeout(100, TimeUnit.MILLISECONDS).errorHandler(errors::add).build();
        final AsyncWork<Stuck> w = new AsyncWork<>();
        assertEquals(AsyncStatus.OK, w.init(rt, stuck));
        assertEquals(AsyncStatus.OK, w.setCallback((s, x) -> s.blockHere()));
        assertEquals(AsyncStatus.OK, w.start());
        Modes.await("work entered", stuck.entered);
        rt.close(); // gives up on the running work after 100 ms, well before the threshold
        Modes.await("watchdog thread gone", () -> {
            for (final Thread th : Thread.getAllStackTraces().keySet()) {
                if (th.getName().equals("wd-close-watchdog")) {
                    return false;
                }
            }
            return true;
        });
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(600)); // past the threshold: a live watchdog would report
        stuck.release.countDown();
        assertEquals(List.of(), stuckOf(errors));
        assertEquals(0, rt.stuckCallbacks());
    }
}
