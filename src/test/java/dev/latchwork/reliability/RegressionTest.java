package dev.latchwork.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

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
}
