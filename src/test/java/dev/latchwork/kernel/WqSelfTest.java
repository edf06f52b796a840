package dev.latchwork.kernel;

import static dev.latchwork.AsyncStatus.BUSY;
import static dev.latchwork.AsyncStatus.CLOSED;
import static dev.latchwork.AsyncStatus.DEADLOCK;
import static dev.latchwork.AsyncStatus.INVALID_ARGUMENT;
import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.NO_CALLBACK;
import static dev.latchwork.AsyncStatus.OK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncTimer;
import dev.latchwork.AsyncWork;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerClock;
import dev.latchwork.WorkCallback;

/**
 * Port of the kernel's {@code serial_test_wq} and {@code serial_test_failures_wq}
 * ({@code prog_tests/wq.c}, {@code progs/wq.c}, {@code progs/wq_failures.c}) to {@link AsyncWork}.
 *
 * <table>
 *   <caption>kernel check → JVM check</caption>
 *   <tr><th>kernel</th><th>here</th></tr>
 *   <tr><td>five programs, one per map kind and key: array key 0 (tc) and key 1 (syscall) with a
 *       sleepable callback, hash key 2, non-prealloc hash key 3, LRU key 4; each must return 0</td>
 *       <td>five owners with keys 0..4, each run through {@link #testCall} which must return 0. <b>Map
 *       kinds (array / hash / NO_PREALLOC / LRU) have no JVM meaning</b>: every owner is a plain object
 *       with an embedded {@link AsyncWork}; keys 0 and 1 use the sleepable callback, keys 2..4
 *       {@code wq_callback} (the reference does not pin down 3 and 4)</td></tr>
 *   <tr><td>each program: {@code -22} if the key's {@code ok} bit is already set; insert (-1), lookup
 *       (-2); {@code bpf_wq_init == 0} (-3); {@code bpf_wq_set_callback == 0} (-4);
 *       {@code bpf_wq_start == 0} (-5)</td><td>same return codes; insert/lookup cannot fail</td></tr>
 *   <tr><td>{@code wq_callback}: calls a non-sleepable kfunc, {@code ok |= 1 << key}</td><td>same</td></tr>
 *   <tr><td>{@code wq_cb_sleepable}: checks {@code key == value->ok_offset}, calls a <b>sleepable</b> kfunc,
 *       {@code ok_sleepable |= 1 << key}</td>
 *       <td>checks the owner's key against its {@code okOffset}, then <b>blocks</b> (sleeps 2 ms and
 *       takes from a blocking queue with a timeout): work callbacks may block</td></tr>
 *   <tr><td>fresh skeleton, run {@code test_syscall_array_sleepable}, wait 50 µs,
 *       {@code ok_sleepable == 1 << 1}</td><td>a fresh runtime, key 1 only, wait (10 s bound) for the
 *       callback, then {@code okSleepable == 1 << 1}; the first run's masks are {@code ok == 0b11100},
 *       {@code okSleepable == 0b11}</td></tr>
 *   <tr><td>{@code serial_test_failures_wq}: five programs the verifier must reject (non-map second
 *       argument to init; wrong map; set_callback on a non-map-value pointer; wq at offset 1; variable
 *       offset)</td>
 *       <td><b>Verifier rules have no JVM meaning</b> (the type system makes them unrepresentable).
 *       {@link #wqFailures} checks the runtime counterparts: INVALID_ARGUMENT for a null runtime, owner or
 *       callback; NOT_INITIALIZED for every operation on an uninitialized cell; NO_CALLBACK for a start
 *       without callback; BUSY for a double init; CLOSED on a closed runtime</td></tr>
 *   <tr><td>(wq callbacks run in a kworker, timers in softirq)</td>
 *       <td>{@link #timersFireWhileWorkBlocks}: with every work thread blocked in a callback, a timer still
 *       fires (not before its deadline) on the timer backend's thread, which is not a work thread</td></tr>
 *   <tr><td>—</td><td>{@link #syncCancelOfWork}: {@code cancel()} from the work's own callback answers
 *       DEADLOCK; from another thread it waits for the running callback, and answers OK (the run was
 *       running, not pending) — also when the drain that submitted the run has not returned from the
 *       executor yet ({@link #syncCancelWhileSubmitIsInFlight})</td></tr>
 * </table>
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WqSelfTest {

    /** A map value: a key, the offset the sleepable callback checks, and the embedded work item. */
    static final class Elem {
        final int key;
        final int okOffset;
        final AsyncWork<Elem> wq = new AsyncWork<>();

        Elem(final int key) {
            this.key = key;
            this.okOffset = key;
        }
    }

    final AtomicLong ok = new AtomicLong();
    final AtomicLong okSleepable = new AtomicLong();
    final AtomicLong err = new AtomicLong();
    final BlockingQueue<Object> sleepQueue = new ArrayBlockingQueue<>(1);

    private final WorkCallback<Elem> wqCallback = (e, w) -> {
        Thread.onSpinWait(); // the non-sleepable test kfunc
        ok.getAndAccumulate(1L << e.key, (a, b) -> a | b);
    };

    private final WorkCallback<Elem> wqCbSleepable = (e, w) -> {
        if (e.key != e.okOffset) {
            err.incrementAndGet();
            return;
        }
        Thread.sleep(2); // the sleepable test kfunc
        sleepQueue.poll(2, TimeUnit.MILLISECONDS);
        okSleepable.getAndAccumulate(1L << e.key, (a, b) -> a | b);
    };

    /** One of the kernel's {@code test_call_*} programs. */
    int testCall(final AsyncRuntime rt, final int key, final WorkCallback<Elem> cb) {
        if (((ok.get() | okSleepable.get()) & (1L << key)) != 0) {
            return -22;
        }
        final Elem e = new Elem(key); // insert + lookup
        if (e.wq.init(rt, e) != OK) {
            return -3;
        }
        if (e.wq.setCallback(cb) != OK) {
            return -4;
        }
        if (e.wq.start() != OK) {
            return -5;
        }
        return 0;
    }

    @ParameterizedTest
    @EnumSource(DispatchMode.class)
    void wq(final DispatchMode mode) {
        try (Harness h = Harness.of(mode)) {
            assertEquals(0, testCall(h.rt, 0, wqCbSleepable), "test_call_array_sleepable");
            assertEquals(0, testCall(h.rt, 1, wqCbSleepable), "test_syscall_array_sleepable");
            assertEquals(0, testCall(h.rt, 2, wqCallback), "test_call_hash_sleepable");
            assertEquals(0, testCall(h.rt, 3, wqCallback), "test_call_hash_malloc_sleepable");
            assertEquals(0, testCall(h.rt, 4, wqCallback), "test_call_lru_sleepable");
            Harness.await(() -> ok.get() == 0b11100 && okSleepable.get() == 0b11, 10_000,
                () -> "ok=" + Long.toBinaryString(ok.get()) + " ok_sleepable=" + Long.toBinaryString(okSleepable.get()));
            assertEquals(0, err.get());
            assertEquals(-22, testCall(h.rt, 1, wqCbSleepable), "a key whose bit is set is refused");
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
        // the runner: a fresh skeleton, only the syscall program
        ok.set(0);
        okSleepable.set(0);
        try (Harness h = Harness.of(mode)) {
            assertEquals(0, testCall(h.rt, 1, wqCbSleepable));
            Harness.await(() -> okSleepable.get() != 0, 10_000, () -> "sleepable callback ran");
            assertEquals(1L << 1, okSleepable.get());
            assertEquals(0, ok.get());
            assertEquals(1, h.rt.stats().workRuns());
        }
    }

    @Test
    void wqFailures() {
        final Elem e = new Elem(0);
        try (Harness h = Harness.of(DispatchMode.DEFERRED)) {
            assertEquals(INVALID_ARGUMENT, e.wq.init(null, e), "init without a runtime");
            assertEquals(INVALID_ARGUMENT, e.wq.init(h.rt, null), "init without an owner");
            assertEquals(INVALID_ARGUMENT, e.wq.setCallback(null));
            assertEquals(NOT_INITIALIZED, e.wq.setCallback(wqCallback));
            assertEquals(NOT_INITIALIZED, e.wq.start());
            assertEquals(NOT_INITIALIZED, e.wq.cancelAsync());
            assertEquals(NOT_INITIALIZED, e.wq.cancel());
            assertEquals(NOT_INITIALIZED, e.wq.close());
            assertFalse(e.wq.isInitialized());
            assertEquals(OK, e.wq.init(h.rt, e));
            assertEquals(BUSY, e.wq.init(h.rt, e), "double init");
            assertEquals(INVALID_ARGUMENT, e.wq.setCallback(null));
            assertEquals(NO_CALLBACK, e.wq.start(), "start without a callback");
            assertEquals(OK, e.wq.close());
            assertEquals(NOT_INITIALIZED, e.wq.start());
            h.rt.close();
            assertEquals(CLOSED, e.wq.init(h.rt, e), "init on a closed runtime");
            assertEquals(0, ok.get());
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }

    @ParameterizedTest
    @EnumSource(DispatchMode.class)
    void timersFireWhileWorkBlocks(final DispatchMode mode) throws Exception {
        try (Harness h = Harness.of(mode)) {
            final int works = 2; // the default work pool has max(2, cores) threads; 2 cores here
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicInteger blocked = new AtomicInteger();
            final Set<Thread> workThreads = ConcurrentHashMap.newKeySet();
            final Elem[] elems = new Elem[works];
            for (int i = 0; i < works; i++) {
                final Elem e = elems[i] = new Elem(i);
                assertEquals(OK, e.wq.init(h.rt, e));
                assertEquals(OK, e.wq.setCallback((o, w) -> {
                    workThreads.add(Thread.currentThread());
                    blocked.incrementAndGet();
                    try {
                        release.await(20, TimeUnit.SECONDS);
                    } finally {
                        blocked.decrementAndGet();
                    }
                }));
                assertEquals(OK, e.wq.start());
            }
            Harness.await(() -> blocked.get() == works, 10_000, () -> "both work callbacks blocked");

            final AsyncTimer<Object> timer = new AsyncTimer<>();
            final CountDownLatch fired = new CountDownLatch(3);
            final AtomicInteger blockedAtFire = new AtomicInteger(Integer.MAX_VALUE);
            final AtomicBoolean ranOnWorkThread = new AtomicBoolean();
            final AtomicLong early = new AtomicLong();
            final long[] due = new long[1];
            assertEquals(OK, timer.init(h.rt, this, TimerClock.MONOTONIC));
            assertEquals(OK, timer.setCallback((o, t) -> {
                final long now = System.nanoTime();
                if (now < due[0]) {
                    early.incrementAndGet();
                }
                blockedAtFire.accumulateAndGet(blocked.get(), Math::min);
                if (workThreads.contains(Thread.currentThread())) {
                    ranOnWorkThread.set(true);
                }
                fired.countDown();
                if (fired.getCount() > 0) {
                    due[0] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
                    t.start(5, TimeUnit.MILLISECONDS); // periodic, self-re-arming
                }
            }));
            due[0] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
            assertEquals(OK, timer.start(20, TimeUnit.MILLISECONDS));
            final boolean allFired = fired.await(10, TimeUnit.SECONDS);
            release.countDown();
            assertTrue(allFired, "timers did not fire while work callbacks blocked");
            assertEquals(works, blockedAtFire.get(), "work callbacks were still blocked at every fire");
            assertFalse(ranOnWorkThread.get(), "a timer callback ran on a work thread");
            assertEquals(0, early.get(), "a timer fired before its deadline");
            Harness.await(() -> blocked.get() == 0, 10_000, () -> "work callbacks finish");
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }

    /**
     * Deterministic version of a drain preempted right after it handed a run to the executor: the
     * work executor starts the run on a fresh thread and does not return from {@code execute} until
     * the sync cancel has decided its answer. The run is already running, so the answer is OK.
     */
    @Test
    void syncCancelWhileSubmitIsInFlight() throws Exception {
        final CountDownLatch executeMayReturn = new CountDownLatch(1);
        final Harness h = Harness.of(DispatchMode.HOST_DRIVEN, b -> b.workExecutor(r -> {
            final Thread t = new Thread(r, "slow-submit-run");
            t.setDaemon(true);
            t.start();
            try {
                executeMayReturn.await(10, TimeUnit.SECONDS);
            } catch (final InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }));
        try {
            final Elem e = new Elem(0);
            final CountDownLatch entered = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            assertEquals(OK, e.wq.init(h.rt, e));
            assertEquals(OK, e.wq.setCallback((o, w) -> {
                entered.countDown();
                release.await(20, TimeUnit.SECONDS);
            }));
            assertEquals(OK, e.wq.start());
            assertTrue(entered.await(10, TimeUnit.SECONDS), "run started while execute() is still in progress");
            final AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
            final Thread canceller = new Thread(() -> result.set(e.wq.cancel()), "wq-canceller");
            canceller.setDaemon(true);
            canceller.start();
            Harness.awaitTimedWaiting(canceller); // answer decided; now waiting for the run
            release.countDown();
            canceller.join(10_000);
            assertFalse(canceller.isAlive());
            assertEquals(OK, result.get(), "the run was already running when cancel was called, not pending");
        } finally {
            executeMayReturn.countDown();
            h.close();
        }
        assertTrue(h.errors.isEmpty(), h::errorsText);
    }

    @ParameterizedTest
    @EnumSource(DispatchMode.class)
    void syncCancelOfWork(final DispatchMode mode) throws Exception {
        try (Harness h = Harness.of(mode)) {
            final Elem e = new Elem(0);
            final CountDownLatch entered = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicInteger selfCancel = new AtomicInteger(Integer.MIN_VALUE);
            final AtomicBoolean finished = new AtomicBoolean();
            assertEquals(OK, e.wq.init(h.rt, e));
            assertEquals(OK, e.wq.setCallback((o, w) -> {
                selfCancel.set(w.cancel());
                entered.countDown();
                release.await(20, TimeUnit.SECONDS);
                finished.set(true);
            }));
            assertEquals(OK, e.wq.start());
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            assertEquals(DEADLOCK, selfCancel.get(), "cancel from its own callback");

            final AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
            final AtomicBoolean called = new AtomicBoolean();
            final AtomicBoolean finishedAtReturn = new AtomicBoolean();
            final Thread canceller = new Thread(() -> {
                called.set(true);
                result.set(e.wq.cancel());
                finishedAtReturn.set(finished.get());
            }, "wq-canceller");
            canceller.setDaemon(true);
            canceller.start();
            Harness.await(called::get, 10_000, () -> "canceller started");
            Harness.awaitTimedWaiting(canceller);
            canceller.join(200);
            assertTrue(canceller.isAlive(), "cancel returned while the work callback was running");
            release.countDown();
            canceller.join(10_000);
            assertFalse(canceller.isAlive());
            assertTrue(finishedAtReturn.get(), "cancel returned before the callback had returned");
            assertEquals(OK, result.get(), "the run was running, not pending");
            assertEquals(NO_CALLBACK, e.wq.start(), "sync cancel clears the callback");
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }
}
