package dev.latchwork.kernel;

import static dev.latchwork.AsyncStatus.BUSY;
import static dev.latchwork.AsyncStatus.DEAD;
import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.NO_CALLBACK;
import static dev.latchwork.AsyncStatus.OK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;

import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TestBackend;
import dev.latchwork.TimerCallback;
import dev.latchwork.TimerClock;

/**
 * Port of the kernel's {@code test_timer_start_delete_race} ({@code b135beb07758}): one thread
 * keeps initializing and arming a timer while another keeps deleting its element. The kernel
 * selftest guards the window where a start that took its reference just before the delete arms the
 * hrtimer after the delete's (no-op) cancel: the final design cancels again when the last
 * reference goes, so the freed timer never fires.
 *
 * <table>
 *   <caption>kernel check → JVM check</caption>
 *   <tr><th>kernel</th><th>here</th></tr>
 *   <tr><td>thread on CPU0: 1000 × (2000 × {lookup, init, set_callback(counting cb), start(100 ms)})</td>
 *       <td>the "starter" thread: at least {@value #STARTS} iterations and {@value #RACE_MILLIS} ms of
 *       {@code init}, {@code setCallback(counting)},
 *       {@code start(100 ms)} on one cell; its last action is a start, so a timer is armed when the
 *       race ends. <b>CPU pinning has no JVM meaning</b>: two plain threads</td></tr>
 *   <tr><td>thread on CPU1: 1000 × (2000 × {@code bpf_map_delete_elem})</td>
 *       <td>the "deleter" thread: {@code close()} in a loop until the starter is done. (On the kernel's
 *       ARRAY map delete is {@code -EINVAL} and frees nothing, per the reference's inference; here
 *       {@code close()} really detaches and frees the block, which is the scenario the test was
 *       written for)</td></tr>
 *   <tr><td>every test_run err 0 / retval 0 ({@code errors == 0}); KASAN finds no UAF</td>
 *       <td>no exception, no error reported to the runtime, and each step answers only its documented
 *       statuses:
 *       {@code init} OK, BUSY (the deleter had not closed the previous block yet);
 *       {@code setCallback} OK, NOT_INITIALIZED (closed in between);
 *       {@code start} OK, NOT_INITIALIZED (closed in between), NO_CALLBACK (close clears the callback
 *       just before it marks the block detached), DEAD (detached after the start read the block) —
 *       never BUSY: the starter is the only publisher on the latch;
 *       {@code close} OK, NOT_INITIALIZED. UAF has no JVM meaning; its JVM counterpart is below</td></tr>
 *   <tr><td>(the point of the fix) the freed timer never fires</td>
 *       <td>after the final {@code close()}, no callback enters: an entry later than 50 ms after the
 *       close returned fails the test (the last start was armed 100 ms out just before the close, so
 *       a leaked arm would fire about 100 ms after it; 50 ms of slack covers a callback that was
 *       already running at its block's close and is allowed to finish)</td></tr>
 *   <tr><td>(memory is freed)</td><td>{@code stats().controlBlocksLive()} returns to 0: every block
 *       the starter created reached its terminal state</td></tr>
 * </table>
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TimerStartDeleteRaceSelfTest {
    /** The starter runs at least this many iterations and at least {@link #RACE_MILLIS}. */
    static final int STARTS = 20_000;
    static final long RACE_MILLIS = 400;
    static final long DELAY_MILLIS = 100;

    static final class Elem {
        final AsyncTimer<Elem> timer = new AsyncTimer<>();
    }

    @TestBackend.BothBackends
    void timerStartDeleteRace(final DispatchMode mode) throws Exception {
        final StatusTally init = new StatusTally("init", OK, BUSY);
        final StatusTally setCallback = new StatusTally("setCallback", OK, NOT_INITIALIZED);
        final StatusTally start = new StatusTally("start(100ms)", OK, NOT_INITIALIZED, NO_CALLBACK, DEAD);
        final StatusTally close = new StatusTally("close", OK, NOT_INITIALIZED);
        final AtomicLong fired = new AtomicLong();
        final AtomicLong lastEntry = new AtomicLong(Long.MIN_VALUE);
        final TimerCallback<Elem> counting = (o, t) -> {
            lastEntry.set(System.nanoTime());
            fired.incrementAndGet();
        };
        try (Harness h = Harness.of(mode)) {
            final Elem e = new Elem();
            final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            final CountDownLatch go = new CountDownLatch(1);
            final AtomicLong deleterOk = new AtomicLong();
            final long t0 = System.nanoTime();
            final Thread starter = Harness.startThreads(1, "starter", i -> {
                await(go);
                final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RACE_MILLIS);
                for (int k = 0; k < STARTS || System.nanoTime() - end < 0; k++) {
                    init.record(e.timer.init(h.rt, e, TimerClock.MONOTONIC));
                    setCallback.record(e.timer.setCallback(counting));
                    start.record(e.timer.start(DELAY_MILLIS, TimeUnit.MILLISECONDS));
                }
                // end armed: a live timer for the final close to kill
                init.record(e.timer.init(h.rt, e, TimerClock.MONOTONIC));
                setCallback.record(e.timer.setCallback(counting));
                start.record(e.timer.start(DELAY_MILLIS, TimeUnit.MILLISECONDS));
            }, failures)[0];
            final Thread deleter = Harness.startThreads(1, "deleter", i -> {
                await(go);
                while (starter.isAlive()) {
                    if (close.record(e.timer.close()) == OK) {
                        deleterOk.incrementAndGet();
                    }
                }
            }, failures)[0];
            go.countDown();
            Harness.joinAll(new Thread[] {starter, deleter}, 30_000);
            Harness.rethrow(failures);
            final long raceMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

            final int finalClose = close.record(e.timer.close());
            final long closedAt = System.nanoTime();
            Harness.pause(DELAY_MILLIS + 150);
            final long late = lastEntry.get() - closedAt;
            System.out.printf("timer_start_delete_race[%s]: %d ms, deleter freed %d, fired=%d, final close=%s, "
                    + "last entry %s%n  %s %s %s %s%n  %s%n", mode, raceMillis, deleterOk.get(), fired.get(),
                AsyncStatus.name(finalClose),
                lastEntry.get() == Long.MIN_VALUE ? "never" : TimeUnit.NANOSECONDS.toMicros(late) + " µs after it",
                init, setCallback, start, close, h.rt.stats());
            assertTrue(lastEntry.get() == Long.MIN_VALUE || late < TimeUnit.MILLISECONDS.toNanos(50),
                () -> "a callback fired " + TimeUnit.NANOSECONDS.toMillis(late) + " ms after the final close");
            for (final StatusTally t : new StatusTally[] {init, setCallback, start, close}) {
                t.assertOnlyAllowed();
            }
            assertTrue(start.total() > STARTS);
            Harness.await(() -> h.rt.stats().controlBlocksLive() == 0, 10_000,
                () -> "controlBlocksLive returns to 0: " + h.rt.stats());
            assertTrue(h.errors.isEmpty(), h::errorsText);
            Assumptions.assumeTrue(deleterOk.get() > 0, "the deleter never freed a timer: no race happened");
        }
    }

    private static void await(final CountDownLatch go) {
        try {
            if (!go.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("never started");
            }
        } catch (final InterruptedException ex) {
            throw new AssertionError(ex);
        }
    }
}
