package dev.latchwork.kernel;

import static dev.latchwork.AsyncStatus.BUSY;
import static dev.latchwork.AsyncStatus.DEADLOCK;
import static dev.latchwork.AsyncStatus.NO_CALLBACK;
import static dev.latchwork.AsyncStatus.OK;
import static dev.latchwork.AsyncStatus.WAS_PENDING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Timeout;

import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TestBackend;
import dev.latchwork.TimerClock;

/**
 * Port of the kernel's {@code test_timer_lockup} ({@code prog_tests/timer_lockup.c},
 * {@code progs/timer_lockup.c}; Kumar Kartikeya Dwivedi, July 2024): two timers whose callbacks
 * synchronously cancel each other's timer. Without cycle detection both callbacks wait for each
 * other forever; with the kernel's {@code cancelling}-counter rule at least one side answers
 * {@link AsyncStatus#DEADLOCK} and nobody hangs.
 *
 * <table>
 *   <caption>kernel check → JVM check</caption>
 *   <tr><th>kernel</th><th>here</th></tr>
 *   <tr><td>two single-entry array maps; {@code timer1_prog} / {@code timer2_prog} init (BOOTTIME),
 *       set callback, start at 1 ns with {@code BPF_F_TIMER_CPU_PIN}</td>
 *       <td>two cells on a runtime whose timer backend is a test-owned 2-thread
 *       {@code ScheduledThreadPoolExecutor} ({@code Builder.timerScheduler}); each round sets both
 *       callbacks and arms both with {@code startAt} at the same deadline 200 µs ahead, so both backend
 *       threads wake together; each callback spins 100 µs of "work" before its cancel so that they
 *       overlap often. <b>BOOTTIME has no JVM clock</b> (MONOTONIC); <b>CPU pinning has no JVM
 *       meaning</b>: the two backend threads play the two CPUs. The driver's second {@code startAt}
 *       may answer NO_CALLBACK when the first timer already fired and its callback's cancel cleared
 *       the second's callback, or BUSY when that cancel holds the second timer's latch at the same
 *       instant (the kernel's progs ignore the result)</td></tr>
 *   <tr><td>{@code timer_cb1}: {@code timer2_err = bpf_timer_cancel(timer2)}; {@code timer_cb2}:
 *       {@code timer1_err = bpf_timer_cancel(timer1)}</td><td>same, with {@code AsyncTimer.cancel()}</td></tr>
 *   <tr><td>two threads pinned to different CPUs run their prog until an err is non-zero; skip after
 *       50 rounds without a hit or with &lt; 2 CPUs</td>
 *       <td>{@value #ROUNDS} rounds per dispatch mode, never skipped; the driver ends each round with a
 *       sync {@code cancel()} of both timers (it is not a callback, so it may wait, and never gets
 *       DEADLOCK)</td></tr>
 *   <tr><td>pass = no hang and each err ∈ {0, -EDEADLK}</td>
 *       <td>no hang ({@code @Timeout}, a 10 s bound per round); each callback's result ∈
 *       {OK, WAS_PENDING, DEADLOCK} (WAS_PENDING = the other timer had not fired yet: the kernel's 1);
 *       the driver's results ∈ {OK, WAS_PENDING}: WAS_PENDING only when the driver's own start landed
 *       after the other callback's cancel (armed without a callback, which then fires nothing)</td></tr>
 *   <tr><td>— (the kernel only hopes for a hit)</td>
 *       <td>overlap detection: a callback that, just before its cancel, sees the other callback entered
 *       and not yet past its own cancel proves that both were inside their callbacks at once with both
 *       cancels outstanding — exactly the cycle. In every such round at least one result must be
 *       DEADLOCK (otherwise each waits for the other: a hang). Asserted per round; overlapped rounds
 *       and DEADLOCK counts are reported, never required (on a loaded machine the threads may never
 *       overlap)</td></tr>
 * </table>
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TimerLockupSelfTest {
    static final int ROUNDS = 2_000;
    /** Each callback does this much work before its cancel, so the two backend threads overlap. */
    static final long WORK_NANOS = 100_000;
    /** Both timers are armed at the same absolute deadline, this far ahead (the kernel's "1 ns"). */
    static final long LEAD_NANOS = 200_000;

    /** A single-entry array map's value. */
    static final class Elem {
        final AsyncTimer<Elem> timer = new AsyncTimer<>();
    }

    /** One round's shared state: both callbacks and their results. */
    static final class Round {
        final Elem[] timers;
        volatile boolean entered0;
        volatile boolean entered1;
        volatile boolean cancelDone0;
        volatile boolean cancelDone1;
        volatile boolean overlap;
        volatile int err0 = Integer.MIN_VALUE; // timer1_err analog (cb of timer 0 cancels timer 1)
        volatile int err1 = Integer.MIN_VALUE;
        final AtomicInteger done = new AtomicInteger();

        Round(final Elem[] timers) {
            this.timers = timers;
        }

        void callback(final int i) {
            Harness.spin(WORK_NANOS);
            if (i == 0) {
                entered0 = true;
                if (entered1 && !cancelDone1) {
                    overlap = true;
                }
                err0 = timers[1].timer.cancel();
                cancelDone0 = true;
            } else {
                entered1 = true;
                if (entered0 && !cancelDone0) {
                    overlap = true;
                }
                err1 = timers[0].timer.cancel();
                cancelDone1 = true;
            }
            done.incrementAndGet();
        }

        boolean ran(final int i) {
            return (i == 0 ? err0 : err1) != Integer.MIN_VALUE;
        }

        int err(final int i) {
            return i == 0 ? err0 : err1;
        }
    }

    @TestBackend.BothBackends
    void timerLockup(final DispatchMode mode) {
        try (Harness h = Harness.withScheduler(mode, 2, "lockup-cpu")) {
            final Elem[] timers = {new Elem(), new Elem()};
            for (final Elem e : timers) {
                assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
            }
            final StatusTally cbResults = new StatusTally("callback cancel", OK, WAS_PENDING, DEADLOCK);
            // WAS_PENDING: the driver's startAt passed its callback check, then the other callback's
            // cancel cleared the callback and published its CANCEL, then the START landed last: the
            // timer is armed with no callback (the kernel has the same start-versus-cancel race)
            final StatusTally driverResults = new StatusTally("driver cancel", OK, WAS_PENDING);
            // NO_CALLBACK: the first timer already fired and its callback's cancel cleared the second's;
            // BUSY: that cancel was holding the second timer's latch at the same instant
            final StatusTally driverStarts = new StatusTally("driver startAt", OK, NO_CALLBACK, BUSY);
            int overlapped = 0;
            int deadlockRounds = 0;
            int bothRan = 0;
            final long t0 = System.nanoTime();
            for (int n = 0; n < ROUNDS; n++) {
                final Round r = new Round(timers);
                assertEquals(OK, timers[0].timer.setCallback((o, t) -> r.callback(0)));
                assertEquals(OK, timers[1].timer.setCallback((o, t) -> r.callback(1)));
                final long at = System.nanoTime() + LEAD_NANOS;
                driverStarts.record(timers[0].timer.startAt(at));
                driverStarts.record(timers[1].timer.startAt(at));
                // at least one callback runs: nothing cancels the first one to fire
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                for (int spins = 0; r.done.get() == 0; spins++) {
                    if (System.nanoTime() - deadline > 0) {
                        fail("round " + n + ": no callback completed within 10 s (hang?) " + h.rt.stats());
                    }
                    if (spins < 100) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield();
                    }
                }
                driverResults.record(timers[0].timer.cancel());
                driverResults.record(timers[1].timer.cancel());
                // the sync cancels returned: neither callback of this round is running or will run
                final int doneAfter = r.done.get();
                for (int i = 0; i < 2; i++) {
                    if (r.ran(i)) {
                        cbResults.record(r.err(i));
                    }
                }
                final boolean deadlock = r.err0 == DEADLOCK || r.err1 == DEADLOCK;
                if (deadlock) {
                    deadlockRounds++;
                }
                if (r.ran(0) && r.ran(1)) {
                    bothRan++;
                }
                if (r.overlap) {
                    overlapped++;
                    if (!deadlock) {
                        fail("round " + n + ": both callbacks were inside their cancels at once, yet neither got "
                            + "DEADLOCK: err0=" + AsyncStatus.name(r.err0) + " err1=" + AsyncStatus.name(r.err1));
                    }
                }
                assertEquals(doneAfter, r.done.get(), "a callback ran after the driver's sync cancel returned");
            }
            final long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.printf("timer_lockup[%s]: rounds=%d in %d ms, both ran=%d, overlapped=%d, rounds with "
                + "DEADLOCK=%d%n  %s %s %s%n  %s%n", mode, ROUNDS, ms, bothRan, overlapped, deadlockRounds, cbResults,
                driverStarts, driverResults, h.rt.stats());
            cbResults.assertOnlyAllowed();
            driverResults.assertOnlyAllowed();
            driverStarts.assertOnlyAllowed();
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }
}
