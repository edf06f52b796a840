package dev.latchwork.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.TimerClock;

/** Core bugs found by the reliability suite, each pinned by the smallest test that showed it. */
class RegressionTest {

    /**
     * Found by {@link ModelTest} (seed 3). A deadline far in the past ({@code Long.MIN_VALUE}, or
     * any value more than 2^63 ns before now) made the wake-up delay {@code deadline - now}
     * overflow to a huge positive delay: the timer never fired, and because a pending wake-up
     * that is due no later than the new deadline is kept (the Jetty trick), every later re-arm
     * of the cell kept that never-running wake-up too: the cell was wedged for good
     * ({@code start} answered OK, {@code isArmed()} said true, nothing ever fired).
     */
    @Test
    void deadlineFarInThePastFiresAtOnceAndLeavesTheCellUsable() throws Exception {
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            for (final TimerClock clock : TimerClock.values()) {
                final AsyncTimer<Object> t = new AsyncTimer<>();
                assertEquals(AsyncStatus.OK, t.init(rt, new Object(), clock));
                final CountDownLatch first = new CountDownLatch(1);
                assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> first.countDown()));
                assertEquals(AsyncStatus.OK, t.startAt(Long.MIN_VALUE));
                assertTrue(first.await(10, TimeUnit.SECONDS), clock + ": startAt(Long.MIN_VALUE) never fired");

                final CountDownLatch second = new CountDownLatch(1);
                assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> second.countDown()));
                assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
                assertTrue(second.await(10, TimeUnit.SECONDS), clock + ": re-arm after startAt(Long.MIN_VALUE) never fired");
                assertFalse(t.isArmed());
                assertEquals(AsyncStatus.OK, t.close());
            }
        }
    }

    /**
     * Found by the soak. A start racing with the cell's close could answer
     * {@link AsyncStatus#NO_CALLBACK}: close cleared the callback before marking the block
     * detached, so a start that passed the "detached?" check then found no callback. The status
     * means "you never set one, or a sync cancel cleared it", which tells a hot path to fix its code;
     * here the cell was being closed, which is {@link AsyncStatus#DEAD} (or NOT_INITIALIZED once the
     * cell is empty). The callback is set before the first start and only close clears it, so any
     * NO_CALLBACK here is the race.
     */
    @Test
    void startRacingCloseNeverAnswersNoCallback() throws Exception {
        final int rounds = 50_000;
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            final AtomicInteger round = new AtomicInteger(); // odd: a block with a callback is installed
            final AtomicInteger acked = new AtomicInteger();
            final AtomicInteger starting = new AtomicInteger(); // the round whose start loop is running
            final AtomicInteger noCallback = new AtomicInteger();
            final AtomicInteger raced = new AtomicInteger();
            final Thread starter = new Thread(() -> {
                for (int r = 1; r <= 2 * rounds; r += 2) {
                    for (int spins = 0; round.get() < r; spins++) {
                        pause(spins);
                    }
                    int s;
                    do {
                        s = t.start(1, TimeUnit.HOURS);
                        starting.lazySet(r);
                        if (s == AsyncStatus.NO_CALLBACK) {
                            noCallback.incrementAndGet();
                        } else if (s == AsyncStatus.DEAD) {
                            raced.incrementAndGet();
                        }
                    } while (s == AsyncStatus.OK || s == AsyncStatus.BUSY);
                    acked.set(r);
                }
            }, "racing-starter");
            starter.setDaemon(true);
            starter.start();
            for (int r = 1; r <= 2 * rounds; r += 2) {
                assertEquals(AsyncStatus.OK, t.init(rt, new Object(), TimerClock.MONOTONIC));
                assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> { }));
                round.set(r);
                for (int spins = 0; starting.get() < r; spins++) { // close while the start loop runs
                    pause(spins);
                }
                for (int spin = r % 64; spin > 0; spin--) {
                    Thread.onSpinWait();
                }
                assertEquals(AsyncStatus.OK, t.close());
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                for (int spins = 0; acked.get() < r; spins++) {
                    assertTrue(System.nanoTime() < deadline, "starter stuck");
                    pause(spins);
                }
            }
            starter.join(10_000);
            System.out.println("start racing close: " + raced.get() + " DEAD, " + noCallback.get() + " NO_CALLBACK in "
                + rounds + " rounds");
            assertEquals(0, noCallback.get(), "a start racing with close answered NO_CALLBACK");
        }
    }

    /** Spin briefly, then yield: the two threads hand over every round, on a possibly busy machine. */
    private static void pause(final int spins) {
        if (spins < 100) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
