package dev.latchwork.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.AsyncWork;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerClock;

/**
 * Fault injection: each test injects one fault and then shows (1) the fault reached the error
 * handler and was counted in {@code stats().callbackErrors()}, and (2) no cell is wedged: a start
 * that answers {@code OK} afterwards fires, or the runtime reported why it cannot. See
 * docs/RELIABILITY.md for the table of faults.
 */
class FaultInjectionTest {
    private static final long WAIT_S = 10;

    private final BlockingQueue<Throwable> reported = new LinkedBlockingQueue<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private AsyncRuntime.Builder builder() {
        return AsyncRuntime.builder().errorHandler(reported::add);
    }

    private <T extends AutoCloseable> T track(final T resource) {
        toClose.add(resource);
        return resource;
    }

    private Throwable nextReported() throws InterruptedException {
        final Throwable t = reported.poll(WAIT_S, TimeUnit.SECONDS);
        assertNotNull(t, "nothing was reported to the error handler within " + WAIT_S + " s");
        return t;
    }

    /** A start that answers OK fires: the cell is not wedged. */
    static void assertTimerFires(final AsyncTimer<Object> t) throws InterruptedException {
        final CountDownLatch fired = new CountDownLatch(1);
        assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> fired.countDown()));
        assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
        assertTrue(fired.await(WAIT_S, TimeUnit.SECONDS), "a start that answered OK never fired: wedged cell");
    }

    static void assertWorkRuns(final AsyncWork<Object> w) throws InterruptedException {
        final CountDownLatch ran = new CountDownLatch(1);
        assertEquals(AsyncStatus.OK, w.setCallback((o, wk) -> ran.countDown()));
        assertEquals(AsyncStatus.OK, w.start());
        assertTrue(ran.await(WAIT_S, TimeUnit.SECONDS), "a start that answered OK never ran: wedged cell");
    }

    static AsyncTimer<Object> timer(final AsyncRuntime rt) {
        final AsyncTimer<Object> t = new AsyncTimer<>();
        assertEquals(AsyncStatus.OK, t.init(rt, new Object(), TimerClock.MONOTONIC));
        return t;
    }

    static AsyncWork<Object> work(final AsyncRuntime rt) {
        final AsyncWork<Object> w = new AsyncWork<>();
        assertEquals(AsyncStatus.OK, w.init(rt, new Object()));
        return w;
    }

    // ------------------------------------------------------------------------------------------
    // callbacks that throw

    /** What a callback throws. */
    enum Fault {
        RUNTIME_EXCEPTION(() -> new IllegalStateException("injected")),
        ERROR(() -> new Error("injected")),
        OUT_OF_MEMORY(() -> new OutOfMemoryError("injected (thrown, not real)")),
        STACK_OVERFLOW(null); // a real one, by unbounded recursion

        final Supplier<Throwable> make;

        Fault(final Supplier<Throwable> make) {
            this.make = make;
        }

        /** Throws the fault (unchecked, whatever its type). */
        void raise() {
            if (make == null) {
                recurse(0);
                throw new AssertionError("recursion returned");
            }
            throw FaultInjectionTest.<RuntimeException>sneaky(make.get());
        }

        Class<? extends Throwable> type() {
            return make == null ? StackOverflowError.class : make.get().getClass();
        }
    }

    @SuppressWarnings("unchecked")
    static <E extends Throwable> E sneaky(final Throwable t) throws E {
        throw (E) t;
    }

    static int recurse(final int depth) {
        return recurse(depth + 1) + 1;
    }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void timerCallbackThrows(final Fault fault) throws Exception {
        final AsyncRuntime rt = track(builder().build());
        final AsyncTimer<Object> t = timer(rt);
        final CountDownLatch entered = new CountDownLatch(1);
        assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> {
            entered.countDown();
            fault.raise();
        }));
        assertEquals(AsyncStatus.OK, t.start(0));
        assertTrue(entered.await(WAIT_S, TimeUnit.SECONDS));
        assertInstanceOf(fault.type(), nextReported());
        assertEquals(1, rt.stats().callbackErrors());
        assertEquals(1, rt.stats().timersFired());
        assertTimerFires(t); // the same cell, the same timer thread: both still work
        assertTimerFires(timer(rt));
        assertEquals(1, rt.stats().callbackErrors());
        assertTrue(reported.isEmpty(), "unexpected reports: " + reported);
    }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void workCallbackThrows(final Fault fault) throws Exception {
        final AsyncRuntime rt = track(builder().build());
        final AsyncWork<Object> w = work(rt);
        final CountDownLatch entered = new CountDownLatch(1);
        assertEquals(AsyncStatus.OK, w.setCallback((o, wk) -> {
            entered.countDown();
            fault.raise();
        }));
        assertEquals(AsyncStatus.OK, w.start());
        assertTrue(entered.await(WAIT_S, TimeUnit.SECONDS));
        assertInstanceOf(fault.type(), nextReported());
        assertEquals(1, rt.stats().callbackErrors());
        assertWorkRuns(w);
        assertEquals(1, rt.stats().callbackErrors());
    }

    /** The throwing callback runs in INLINE mode too, where commands are applied by the caller. */
    @Test
    void throwingCallbackInInlineModeLeavesCallersUnharmed() throws Exception {
        final AsyncRuntime rt = track(builder().dispatchMode(DispatchMode.INLINE).build());
        final AsyncTimer<Object> t = timer(rt);
        assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> Fault.OUT_OF_MEMORY.raise()));
        for (int i = 0; i < 3; i++) {
            assertEquals(AsyncStatus.OK, t.start(0)); // the caller never sees the callback's error
            assertInstanceOf(OutOfMemoryError.class, nextReported());
        }
        assertEquals(3, rt.stats().callbackErrors());
        assertTimerFires(t);
    }

    // ------------------------------------------------------------------------------------------
    // an error handler that throws

    @ParameterizedTest
    @EnumSource(value = Fault.class, names = {"RUNTIME_EXCEPTION", "ERROR"})
    void errorHandlerThatThrowsIsContained(final Fault handlerFault) throws Exception {
        final AtomicInteger handled = new AtomicInteger();
        final AsyncRuntime rt = track(AsyncRuntime.builder().errorHandler(e -> {
            handled.incrementAndGet();
            handlerFault.raise();
        }).build());
        final AsyncTimer<Object> t = timer(rt);
        final AsyncWork<Object> w = work(rt);
        final CountDownLatch done = new CountDownLatch(2);
        assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> {
            done.countDown();
            throw new IllegalStateException("callback fault");
        }));
        assertEquals(AsyncStatus.OK, w.setCallback((o, wk) -> {
            done.countDown();
            throw new IllegalStateException("callback fault");
        }));
        assertEquals(AsyncStatus.OK, t.start(0));
        assertEquals(AsyncStatus.OK, w.start());
        assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
        awaitTrue(() -> rt.stats().callbackErrors() == 2, "both faults counted");
        assertEquals(2, handled.get());
        assertTimerFires(t); // the timer thread survived the handler's throw
        assertWorkRuns(w); // the work thread too
        assertTimerFires(timer(rt)); // and the dispatcher
    }

    // ------------------------------------------------------------------------------------------
    // backends that reject

    @Test
    void timerSchedulerShutDownUnderTheRuntime() throws Exception {
        final ScheduledThreadPoolExecutor sched = new ScheduledThreadPoolExecutor(1);
        final AsyncRuntime rt = track(builder().timerScheduler(sched).build());
        final AsyncTimer<Object> t = timer(rt);
        final AsyncWork<Object> w = work(rt);
        assertTimerFires(t);
        sched.shutdown();
        assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS)); // published: the drain finds the rejection
        assertInstanceOf(RejectedExecutionException.class, nextReported());
        assertEquals(1, rt.stats().callbackErrors());
        // nothing will fire: the cell must not claim to be armed (the disarm precedes the report)
        assertFalse(t.isArmed(), "isArmed() after a rejected schedule");
        assertEquals(Long.MAX_VALUE, t.deadline());
        assertEquals(0, rt.stats().timersArmed());
        assertEquals(AsyncStatus.OK, t.start(2, TimeUnit.MILLISECONDS)); // each arm that cannot be scheduled is reported
        assertInstanceOf(RejectedExecutionException.class, nextReported());
        assertEquals(2, rt.stats().callbackErrors());
        assertWorkRuns(w); // the dispatcher is alive and serves the other backend
    }

    @Test
    void timerSchedulerRejectingForAWhile() throws Exception {
        final FlakyScheduler sched = track(new FlakyScheduler());
        final AsyncRuntime rt = track(builder().timerScheduler(sched).build());
        final AsyncTimer<Object> t = timer(rt);
        sched.failWith.set(new RejectedExecutionException("injected: queue full"));
        final CountDownLatch fired = new CountDownLatch(1);
        assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> fired.countDown()));
        assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.HOURS));
        assertInstanceOf(RejectedExecutionException.class, nextReported());
        assertFalse(t.isArmed(), "isArmed() after a rejected schedule");
        assertEquals(0, rt.stats().timersArmed());
        assertEquals(AsyncStatus.OK, t.cancel(), "a sync cancel of an arm that was never scheduled is not WAS_PENDING");
        sched.failWith.set(null);
        assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> fired.countDown())); // the sync cancel cleared it
        assertEquals(AsyncStatus.OK, t.start(5, TimeUnit.MILLISECONDS)); // the next arm is scheduled again
        assertTrue(fired.await(WAIT_S, TimeUnit.SECONDS), "the cell stayed wedged after the scheduler recovered");
        assertEquals(1, rt.stats().callbackErrors());
        assertEquals(0, rt.stats().timersArmed());
    }

    /**
     * A scheduler that throws something other than {@link RejectedExecutionException} (an
     * {@link OutOfMemoryError} while allocating its task, a broken custom scheduler): reported and
     * counted like a rejection, and the cell recovers on its next start, also when the next
     * deadline is later (the drain must not keep a wake-up that was never scheduled).
     */
    @ParameterizedTest
    @EnumSource(value = Fault.class, names = {"RUNTIME_EXCEPTION", "OUT_OF_MEMORY"})
    void timerSchedulerThrowingOtherThanRejection(final Fault fault) throws Exception {
        final FlakyScheduler sched = track(new FlakyScheduler());
        final AsyncRuntime rt = track(builder().timerScheduler(sched).build());
        final AsyncTimer<Object> t = timer(rt);
        sched.failWith.set(fault.make.get());
        final CountDownLatch fired = new CountDownLatch(1);
        assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> fired.countDown()));
        assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
        assertInstanceOf(fault.type(), nextReported());
        sched.failWith.set(null);
        assertEquals(AsyncStatus.OK, t.start(50, TimeUnit.MILLISECONDS)); // later than the failed arm
        assertTrue(fired.await(WAIT_S, TimeUnit.SECONDS), "the cell stayed wedged after the scheduler recovered");
        assertEquals(1, rt.stats().callbackErrors());
    }

    @Test
    void workExecutorShutDownUnderTheRuntime() throws Exception {
        final ExecutorService pool = Executors.newSingleThreadExecutor();
        final AsyncRuntime rt = track(builder().workExecutor(pool).build());
        final AsyncWork<Object> w = work(rt);
        assertWorkRuns(w);
        pool.shutdown();
        assertEquals(AsyncStatus.OK, w.start());
        assertInstanceOf(RejectedExecutionException.class, nextReported());
        assertEquals(1, rt.stats().callbackErrors());
        awaitTrue(() -> !w.isPending(), "the rejected run is not left pending");
        assertEquals(AsyncStatus.OK, w.start()); // not coalesced into a run that will never come: reported again
        assertInstanceOf(RejectedExecutionException.class, nextReported());
        assertEquals(2, rt.stats().callbackErrors());
        assertTimerFires(timer(rt)); // the dispatcher is alive
    }

    @ParameterizedTest
    @EnumSource(value = Fault.class, names = {"RUNTIME_EXCEPTION", "OUT_OF_MEMORY"})
    void workExecutorRejectingForAWhile(final Fault fault) throws Exception {
        final FlakyExecutor pool = track(new FlakyExecutor());
        final AsyncRuntime rt = track(builder().workExecutor(pool).build());
        final AsyncWork<Object> w = work(rt);
        pool.failWith.set(new RejectedExecutionException("injected: saturated"));
        final CountDownLatch ran = new CountDownLatch(1);
        assertEquals(AsyncStatus.OK, w.setCallback((o, wk) -> ran.countDown()));
        assertEquals(AsyncStatus.OK, w.start());
        assertInstanceOf(RejectedExecutionException.class, nextReported());
        pool.failWith.set(fault.make.get()); // then something other than a rejection
        assertEquals(AsyncStatus.OK, w.start());
        assertInstanceOf(fault.type(), nextReported());
        pool.failWith.set(null);
        assertEquals(AsyncStatus.OK, w.start());
        assertTrue(ran.await(WAIT_S, TimeUnit.SECONDS), "the work cell stayed wedged after the executor recovered");
        assertEquals(2, rt.stats().callbackErrors());
    }

    /** The re-submission after a run (a start arrived while it ran) is rejected: reported, not wedged. */
    @Test
    void workResubmissionAfterARunRejected() throws Exception {
        final FlakyExecutor pool = track(new FlakyExecutor());
        final AsyncRuntime rt = track(builder().workExecutor(pool).build());
        final AsyncWork<Object> w = work(rt);
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger runs = new AtomicInteger();
        assertEquals(AsyncStatus.OK, w.setCallback((o, wk) -> {
            if (runs.incrementAndGet() == 1) {
                entered.countDown();
                release.await(WAIT_S, TimeUnit.SECONDS);
            }
        }));
        assertEquals(AsyncStatus.OK, w.start());
        assertTrue(entered.await(WAIT_S, TimeUnit.SECONDS));
        assertEquals(AsyncStatus.OK, w.start()); // arrives while the run runs: one more run is owed
        awaitTrue(w::isPending, "the extra run is queued behind the running one");
        pool.failWith.set(new RejectedExecutionException("injected"));
        release.countDown(); // the run ends; re-submitting the owed run is rejected
        assertInstanceOf(RejectedExecutionException.class, nextReported());
        awaitTrue(() -> !w.isPending(), "the rejected re-submission is not left pending");
        pool.failWith.set(null);
        final int before = runs.get();
        assertEquals(AsyncStatus.OK, w.start());
        awaitTrue(() -> runs.get() > before, "the work cell runs again");
        assertEquals(1, rt.stats().callbackErrors());
    }

    // ------------------------------------------------------------------------------------------
    // interrupts

    @Test
    void dispatcherInterruptedIsReportedAndIgnored() throws Exception {
        final Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        final AsyncRuntime rt = track(builder().build());
        final AsyncTimer<Object> t = timer(rt);
        assertTimerFires(t); // also starts the timer thread
        final Thread dispatcher = findNewLatchworkThread(before, "dispatchLoop");
        for (int i = 1; i <= 3; i++) {
            dispatcher.interrupt();
            assertInstanceOf(InterruptedException.class, nextReported());
            assertEquals(i, rt.stats().callbackErrors());
            awaitTrue(() -> !dispatcher.isInterrupted(), "the dispatcher clears its interrupt");
            assertTimerFires(t);
        }
        assertTrue(dispatcher.isAlive());
        assertTimerFires(timer(rt));
    }

    /** An interrupt of an executor backend's timer thread while it idles is absorbed by the executor. */
    @Test
    void timerThreadInterruptedKeepsFiring() throws Exception {
        final Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        final java.util.concurrent.ScheduledThreadPoolExecutor stpe = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
            r -> new Thread(r, "latchwork-test-timer"));
        final AsyncRuntime rt = track(builder().timerScheduler(stpe).build());
        final AsyncTimer<Object> t = timer(rt);
        assertTimerFires(t);
        final Thread timerThread = findNewLatchworkThread(before, "ScheduledThreadPoolExecutor");
        timerThread.interrupt();
        assertTimerFires(t);
        assertTimerFires(timer(rt));
        assertTrue(timerThread.isAlive());
        rt.close();
        stpe.shutdown();
    }

    /** A callback that interrupts its own thread does not leak the interrupt into the next callback. */
    @Test
    void callbackInterruptingItsThread() throws Exception {
        final AsyncRuntime rt = track(builder().build());
        final AsyncTimer<Object> t = timer(rt);
        assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> Thread.currentThread().interrupt()));
        assertEquals(AsyncStatus.OK, t.start(0));
        awaitTrue(() -> rt.stats().timersFired() == 1, "fired");
        final CountDownLatch fired = new CountDownLatch(1);
        final AtomicReference<Boolean> interruptedInNext = new AtomicReference<>();
        assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> {
            interruptedInNext.set(Thread.currentThread().isInterrupted());
            fired.countDown();
        }));
        assertEquals(AsyncStatus.OK, t.start(0));
        assertTrue(fired.await(WAIT_S, TimeUnit.SECONDS));
        assertEquals(Boolean.FALSE, interruptedInNext.get(), "the next callback inherited the interrupt");
        assertTimerFires(t);
        assertTimerFires(timer(rt));
    }

    private static Thread findNewLatchworkThread(final Set<Thread> before, final String frame) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (System.nanoTime() < deadline) {
            for (final Thread th : Thread.getAllStackTraces().keySet()) {
                if (before.contains(th) || !th.getName().startsWith("latchwork-")) {
                    continue;
                }
                for (final StackTraceElement e : th.getStackTrace()) {
                    if (e.toString().contains(frame)) {
                        return th;
                    }
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no new latchwork-* thread running " + frame);
    }

    // ------------------------------------------------------------------------------------------
    // a callback that never returns

    /**
     * On an executor backend a stuck timer callback holds only the executor's thread. (On the
     * wheel, timer callbacks run on the dispatcher, so a stuck one stalls the whole runtime, as a
     * stuck task stalls Netty's HashedWheelTimer: see {@link #callbackThatNeverReturnsOnTheWheel}.)
     */
    @Test
    void callbackThatNeverReturns() throws Exception {
        final java.util.concurrent.ScheduledThreadPoolExecutor stpe = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
            r -> new Thread(r, "latchwork-test-timer"));
        final AsyncRuntime rt = builder().timerScheduler(stpe).closeTimeout(1, TimeUnit.SECONDS).build();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        try {
            final AsyncTimer<Object> stuck = timer(rt);
            final AsyncTimer<Object> other = timer(rt);
            final AsyncWork<Object> w = work(rt);
            assertEquals(AsyncStatus.OK, stuck.setCallback((o, tm) -> {
                entered.countDown();
                while (!release.await(60, TimeUnit.SECONDS)) {
                    Thread.onSpinWait(); // never returns while the test runs
                }
            }));
            assertEquals(AsyncStatus.OK, stuck.start(0));
            assertTrue(entered.await(WAIT_S, TimeUnit.SECONDS));

            // The cell's close never waits for its running callback.
            assertEquals(AsyncStatus.OK, assertTimeoutPreemptively(Duration.ofSeconds(WAIT_S), stuck::close));
            assertFalse(stuck.isInitialized());
            // Other cells keep working where they do not need the stuck thread: the work executor.
            assertWorkRuns(w);
            assertEquals(AsyncStatus.OK, other.setCallback((o, tm) -> { }));
            assertEquals(AsyncStatus.OK, other.start(1, TimeUnit.MILLISECONDS));

            // The runtime's close gives up waiting after the close timeout, and says so.
            final long t0 = System.nanoTime();
            assertTimeoutPreemptively(Duration.ofSeconds(WAIT_S), rt::close);
            final long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(waitedMs >= 900, "close returned after " + waitedMs + " ms, before its 1 s timeout");
            final Throwable report = nextReported();
            assertInstanceOf(IllegalStateException.class, report);
            assertTrue(report.getMessage().contains("still running"), report.getMessage());
            assertEquals(1, rt.stats().callbackErrors());
            assertTrue(rt.isClosed());
            assertEquals(AsyncStatus.CLOSED, other.start(1)); // every cell answers CLOSED: nothing left armed-and-silent
            assertEquals(AsyncStatus.CLOSED, w.start());
            // A second close (idempotent) does not wait again for the stuck callback.
            assertTimeoutPreemptively(Duration.ofSeconds(WAIT_S), rt::close);
        } finally {
            release.countDown();
            rt.close();
            stpe.shutdown();
        }
    }

    /**
     * On the wheel a timer callback runs on the dispatcher: one that never returns stalls the
     * runtime (no other command is applied meanwhile: the documented cost of running callbacks on
     * the wheel's thread), but the cell's close and the runtime's close still return, the latter
     * after its timeout, saying so; once the callback returns the dispatcher ends and nothing else
     * fires.
     */
    @Test
    void callbackThatNeverReturnsOnTheWheel() throws Exception {
        final AsyncRuntime rt = builder().closeTimeout(1, TimeUnit.SECONDS).build();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        try {
            final AsyncTimer<Object> stuck = timer(rt);
            final AsyncTimer<Object> other = timer(rt);
            final java.util.concurrent.atomic.AtomicInteger otherFired = new java.util.concurrent.atomic.AtomicInteger();
            assertEquals(AsyncStatus.OK, stuck.setCallback((o, tm) -> {
                entered.countDown();
                while (!release.await(60, TimeUnit.SECONDS)) {
                    Thread.onSpinWait();
                }
            }));
            assertEquals(AsyncStatus.OK, other.setCallback((o, tm) -> otherFired.incrementAndGet()));
            assertEquals(AsyncStatus.OK, stuck.start(0));
            assertTrue(entered.await(WAIT_S, TimeUnit.SECONDS));
            assertEquals(AsyncStatus.OK, other.start(0));
            assertEquals(AsyncStatus.OK, assertTimeoutPreemptively(Duration.ofSeconds(WAIT_S), stuck::close));
            final long t0 = System.nanoTime();
            assertTimeoutPreemptively(Duration.ofSeconds(WAIT_S), rt::close);
            final long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(waitedMs >= 900, "close returned after " + waitedMs + " ms, before its 1 s timeout");
            final Throwable report = nextReported();
            assertInstanceOf(IllegalStateException.class, report);
            assertTrue(report.getMessage().contains("still running"), report.getMessage());
            assertEquals(AsyncStatus.CLOSED, other.start(1));
            release.countDown();
            Thread.sleep(50);
            assertEquals(0, otherFired.get(), "nothing fires after close returned");
        } finally {
            release.countDown();
            rt.close();
        }
    }

    // ------------------------------------------------------------------------------------------
    // helpers

    static void awaitTrue(final java.util.function.BooleanSupplier cond, final String what) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT_S + " s: " + what);
            }
            Thread.sleep(1);
        }
    }

    /** A real scheduler whose {@code schedule} throws a chosen throwable while one is set. */
    static final class FlakyScheduler extends ScheduledThreadPoolExecutor implements AutoCloseable {
        final AtomicReference<Throwable> failWith = new AtomicReference<>();

        FlakyScheduler() {
            super(1);
            setRemoveOnCancelPolicy(true);
        }

        @Override
        public ScheduledFuture<?> schedule(final Runnable command, final long delay, final TimeUnit unit) {
            final Throwable t = failWith.get();
            if (t != null) {
                throw FaultInjectionTest.<RuntimeException>sneaky(t);
            }
            return super.schedule(command, delay, unit);
        }

        @Override
        public void close() {
            shutdownNow();
        }
    }

    /** A real executor whose {@code execute} throws a chosen throwable while one is set. */
    static final class FlakyExecutor extends ThreadPoolExecutor implements AutoCloseable {
        final AtomicReference<Throwable> failWith = new AtomicReference<>();

        FlakyExecutor() {
            super(2, 2, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>());
        }

        @Override
        public void execute(final Runnable command) {
            final Throwable t = failWith.get();
            if (t != null) {
                throw FaultInjectionTest.<RuntimeException>sneaky(t);
            }
            super.execute(command);
        }

        @Override
        public void close() {
            shutdownNow();
        }
    }

    @Test
    void sneakyThrowHelperThrowsTheSameInstance() {
        final Error e = new Error("x");
        try {
            sneaky(e);
        } catch (final Throwable t) {
            assertSame(e, t);
            return;
        }
        throw new AssertionError("not thrown");
    }
}
