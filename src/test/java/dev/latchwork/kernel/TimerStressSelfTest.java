package dev.latchwork.kernel;

import static dev.latchwork.AsyncStatus.BUSY;
import static dev.latchwork.AsyncStatus.DEAD;
import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.NO_CALLBACK;
import static dev.latchwork.AsyncStatus.OK;
import static dev.latchwork.AsyncStatus.WAS_PENDING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TestBackend;
import dev.latchwork.TimerCallback;
import dev.latchwork.TimerClock;

/**
 * Port of the kernel's {@code serial_test_timer_stress} and {@code serial_test_timer_stress_async_cancel}
 * ({@code d02fdd7195ca}, Martin Lau's reproducer of CVE-2024-26737), and of the NMI variants
 * {@code serial_test_timer_stress_nmi_race / _nmi_update / _nmi_cancel} ({@code 083c5a4babad}).
 * <p>
 * {@link #THREADS} threads each run the kernel's {@code race} program {@link #ITERATIONS} times
 * against <b>one shared cell</b> ({@code race_array[0]}):
 * <pre>
 *   close()                                   // update race_array[0] with zeros = cancel_and_free
 *   r = init(rt, owner, MONOTONIC); if (r != OK &amp;&amp; r != BUSY) continue
 *   setCallback(raceCallback)                  // re-arms itself after 1 ms
 *   start(0)
 *   RACE_SYNC: cancel()   |   RACE_ASYNC: cancelAsync()
 * </pre>
 * One iteration in eight spins up to 200 µs between {@code start(0)} and the cancel: the kernel's
 * {@code start} arms the hrtimer synchronously and it fires in softirq while the other CPUs run
 * close / cancel, whereas a JVM start applied by the dispatcher after its own cancel was published is
 * superseded and never fires; without the pause no callback would ever run and the
 * callback-versus-close/cancel races (and the 1 ms chain) would go untested.
 * <p>
 * Pass = no exception, no hang (every thread joins within its bound), no error reported to the
 * runtime, every step answered a status from its documented set below, and afterwards the cell
 * closes cleanly: {@code controlBlocksLive} returns to 0 and the 1 ms chain stops (at most one
 * callback already in flight at the final close may still enter).
 *
 * <table>
 *   <caption>each step's possible statuses, and why</caption>
 *   <tr><th>step</th><th>statuses</th><th>why</th></tr>
 *   <tr><td>{@code close()}</td><td>OK, NOT_INITIALIZED</td><td>exactly one concurrent close wins the
 *       detach; the others find the cell empty</td></tr>
 *   <tr><td>{@code init}</td><td>OK, BUSY</td><td>BUSY: another thread's init won, or the cell is
 *       still initialized (kernel {@code -EBUSY}, tolerated by the kernel program too)</td></tr>
 *   <tr><td>{@code setCallback}</td><td>OK, NOT_INITIALIZED</td><td>another thread closed the cell
 *       in between</td></tr>
 *   <tr><td>{@code start(0)}</td><td>OK, NOT_INITIALIZED, NO_CALLBACK, DEAD, BUSY</td><td>closed in
 *       between; callback cleared by another thread's sync {@code cancel} or by a racing close
 *       (close clears the callback before marking the block detached); the block was detached
 *       after we read it (kernel {@code -ENOENT}); another thread was publishing on the same latch
 *       (bounded spin exhausted)</td></tr>
 *   <tr><td>{@code cancel()} (RACE_SYNC)</td><td>OK, WAS_PENDING, NOT_INITIALIZED</td><td>never DEADLOCK:
 *       the racing threads are not callbacks</td></tr>
 *   <tr><td>{@code cancelAsync()} (RACE_ASYNC)</td><td>OK, BUSY, NOT_INITIALIZED, DEAD</td><td>as for
 *       start, minus NO_CALLBACK (a cancel needs no callback)</td></tr>
 *   <tr><td>callback's {@code start(1 ms)}</td><td>OK, NOT_INITIALIZED, NO_CALLBACK, DEAD, BUSY</td>
 *       <td>the callback re-arms the <i>cell</i>, which may hold a newer block or none</td></tr>
 * </table>
 *
 * <table>
 *   <caption>kernel check → JVM check</caption>
 *   <tr><th>kernel</th><th>here</th></tr>
 *   <tr><td>8 threads × 10000 runs of {@code race}; each run err 0 / retval 0; KASAN finds no UAF</td>
 *       <td>{@value #THREADS} threads × {@value #ITERATIONS} iterations (sized for a loaded 2-core
 *       machine); no exception, every status documented, no hang; UAF has no JVM meaning (the GC
 *       keeps blocks alive) — its JVM counterpart is "a command never touches a block other than
 *       the one it was published on", checked by {@code controlBlocksLive} returning to 0 and the
 *       chain dying with its block</td></tr>
 *   <tr><td>NMI variants: a perf event ({@code PERF_COUNT_HW_CPU_CYCLES}, sample period 10000) runs
 *       the program in NMI context on CPUs burned by 8 threads; {@code test_hits > 0}</td>
 *       <td><b>NMI has no JVM meaning.</b> Nearest: two busy-spin threads (a hot path's duty cycle,
 *       {@link Thread#onSpinWait()} between "interrupts" of random length) calling only hot-path
 *       operations; DEFERRED and HOST_DRIVEN only (INLINE callers may take the backend's locks, the
 *       kernel's non-NMI path). {@code test_hits > 0}</td></tr>
 *   <tr><td>{@code nmi_race}: {@code test_common(RACE_ASYNC)} from NMI</td><td>{@link #nmiRace}: close / init /
 *       setCallback / start(0) / cancelAsync from the spinning threads</td></tr>
 *   <tr><td>{@code nmi_update}: the callback overwrites its own element; {@code update_hits > 0}</td>
 *       <td>{@link #nmiUpdate}: the callback closes its own cell (OK or NOT_INITIALIZED if a spinner
 *       closed it first); {@code update_hits > 0}</td></tr>
 *   <tr><td>{@code nmi_cancel}: the callback calls {@code bpf_timer_cancel_async} on itself;
 *       {@code cancel_hits > 0}</td><td>{@link #nmiCancel}: the callback's {@code cancelAsync()} on its own
 *       cell answers OK, BUSY, NOT_INITIALIZED or DEAD; {@code cancel_hits > 0}</td></tr>
 * </table>
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TimerStressSelfTest {
    static final int THREADS = 4;
    static final int ITERATIONS = 15_000;
    static final long JOIN_MILLIS = 30_000;

    enum Race { SYNC, ASYNC }

    /** The map value {@code race_array[0]}. */
    static final class Elem {
        final AsyncTimer<Elem> timer = new AsyncTimer<>();
    }

    final StatusTally close = new StatusTally("close", OK, NOT_INITIALIZED);
    final StatusTally init = new StatusTally("init", OK, BUSY);
    final StatusTally setCallback = new StatusTally("setCallback", OK, NOT_INITIALIZED);
    final StatusTally start = new StatusTally("start(0)", OK, NOT_INITIALIZED, NO_CALLBACK, DEAD, BUSY);
    final StatusTally cancel = new StatusTally("cancel", OK, WAS_PENDING, NOT_INITIALIZED);
    final StatusTally cancelAsync = new StatusTally("cancelAsync", OK, BUSY, NOT_INITIALIZED, DEAD);
    final StatusTally rearm = new StatusTally("callback start(1ms)", OK, NOT_INITIALIZED, NO_CALLBACK, DEAD, BUSY);
    final StatusTally selfClose = new StatusTally("callback close", OK, NOT_INITIALIZED);
    final StatusTally selfCancel = new StatusTally("callback cancelAsync", OK, BUSY, NOT_INITIALIZED, DEAD);
    final AtomicLong fired = new AtomicLong();
    final AtomicLong lateEntries = new AtomicLong();
    volatile boolean finalClosed;

    /** {@code race_timer_callback}: re-arms itself after 1 ms. */
    private final TimerCallback<Elem> raceCallback = (e, t) -> {
        entered();
        rearm.record(t.start(1, TimeUnit.MILLISECONDS));
    };

    /** {@code update_self_callback}: frees its own element. */
    private final TimerCallback<Elem> updateSelf = (e, t) -> {
        entered();
        selfClose.record(t.close());
    };

    /** {@code cancel_self_callback}: async-cancels itself. */
    private final TimerCallback<Elem> cancelSelf = (e, t) -> {
        entered();
        selfCancel.record(t.cancelAsync());
    };

    private void entered() {
        fired.incrementAndGet();
        if (finalClosed) {
            lateEntries.incrementAndGet();
        }
    }

    /** {@code test_common}: one run of the race program. */
    private void testCommon(final AsyncRuntime rt, final Elem e, final TimerCallback<Elem> cb, final Race race) {
        testCommon(rt, e, cb, race, 0);
    }

    /** As above, spinning {@code pauseNanos} between start and cancel (see the class notes). */
    private void testCommon(final AsyncRuntime rt, final Elem e, final TimerCallback<Elem> cb, final Race race,
                            final long pauseNanos) {
        close.record(e.timer.close());
        final int r = init.record(e.timer.init(rt, e, TimerClock.MONOTONIC));
        if (r != OK && r != BUSY) {
            return;
        }
        setCallback.record(e.timer.setCallback(cb));
        start.record(e.timer.start(0));
        if (pauseNanos > 0) {
            Harness.spin(pauseNanos);
        }
        if (race == Race.SYNC) {
            cancel.record(e.timer.cancel());
        } else if (race == Race.ASYNC) {
            cancelAsync.record(e.timer.cancelAsync());
        }
    }

    @TestBackend.BothBackends
    void timerStress(final DispatchMode mode) throws Exception {
        runRace(mode, Race.SYNC);
    }

    @TestBackend.BothBackends
    void timerStressAsyncCancel(final DispatchMode mode) throws Exception {
        runRace(mode, Race.ASYNC);
    }

    private void runRace(final DispatchMode mode, final Race race) throws Exception {
        try (Harness h = Harness.of(mode)) {
            final Elem e = new Elem();
            final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            final long t0 = System.nanoTime();
            final Thread[] ts = Harness.startThreads(THREADS, "race", i -> {
                final SplittableRandom rnd = new SplittableRandom(0xace + i);
                for (int k = 0; k < ITERATIONS; k++) {
                    testCommon(h.rt, e, raceCallback, race, (k & 7) == 7 ? rnd.nextLong(200_000) : 0);
                }
            }, failures);
            Harness.joinAll(ts, JOIN_MILLIS);
            final long elapsed = System.nanoTime() - t0;
            Harness.rethrow(failures);
            finishAndCheck(h, e, "timer_stress[" + mode + ", " + race + "] " + TimeUnit.NANOSECONDS.toMillis(elapsed) + " ms");
            assertEquals((long) THREADS * ITERATIONS, close.total());
        }
    }

    // ------------------------------------------------------------------------------------------
    // NMI analogs: busy-spinning threads, hot-path operations only

    @ParameterizedTest
    @EnumSource(value = DispatchMode.class, names = {"DEFERRED", "HOST_DRIVEN"})
    void nmiRace(final DispatchMode mode) throws Exception {
        spinning(mode, raceCallback, Race.ASYNC, false, "nmi_race");
    }

    @ParameterizedTest
    @EnumSource(value = DispatchMode.class, names = {"DEFERRED", "HOST_DRIVEN"})
    void nmiUpdate(final DispatchMode mode) throws Exception {
        spinning(mode, updateSelf, null, true, "nmi_update");
        assertTrue(selfClose.count(OK) > 0, () -> "update_hits: the callback never closed its own cell " + selfClose);
    }

    @ParameterizedTest
    @EnumSource(value = DispatchMode.class, names = {"DEFERRED", "HOST_DRIVEN"})
    void nmiCancel(final DispatchMode mode) throws Exception {
        spinning(mode, cancelSelf, null, true, "nmi_cancel");
        assertTrue(selfCancel.total() > 0, () -> "cancel_hits " + selfCancel);
    }

    /**
     * Two busy-spin threads: each "interrupt" runs test_common, then the thread spins 1-300 µs.
     * Runs at least 300 iterations per thread and, if {@code needHits}, until a callback ran (the
     * kernel's {@code update_hits} / {@code cancel_hits > 0}), bounded by 10 s.
     */
    private void spinning(final DispatchMode mode, final TimerCallback<Elem> cb, final Race race,
                          final boolean needHits, final String name) throws Exception {
        try (Harness h = Harness.of(mode)) {
            final Elem e = new Elem();
            final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            final AtomicLong testHits = new AtomicLong();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            final Thread[] ts = Harness.startThreads(2, "spin", i -> {
                final SplittableRandom rnd = new SplittableRandom(0x5eed + i);
                for (int k = 0; k < 300 || (needHits && fired.get() == 0 && System.nanoTime() - deadline < 0); k++) {
                    testCommon(h.rt, e, cb, race);
                    testHits.incrementAndGet();
                    Harness.spin(rnd.nextLong(1_000, 300_000));
                }
            }, failures);
            Harness.joinAll(ts, JOIN_MILLIS);
            Harness.rethrow(failures);
            assertTrue(testHits.get() > 0, "test_hits");
            if (needHits) {
                assertTrue(fired.get() > 0, () -> name + ": no callback ran in 10 s; " + start + " " + h.rt.stats());
            }
            finishAndCheck(h, e, name + "[" + mode + "] test_hits=" + testHits);
        }
    }

    /** Final close, then: documented statuses only, no errors, no block left, the chain stops. */
    private void finishAndCheck(final Harness h, final Elem e, final String label) {
        e.timer.close();
        finalClosed = true;
        Harness.await(() -> h.rt.stats().controlBlocksLive() == 0, 10_000,
            () -> "controlBlocksLive returns to 0: " + h.rt.stats());
        Harness.pause(30); // the 1 ms chain would have run ~30 more times had it survived the close
        System.out.printf("%s: fired=%d late=%d%n  %s%n  %s %s %s %s %s %s %s %s%n  %s%n", label, fired.get(),
            lateEntries.get(), h.rt.stats(), close, init, setCallback, start, cancel, cancelAsync, rearm,
            selfClose, selfCancel);
        assertTrue(lateEntries.get() <= 1, () -> "callbacks entered after the final close: " + lateEntries);
        for (final StatusTally t : new StatusTally[] {close, init, setCallback, start, cancel, cancelAsync, rearm,
            selfClose, selfCancel}) {
            t.assertOnlyAllowed();
        }
        assertTrue(h.errors.isEmpty(), h::errorsText);
        assertEquals(0, h.rt.stats().callbackErrors());
    }
}
