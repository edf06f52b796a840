package dev.latchwork;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void firesOnceNotBeforeDeadline() throws Exception {
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            AsyncTimer<Object> t = new AsyncTimer<>();
            Object owner = new Object();
            assertEquals(AsyncStatus.OK, t.init(rt, owner, TimerClock.MONOTONIC));
            CountDownLatch fired = new CountDownLatch(1);
            AtomicLong at = new AtomicLong();
            assertEquals(AsyncStatus.OK, t.setCallback((o, tm) -> { at.set(System.nanoTime()); fired.countDown(); }));
            long start = System.nanoTime();
            assertEquals(AsyncStatus.OK, t.start(20, TimeUnit.MILLISECONDS));
            assertTrue(fired.await(10, TimeUnit.SECONDS));
            assertTrue(at.get() - start >= TimeUnit.MILLISECONDS.toNanos(20));
            System.out.println(rt.stats());
        }
    }
}
