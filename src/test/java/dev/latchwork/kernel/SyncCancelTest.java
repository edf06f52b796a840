package dev.latchwork.kernel;

import static dev.latchwork.AsyncStatus.CLOSED;
import static dev.latchwork.AsyncStatus.DEADLOCK;
import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.NO_CALLBACK;
import static dev.latchwork.AsyncStatus.OK;
import static dev.latchwork.AsyncStatus.WAS_PENDING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TestBackend;
import dev.latchwork.TimerClock;

/**
 * The synchronous cancel ({@link AsyncTimer#cancel()}, kernel {@code bpf_timer_cancel}) and its
 * deadlock detection (issue 3 item 1), checked against the kernel's rules
 * ({@code kernel-bpf-async.md} section 1.5) in every {@link DispatchMode}.
 *
 * <table>
 *   <caption>kernel rule → JVM check</caption>
 *   <tr><th>kernel</th><th>here</th></tr>
 *   <tr><td>clears the callback: a following {@code bpf_timer_start} is {@code -EINVAL} until
 *       {@code bpf_timer_set_callback}</td><td>{@link #cancelClearsCallback}: {@code start} answers
 *       NO_CALLBACK until {@code setCallback}; then the timer fires again</td></tr>
 *   <tr><td>returns 1 if the timer was armed, 0 if not</td><td>{@link #cancelClearsCallback},
 *       {@link #cancelsPendingExpiry}: WAS_PENDING for an armed timer, whose callback then never runs;
 *       OK for one that is not armed. {@link #wasPendingIsReportedOncePerArm}: a second cancel (or a
 *       cancel after {@code cancelAsync}) answers OK even before the dispatcher applied the first —
 *       the cancel that was linearized first already disarmed it</td></tr>
 *   <tr><td>{@code hrtimer_cancel} waits for a callback running on another CPU</td>
 *       <td>{@link #waitsForRunningCallback}: the callback blocks on a latch; a cancel from another
 *       thread does not return before the latch is released and the callback has returned; the
 *       callback's own re-arm during that wait answers NO_CALLBACK (the callback was cleared first)</td></tr>
 *   <tr><td>rule 1: from the callback of the same timer → {@code -EDEADLK}, returned <i>before</i>
 *       clearing the callback</td><td>{@link #deadlockFromOwnCallback}: DEADLOCK, and the callback is
 *       still set (its self re-arm answers OK and it runs again)</td></tr>
 *   <tr><td>rule 2: two callbacks cancelling each other's timers: the {@code cancelling} counter makes
 *       at least one side {@code -EDEADLK}; nobody hangs</td>
 *       <td>{@link #mutualCancelForcedOverlap}: on a 2-thread scheduler each callback waits (bounded)
 *       until the other has entered before cancelling it, so both are inside at once; every such round
 *       has at least one DEADLOCK, the other result is OK/WAS_PENDING/DEADLOCK, and no thread hangs.
 *       The unforced version is {@link TimerLockupSelfTest}</td></tr>
 *   <tr><td>rule 3: outside any callback → always waits, never {@code -EDEADLK}</td><td>the driver
 *       threads of every test here never get DEADLOCK</td></tr>
 *   <tr><td>{@code -EINVAL} when not initialized</td><td>{@link #notInitializedAndClosed}: NOT_INITIALIZED;
 *       CLOSED once the runtime is closed</td></tr>
 *   <tr><td>{@code -EOPNOTSUPP} in hardirq / with IRQs off</td><td><b>No JVM meaning</b> (no interrupt
 *       context): the sync cancel is documented as "may block: not for hot paths"</td></tr>
 * </table>
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SyncCancelTest {

    static final class Elem {
        final AsyncTimer<Elem> timer = new AsyncTimer<>();
    }

    @TestBackend.BothBackends
    void cancelClearsCallback(final DispatchMode mode) throws Exception {
        try (Harness h = Harness.of(mode)) {
            final Elem e = new Elem();
            final AtomicInteger runs = new AtomicInteger();
            final CountDownLatch fired = new CountDownLatch(1);
            assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
            assertEquals(OK, e.timer.setCallback((o, t) -> runs.incrementAndGet()));
            assertEquals(OK, e.timer.start(1, TimeUnit.HOURS));
            assertEquals(WAS_PENDING, e.timer.cancel());
            assertEquals(NO_CALLBACK, e.timer.start(0), "cancel must clear the callback");
            assertEquals(NO_CALLBACK, e.timer.startAt(0));
            assertEquals(OK, e.timer.cancel(), "nothing armed any more");
            assertEquals(OK, e.timer.setCallback((o, t) -> fired.countDown()));
            assertEquals(OK, e.timer.start(0));
            assertTrue(fired.await(10, TimeUnit.SECONDS), "fires again after setCallback + start");
            assertEquals(0, runs.get());
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }

    @TestBackend.BothBackends
    void cancelsPendingExpiry(final DispatchMode mode) {
        try (Harness h = Harness.of(mode)) {
            final Elem[] cells = new Elem[50];
            final AtomicInteger runs = new AtomicInteger();
            for (int i = 0; i < cells.length; i++) {
                final Elem e = cells[i] = new Elem();
                assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
                assertEquals(OK, e.timer.setCallback((o, t) -> runs.incrementAndGet()));
                if (i % 2 == 1) {
                    // armed on the backend first (an hour out, so it stays armed while we look)
                    assertEquals(OK, e.timer.start(1, TimeUnit.HOURS));
                    Harness.await(e.timer::isArmed, 10_000, () -> "start applied");
                } else {
                    // cancelled right away, possibly before the start is applied; expires in 30 ms
                    assertEquals(OK, e.timer.start(30, TimeUnit.MILLISECONDS));
                }
                assertEquals(WAS_PENDING, e.timer.cancel());
            }
            Harness.pause(100); // well past the 30 ms deadline
            assertEquals(0, runs.get(), "a cancelled timer fired");
            for (final Elem e : cells) {
                Harness.await(() -> !e.timer.isArmed(), 10_000, () -> "the cancel is applied");
            }
            assertEquals(0, runs.get(), "a cancelled timer fired");
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }

    /**
     * Deterministic: HOST_DRIVEN with the test thread as the only drainer, so the first cancel is
     * published but not applied when the second one runs.
     */
    @Test
    void wasPendingIsReportedOncePerArm() {
        try (Harness h = Harness.hostDrivenManual()) {
            final Elem e = new Elem();
            assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
            assertEquals(OK, e.timer.setCallback((o, t) -> { }));

            // armed on the backend, then two sync cancels before any drain
            assertEquals(OK, e.timer.start(1, TimeUnit.HOURS));
            h.rt.drain();
            assertTrue(e.timer.isArmed());
            assertEquals(WAS_PENDING, e.timer.cancel());
            assertEquals(OK, e.timer.cancel(), "the first cancel already disarmed it (last command wins)");
            h.rt.drain();
            assertFalse(e.timer.isArmed());

            // an async cancel published (not applied) before the sync one
            assertEquals(OK, e.timer.setCallback((o, t) -> { }));
            assertEquals(OK, e.timer.start(1, TimeUnit.HOURS));
            h.rt.drain();
            assertEquals(OK, e.timer.cancelAsync());
            assertEquals(OK, e.timer.cancel(), "cancelAsync was linearized first: nothing armed");
            h.rt.drain();

            // a start published but not applied counts as armed
            assertEquals(OK, e.timer.setCallback((o, t) -> { }));
            assertEquals(OK, e.timer.start(1, TimeUnit.HOURS));
            assertEquals(WAS_PENDING, e.timer.cancel());
            assertEquals(OK, e.timer.cancel());
            h.rt.drain();
            assertFalse(e.timer.isArmed());
        }
    }

    @TestBackend.BothBackends
    void waitsForRunningCallback(final DispatchMode mode) throws Exception {
        try (Harness h = Harness.of(mode)) {
            final Elem e = new Elem();
            final CountDownLatch entered = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicInteger runs = new AtomicInteger();
            final AtomicInteger rearm = new AtomicInteger(Integer.MIN_VALUE);
            final AtomicBoolean finished = new AtomicBoolean();
            assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
            assertEquals(OK, e.timer.setCallback((o, t) -> {
                runs.incrementAndGet();
                entered.countDown();
                if (!release.await(20, TimeUnit.SECONDS)) {
                    throw new AssertionError("never released");
                }
                rearm.set(t.start(0)); // the canceller cleared the callback before waiting
                finished.set(true);
            }));
            assertEquals(OK, e.timer.start(0));
            assertTrue(entered.await(10, TimeUnit.SECONDS));

            final AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
            final AtomicBoolean cancelCalled = new AtomicBoolean();
            final AtomicBoolean finishedWhenCancelReturned = new AtomicBoolean();
            final Thread canceller = new Thread(() -> {
                cancelCalled.set(true);
                result.set(e.timer.cancel());
                finishedWhenCancelReturned.set(finished.get());
            }, "canceller");
            canceller.setDaemon(true);
            canceller.start();
            Harness.await(cancelCalled::get, 10_000, () -> "canceller started");
            Harness.awaitTimedWaiting(canceller); // it cleared the callback and waits for ours
            canceller.join(200); // give it every chance to return early (it must not)
            assertTrue(canceller.isAlive(), "cancel returned while the callback was still running");
            assertEquals(Integer.MIN_VALUE, result.get());
            release.countDown();
            canceller.join(10_000);
            assertFalse(canceller.isAlive(), "cancel did not return after the callback finished");
            assertTrue(finishedWhenCancelReturned.get(), "cancel returned before the callback had returned");
            assertEquals(OK, result.get(), "the timer had already fired: not pending");
            assertEquals(NO_CALLBACK, rearm.get(), "the callback's re-arm during the cancel");
            Harness.pause(20);
            assertEquals(1, runs.get());
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }

    @TestBackend.BothBackends
    void deadlockFromOwnCallback(final DispatchMode mode) throws Exception {
        try (Harness h = Harness.of(mode)) {
            final Elem e = new Elem();
            final AtomicInteger runs = new AtomicInteger();
            final AtomicInteger selfCancel = new AtomicInteger(Integer.MIN_VALUE);
            final AtomicInteger selfStart = new AtomicInteger(Integer.MIN_VALUE);
            final CountDownLatch second = new CountDownLatch(1);
            assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
            assertEquals(OK, e.timer.setCallback((o, t) -> {
                if (runs.incrementAndGet() == 1) {
                    selfCancel.set(t.cancel());
                    selfStart.set(t.start(0)); // DEADLOCK returned before clearing the callback
                } else {
                    second.countDown();
                }
            }));
            assertEquals(OK, e.timer.start(0));
            assertTrue(second.await(10, TimeUnit.SECONDS), "self re-arm after DEADLOCK never fired");
            assertEquals(DEADLOCK, selfCancel.get());
            assertEquals(OK, selfStart.get());
            assertEquals(OK, e.timer.cancel(), "from outside a callback: never DEADLOCK");
            assertEquals(2, runs.get());
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }

    @TestBackend.BothBackends
    void mutualCancelForcedOverlap(final DispatchMode mode) {
        final int rounds = 500;
        try (Harness h = Harness.withScheduler(mode, 2, "mutual")) {
            final Elem[] timers = {new Elem(), new Elem()};
            for (final Elem e : timers) {
                assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
            }
            final StatusTally results = new StatusTally("callback cancel", OK, WAS_PENDING, DEADLOCK);
            int overlapped = 0;
            int bothDeadlock = 0;
            for (int n = 0; n < rounds; n++) {
                final CountDownLatch in0 = new CountDownLatch(1);
                final CountDownLatch in1 = new CountDownLatch(1);
                final int[] res = {Integer.MIN_VALUE, Integer.MIN_VALUE};
                final boolean[] met = new boolean[2];
                final CountDownLatch done = new CountDownLatch(2);
                assertEquals(OK, timers[0].timer.setCallback((o, t) -> {
                    in0.countDown();
                    met[0] = in1.await(1, TimeUnit.SECONDS); // bounded: never a hang
                    res[0] = timers[1].timer.cancel();
                    done.countDown();
                }));
                assertEquals(OK, timers[1].timer.setCallback((o, t) -> {
                    in1.countDown();
                    met[1] = in0.await(1, TimeUnit.SECONDS);
                    res[1] = timers[0].timer.cancel();
                    done.countDown();
                }));
                final long at = System.nanoTime() + 100_000;
                assertEquals(OK, timers[0].timer.startAt(at));
                assertEquals(OK, timers[1].timer.startAt(at));
                try {
                    if (!done.await(10, TimeUnit.SECONDS)) {
                        fail("round " + n + ": callbacks did not finish (hang?) " + h.rt.stats());
                    }
                } catch (final InterruptedException ex) {
                    throw new AssertionError(ex);
                }
                assertTrue(timers[0].timer.cancel() >= 0 && timers[1].timer.cancel() >= 0);
                results.record(res[0]);
                results.record(res[1]);
                if (met[0] && met[1]) { // both were inside their callbacks before either cancelled
                    overlapped++;
                    if (res[0] != DEADLOCK && res[1] != DEADLOCK) {
                        fail("round " + n + ": mutual cancel without DEADLOCK: " + AsyncStatus.name(res[0]) + ", "
                            + AsyncStatus.name(res[1]));
                    }
                    if (res[0] == DEADLOCK && res[1] == DEADLOCK) {
                        bothDeadlock++;
                    }
                }
            }
            System.out.printf("mutual cancel[%s]: rounds=%d overlapped=%d bothDeadlock=%d %s%n", mode, rounds,
                overlapped, bothDeadlock, results);
            results.assertOnlyAllowed();
            assertTrue(overlapped > rounds / 2, () -> "forced overlap failed too often: " + results);
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }

    @Test
    void notInitializedAndClosed() {
        final Elem e = new Elem();
        assertEquals(NOT_INITIALIZED, e.timer.cancel());
        final Harness h = Harness.of(DispatchMode.DEFERRED);
        try {
            assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
            assertEquals(OK, e.timer.cancel());
            assertEquals(OK, e.timer.close());
            assertEquals(NOT_INITIALIZED, e.timer.cancel());
            assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
        } finally {
            h.close();
        }
        assertEquals(CLOSED, e.timer.cancel());
    }
}
