package dev.latchwork.kernel;

import static dev.latchwork.AsyncStatus.BUSY;
import static dev.latchwork.AsyncStatus.DEADLOCK;
import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.OK;
import static dev.latchwork.AsyncStatus.WAS_PENDING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TestBackend;
import dev.latchwork.TimerCallback;
import dev.latchwork.TimerClock;

/**
 * Port of the kernel's {@code timer} selftest ({@code serial_test_timer}: {@code prog_tests/timer.c}
 * and {@code progs/timer.c}), run in every {@link DispatchMode}.
 * <p>
 * The BPF program's globals become fields of this test ({@code err} and {@code ok} bit masks with
 * the kernel's bit values, {@code callback_check}, {@code bss_data}, {@code abs_data},
 * {@code pinned_callback_check}); a map value becomes an {@link Elem} owning an
 * {@link AsyncTimer}; "delete/update the element" becomes {@link AsyncTimer#close()} (the kernel's
 * {@code bpf_timer_cancel_and_free}); re-inserting an element is a fresh {@code init}. The runner's
 * {@code usleep(50)} becomes waiting (10 s bound) for the {@code ok} bits, then a short settle
 * period after which no counter may move again. The timer backend is a test-owned single-thread
 * scheduler whose thread name is known.
 *
 * <table>
 *   <caption>kernel check → JVM check in this class</caption>
 *   <tr><th>kernel (progs/timer.c, prog_tests/timer.c)</th><th>here</th></tr>
 *   <tr><td>{@code callback_check == 52} and {@code callback2_check == 52} before the run; {@code == 42}
 *       after: {@code timer_cb2} ran 10 times for HTAB and 10 times for HTAB_MALLOC, each re-arming
 *       itself with {@code bpf_timer_start(1000 ns)} while {@code --counter != 0}</td>
 *       <td>same counters, same two self-re-arming {@code start(1000)} chains with {@code counter = 10};
 *       the re-arm must answer {@code OK} (JVM-only bit {@code 1 << 17})</td></tr>
 *   <tr><td>array timer ({@code start(0)}) callback re-arms itself at 2^35 ns (err 1), never observed</td>
 *       <td>{@code start(1L << 35)} must be {@code OK} (err 1); {@code bss_data} stays 10, so it never ran again</td></tr>
 *   <tr><td>array callback: set_callback + {@code start(0)} on the LRU timer (err 2)</td><td>same (err 2)</td></tr>
 *   <tr><td>LRU callback inserts keys until its own element is evicted, then
 *       {@code bpf_timer_cancel(own) == -EINVAL} (err 4), {@code ok |= 1}</td>
 *       <td><b>LRU eviction has no JVM meaning.</b> Nearest: the callback closes its own cell (what
 *       eviction does to the element's timer, JVM-only bit {@code 1 << 16} if close is not {@code OK}),
 *       then {@code cancel()} must answer {@code NOT_INITIALIZED} (err 4); {@code ok |= 1}</td></tr>
 *   <tr><td>{@code bss_data == 10}: {@code timer_cb1} ran twice (+5 each)</td><td>same</td></tr>
 *   <tr><td>HTAB last run: {@code bpf_timer_cancel(array timer) == 1} (armed at 2^35, err 8)</td>
 *       <td>{@code cancel()} of the armed array timer answers {@code WAS_PENDING} (err 8)</td></tr>
 *   <tr><td>HTAB last run: {@code bpf_timer_cancel(self) == -EDEADLK} (err 16); delete own element
 *       must not deadlock; then {@code bpf_timer_start(own slot) == -EINVAL} (err 32); {@code ok |= 2}</td>
 *       <td>self {@code cancel()} answers {@code DEADLOCK} (err 16); {@code close()} of its own cell from
 *       its callback returns (JVM-only bit {@code 1 << 18} if not {@code OK}); then {@code start(1000)}
 *       answers {@code NOT_INITIALIZED} (err 32); {@code ok |= 2}</td></tr>
 *   <tr><td>HTAB_MALLOC last run: key check (err 64), self-cancel {@code -EDEADLK} (err 128), delete,
 *       {@code ok |= 4}</td><td>owner key check (err 64), self {@code cancel()} {@code DEADLOCK} (err 128),
 *       {@code close()}, {@code ok |= 4}</td></tr>
 *   <tr><td>test2: init, update the same key (frees the timer); key 0: init, delete, re-insert, init
 *       ("no leak"); then {@code bpf_timer_init == 0} for HTAB / HTAB_MALLOC (err 512 / 1024)</td>
 *       <td>init → close → init on the same cell, and init → close → init on a fresh owner; the final
 *       inits must answer {@code OK} (err 512 / 1024); no leak = {@code stats().controlBlocksLive()}
 *       settles at the number of cells still initialized</td></tr>
 *   <tr><td>test1 inits {@code array[0]} and never uses it (array destruction must not leak)</td>
 *       <td>same; closing the runtime afterwards leaves that cell answering {@code CLOSED}</td></tr>
 *   <tr><td>{@code abs_data == 12}: {@code timer_cb3} ({@code CLOCK_BOOTTIME}, {@code BPF_F_TIMER_ABS}, first
 *       at now + 1000 ns) ran twice (+6 each); the second run re-arms at now + 2^35 ns (never observed)</td>
 *       <td><b>BOOTTIME has no JVM clock</b>: {@link TimerClock#MONOTONIC} with {@code startAt}; same +6 runs
 *       and 2^35 re-arm; {@code abs_data} stays 12</td></tr>
 *   <tr><td>{@code pinned_callback_check == 2}: relative and absolute {@code BPF_F_TIMER_CPU_PIN} timers
 *       each ran once on the arming CPU (else err 16384)</td>
 *       <td><b>CPU pinning has no JVM meaning.</b> Nearest: both timers (relative {@code start(1000)} and
 *       absolute {@code startAt(now + 1000)}) run on the timer backend's thread, never on the arming
 *       thread (else err 16384); count == 2</td></tr>
 *   <tr><td>init results of the abs / pinned timers must be 0 (err 2048 / 4096); lookups (err 8192)</td>
 *       <td>same for init (2048 / 4096); lookups have no JVM meaning (no map), bit 8192 never set</td></tr>
 *   <tr><td>{@code err == 0}, {@code ok == 7}</td><td>same</td></tr>
 *   <tr><td>{@code RUN_TESTS(timer_failure)}: a callback that may return non-zero is rejected by the
 *       verifier</td><td><b>Verifier rules have no JVM meaning</b>: {@link TimerCallback} returns
 *       {@code void}, so javac enforces it. Nearest runtime rule, {@link #callbackExceptionIsReportedAndTimerStaysUsable}:
 *       a callback that throws is reported to the error handler and counted, and the timer stays usable</td></tr>
 *   <tr><td>{@code timer_crash}: garbage written over the hidden timer field, then {@code bpf_timer_cancel}
 *       on the never-initialized slot is a harmless {@code -EINVAL}</td>
 *       <td>The cell's state is not reachable from user code. Nearest, {@link #neverInitializedCellIsHarmless}:
 *       every operation on a never-initialized cell answers {@code NOT_INITIALIZED} and nothing fires</td></tr>
 * </table>
 * Beyond the kernel, the cell closed from its own callback is initialized again afterwards and fires
 * (re-init after close).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TimerSelfTest {
    static final int ARRAY = 1;
    static final int HTAB = 2;
    static final int HTAB_MALLOC = 3;
    static final int LRU = 4;
    static final String TIMER_THREAD = "kernel-timer";

    /** A map value: a key, a counter, and the embedded timer. */
    static final class Elem {
        final int key;
        final AtomicInteger counter;
        final AsyncTimer<Elem> timer = new AsyncTimer<>();

        Elem(final int key, final int counter) {
            this.key = key;
            this.counter = new AtomicInteger(counter);
        }
    }

    // the BPF program's globals
    final AtomicLong err = new AtomicLong();
    final AtomicLong ok = new AtomicLong();
    final AtomicLong bssData = new AtomicLong();
    final AtomicLong absData = new AtomicLong();
    final AtomicLong pinnedCallbackCheck = new AtomicLong();
    final AtomicLong callbackCheck = new AtomicLong(52);
    final AtomicLong callback2Check = new AtomicLong(52);

    // the maps
    final Elem[] array = {new Elem(0, 0), new Elem(ARRAY, 0)};
    final Elem lru = new Elem(LRU, 0);
    Elem htab;
    Elem htabMalloc;
    Elem htab0;
    Elem htabMalloc0;
    final Elem absTimer = new Elem(0, 0);
    final Elem softTimerPinned = new Elem(0, 0);
    final Elem absTimerPinned = new Elem(0, 0);

    final CountDownLatch arrayCallbackRan = new CountDownLatch(1);
    volatile Thread armingThread;

    private void setErr(final long bit) {
        err.getAndAccumulate(bit, (a, b) -> a | b);
    }

    private void setOk(final long bit) {
        ok.getAndAccumulate(bit, (a, b) -> a | b);
    }

    /** {@code timer_cb1}: callback of the array and LRU timers. */
    private void timerCb1(final Elem e, final AsyncTimer<Elem> timer) {
        bssData.addAndGet(5);
        if (e.key == ARRAY) {
            // re-arm the array timer ~34 s out: never observed, cancelled by timer_cb2
            if (timer.start(1L << 35) != OK) {
                setErr(1);
            }
            final int sc = lru.timer.setCallback(this::timerCb1);
            if (sc != OK || lru.timer.start(0) != OK) {
                setErr(2);
            }
            arrayCallbackRan.countDown();
        } else if (e.key == LRU) {
            // LRU eviction analog: the element's timer is freed under its running callback
            if (timer.close() != OK) {
                setErr(1 << 16);
            }
            if (timer.cancel() != NOT_INITIALIZED) {
                setErr(4);
            }
            setOk(1);
        }
    }

    /** {@code timer_cb2}: callback of both hash-map timers. */
    private void timerCb2(final Elem e, final AsyncTimer<Elem> timer) {
        if (e.key == HTAB) {
            callbackCheck.decrementAndGet();
        } else {
            callback2Check.decrementAndGet();
        }
        if (e.counter.get() > 0 && e.counter.decrementAndGet() != 0) {
            if (timer.start(1000) != OK) { // re-arm 1 µs out
                setErr(1 << 17);
            }
        } else if (e.key == HTAB) {
            if (array[ARRAY].timer.cancel() != WAS_PENDING) { // it was armed ~34 s out
                setErr(8);
            }
            if (timer.cancel() != DEADLOCK) { // cancelling ourselves must not deadlock
                setErr(16);
            }
            if (timer.close() != OK) { // delete our own element: must not deadlock either
                setErr(1 << 18);
            }
            if (timer.start(1000) != NOT_INITIALIZED) {
                setErr(32);
            }
            setOk(2);
        } else {
            if (e.key != HTAB_MALLOC) {
                setErr(64);
            }
            if (timer.cancel() != DEADLOCK) {
                setErr(128);
            }
            timer.close();
            setOk(4);
        }
    }

    /** {@code timer_cb3}: the absolute timer, +6 per run; the second run re-arms ~34 s out. */
    private void timerCb3(final Elem e, final AsyncTimer<Elem> timer) {
        final long v = absData.addAndGet(6);
        final long now = System.nanoTime();
        if (v < 12) {
            if (timer.startAt(now + 1000) != OK) {
                setErr(1 << 19);
            }
        } else if (timer.startAt(now + (1L << 35)) != OK) {
            setErr(1 << 19);
        }
    }

    /** {@code timer_cb_pinned}: runs on the backend's thread, never the arming one. */
    private void timerCbPinned(final Elem e, final AsyncTimer<Elem> timer) {
        final Thread t = Thread.currentThread();
        if (!t.getName().startsWith(TIMER_THREAD) || t == armingThread) {
            setErr(16384);
        }
        pinnedCallbackCheck.incrementAndGet();
    }

    @TestBackend.BothBackends
    void timer(final DispatchMode mode) throws Exception {
        try (Harness h = Harness.withScheduler(mode, 1, TIMER_THREAD)) {
            armingThread = Thread.currentThread();
            assertEquals(52, callbackCheck.get(), "callback_check1");
            assertEquals(52, callback2Check.get(), "callback2_check1");
            assertEquals(0, pinnedCallbackCheck.get(), "pinned_callback_check1");

            // ---- test1: array[1] + lru[4], array[1] fires asap; array[0] initialized, never used
            assertEquals(OK, array[ARRAY].timer.init(h.rt, array[ARRAY], TimerClock.MONOTONIC));
            assertEquals(OK, lru.timer.init(h.rt, lru, TimerClock.MONOTONIC));
            assertEquals(OK, array[ARRAY].timer.setCallback(this::timerCb1));
            assertEquals(OK, array[ARRAY].timer.start(0));
            assertEquals(OK, array[0].timer.init(h.rt, array[0], TimerClock.MONOTONIC));
            // the kernel relies on fentry order for timer_cb1 to run before the hash timers finish;
            // here the ordering is made explicit
            assertTrue(arrayCallbackRan.await(10, TimeUnit.SECONDS), "timer_cb1 for ARRAY never ran");

            // ---- test2: init, then "update" (free) the same element's timer; key 0: init/delete/re-insert/init
            htab = new Elem(HTAB, 10);
            assertEquals(OK, htab.timer.init(h.rt, htab, TimerClock.MONOTONIC));
            assertEquals(OK, htab.timer.close());
            htabMalloc = new Elem(HTAB_MALLOC, 10);
            assertEquals(OK, htabMalloc.timer.init(h.rt, htabMalloc, TimerClock.MONOTONIC));
            assertEquals(OK, htabMalloc.timer.close());
            htab0 = new Elem(0, 10);
            assertEquals(OK, htab0.timer.init(h.rt, htab0, TimerClock.MONOTONIC));
            assertEquals(OK, htab0.timer.close());
            htab0 = new Elem(0, 10); // re-insert: a fresh value
            assertEquals(OK, htab0.timer.init(h.rt, htab0, TimerClock.MONOTONIC));
            htabMalloc0 = new Elem(0, 10);
            assertEquals(OK, htabMalloc0.timer.init(h.rt, htabMalloc0, TimerClock.MONOTONIC));
            assertEquals(OK, htabMalloc0.timer.close());
            htabMalloc0 = new Elem(0, 10);
            assertEquals(OK, htabMalloc0.timer.init(h.rt, htabMalloc0, TimerClock.MONOTONIC));

            // ---- bpf_timer_test: re-init after free must succeed, then 10-run self-re-arming chains
            if (htab.timer.init(h.rt, htab, TimerClock.MONOTONIC) != OK) {
                setErr(512);
            }
            htab.timer.setCallback(this::timerCb2);
            htab.timer.start(1000);
            if (htabMalloc.timer.init(h.rt, htabMalloc, TimerClock.MONOTONIC) != OK) {
                setErr(1024);
            }
            htabMalloc.timer.setCallback(this::timerCb2);
            htabMalloc.timer.start(1000);

            // ---- absolute timer (BOOTTIME -> MONOTONIC), pinned timers (-> backend thread)
            if (absTimer.timer.init(h.rt, absTimer, TimerClock.MONOTONIC) != OK) {
                setErr(2048);
            }
            absTimer.timer.setCallback(this::timerCb3);
            absTimer.timer.startAt(System.nanoTime() + 1000);
            if (softTimerPinned.timer.init(h.rt, softTimerPinned, TimerClock.MONOTONIC) != OK
                || absTimerPinned.timer.init(h.rt, absTimerPinned, TimerClock.MONOTONIC) != OK) {
                setErr(4096);
            }
            softTimerPinned.timer.setCallback(this::timerCbPinned);
            softTimerPinned.timer.start(1000);
            absTimerPinned.timer.setCallback(this::timerCbPinned);
            absTimerPinned.timer.startAt(System.nanoTime() + 1000);

            // ---- the runner's usleep(50): wait for every code path, then let things settle
            Harness.await(() -> ok.get() == 7 && absData.get() == 12 && pinnedCallbackCheck.get() == 2,
                10_000, () -> "ok=" + ok + " abs_data=" + absData + " pinned=" + pinnedCallbackCheck + " err=" + err);
            Harness.pause(20);

            assertEquals(42, callbackCheck.get(), "callback_check2");
            assertEquals(42, callback2Check.get(), "callback2_check2");
            assertEquals(10, bssData.get(), "bss_data (timer_cb1 ran exactly twice)");
            assertEquals(12, absData.get(), "abs_data (timer_cb3 ran exactly twice)");
            assertEquals(2, pinnedCallbackCheck.get(), "pinned_callback_check");
            assertEquals(0, err.get(), () -> "err bits 0x" + Long.toHexString(err.get()));
            assertEquals(1 | 2 | 4, ok.get(), "ok");
            assertTrue(h.errors.isEmpty(), h::errorsText);

            // the cells the callbacks closed are uninitialized; the armed 2^35 array timer was cancelled
            assertFalse(htab.timer.isInitialized());
            assertFalse(htabMalloc.timer.isInitialized());
            assertFalse(lru.timer.isInitialized());
            assertEquals(NOT_INITIALIZED, htab.timer.start(1000));
            Harness.await(() -> !array[ARRAY].timer.isArmed(), 10_000, () -> "array timer disarmed by the cancel");
            assertEquals(AsyncStatus.NO_CALLBACK, array[ARRAY].timer.start(0), "sync cancel clears the callback");

            // no leak: live control blocks settle at the number of cells still initialized
            final List<Elem> all = List.of(array[0], array[1], lru, htab, htabMalloc, htab0, htabMalloc0,
                absTimer, softTimerPinned, absTimerPinned);
            final long initialized = all.stream().filter(x -> x.timer.isInitialized()).count();
            assertEquals(7, initialized);
            Harness.await(() -> h.rt.stats().controlBlocksLive() == initialized, 10_000,
                () -> "controlBlocksLive settles at " + initialized + ", stats " + h.rt.stats());

            // beyond the kernel: the cell closed from its own callback can be initialized again at once
            final CountDownLatch again = new CountDownLatch(1);
            assertEquals(OK, htab.timer.init(h.rt, htab, TimerClock.MONOTONIC));
            assertEquals(OK, htab.timer.setCallback((o, t) -> again.countDown()));
            assertEquals(OK, htab.timer.start(0));
            assertTrue(again.await(10, TimeUnit.SECONDS), "re-initialized cell never fired");
            assertEquals(42, callbackCheck.get(), "the old callback must not run for the new block");

            // skeleton destroy: close the abs timer (armed 2^35 out), then the runtime
            Harness.await(absTimer.timer::isArmed, 10_000, () -> "abs timer re-armed 2^35 ns out");
            assertEquals(OK, absTimer.timer.close());
            h.rt.close();
            assertEquals(AsyncStatus.CLOSED, array[0].timer.start(0), "unused array[0] after runtime close");
            assertEquals(12, absData.get());
        }
    }

    /** The nearest runtime rule to {@code timer_failure}: a throwing callback is isolated. */
    @TestBackend.BothBackends
    void callbackExceptionIsReportedAndTimerStaysUsable(final DispatchMode mode) throws Exception {
        try (Harness h = Harness.of(mode)) {
            final Elem e = new Elem(0, 0);
            final AtomicInteger runs = new AtomicInteger();
            final CountDownLatch secondRun = new CountDownLatch(1);
            assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
            assertEquals(OK, e.timer.setCallback((o, t) -> {
                if (runs.incrementAndGet() == 1) {
                    throw new IllegalStateException("callback returned non-zero");
                }
                secondRun.countDown();
            }));
            assertEquals(OK, e.timer.start(0));
            // the runtime counts the error, then hands it to the handler: wait for the handler
            Harness.await(() -> !h.errors.isEmpty(), 10_000, () -> "error reported: " + h.rt.stats());
            assertEquals(1, h.errors.size(), h::errorsText);
            assertEquals(1, h.rt.stats().callbackErrors(), "error counted");
            assertTrue(h.errors.peek() instanceof IllegalStateException, h::errorsText);
            assertEquals(OK, e.timer.start(0), "timer usable after its callback threw");
            assertTrue(secondRun.await(10, TimeUnit.SECONDS));
            assertEquals(2, runs.get());
        }
    }

    /** The nearest analog of {@code timer_crash}: a never-initialized cell is inert. */
    @Test
    void neverInitializedCellIsHarmless() {
        try (Harness h = Harness.of(DispatchMode.DEFERRED)) {
            final Elem e = new Elem(0, 0);
            final TimerCallback<Elem> cb = (o, t) -> setErr(1);
            assertEquals(NOT_INITIALIZED, e.timer.cancel());
            assertEquals(NOT_INITIALIZED, e.timer.cancelAsync());
            assertEquals(NOT_INITIALIZED, e.timer.start(0));
            assertEquals(NOT_INITIALIZED, e.timer.startAt(0));
            assertEquals(NOT_INITIALIZED, e.timer.setCallback(cb));
            assertEquals(NOT_INITIALIZED, e.timer.close());
            assertFalse(e.timer.isInitialized());
            assertFalse(e.timer.isArmed());
            assertEquals(OK, e.timer.init(h.rt, e, TimerClock.MONOTONIC));
            assertEquals(BUSY, e.timer.init(h.rt, e, TimerClock.MONOTONIC), "double init");
            Harness.pause(5);
            assertEquals(0, err.get());
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }
}
