package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The dispatcher's drain interval: rounds spaced under traffic, nothing lost, nothing early. */
class DrainIntervalTest {

    @Test
    void rejectsNegativeAndTooLongIntervals() {
        final AsyncRuntime.Builder b = AsyncRuntime.builder();
        assertThrows(IllegalArgumentException.class, () -> b.drainInterval(-1, TimeUnit.NANOSECONDS));
        assertThrows(IllegalArgumentException.class, () -> b.drainInterval(11, TimeUnit.MILLISECONDS));
        assertThrows(NullPointerException.class, () -> b.drainInterval(1, null));
        b.drainInterval(0, TimeUnit.NANOSECONDS);
        b.drainInterval(10, TimeUnit.MILLISECONDS);
    }

    /**
     * One thread re-arms a cell without pause for a while, then stops with a short deadline: the
     * rounds coalesce the stream (most commands superseded), the last command wins, and the timer
     * fires once, not before its deadline.
     */
    @ParameterizedTest(name = "interval {0} µs")
    @ValueSource(longs = {0, 20, 2_000})
    void hotCellCoalescesAndTheLastCommandWins(final long micros) throws Exception {
        final AtomicLong fires = new AtomicLong();
        final CountDownLatch fired = new CountDownLatch(1);
        try (AsyncRuntime rt = AsyncRuntime.builder().drainInterval(micros, TimeUnit.MICROSECONDS).build()) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((o, timer) -> {
                fires.incrementAndGet();
                fired.countDown();
            }));
            final int n = 2_000_000;
            int busy = 0;
            for (int i = 0; i < n; i++) {
                final int st = t.start(TimeUnit.HOURS.toNanos(1));
                if (st == AsyncStatus.BUSY) {
                    busy++;
                } else {
                    assertEquals(AsyncStatus.OK, st);
                }
            }
            assertEquals(0, busy, "a single publisher never finds the latch held");
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
            assertEquals(AsyncStatus.OK, t.startAt(deadline));
            assertTrue(fired.await(30, TimeUnit.SECONDS), "the last command (a 20 ms deadline) was applied and fired");
            assertTrue(System.nanoTime() >= deadline, "not before the deadline");
            final AsyncStats s = rt.stats();
            assertEquals(n + 1, s.commandsPublished(), "every command accounted for");
            if (micros > 0) {
                assertTrue(s.commandsSuperseded() > n / 2,
                    "rounds spaced by the interval coalesce most of the stream: " + s);
            }
            Thread.sleep(50);
            assertEquals(1, fires.get(), "fired once");
            t.close();
        }
    }
}
