package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The library's own idle strategies (issue 13 section 2): same steps as before, no Agrona. */
class AsyncIdleTest {

    @Test
    void backoffSpinsThenYieldsThenParksDoublingUpToTheMaximum() {
        final AsyncIdle.Backoff b = (AsyncIdle.Backoff) AsyncIdle.backoff(10_000).newStrategy();
        for (int i = 0; i < 64; i++) {
            b.idle(0);
        }
        assertEquals(64, b.spins());
        assertEquals(0, b.yields());
        for (int i = 0; i < 16; i++) {
            b.idle(0);
        }
        assertEquals(16, b.yields());
        assertEquals(1_000, b.nextParkNanos());
        final long[] expected = {2_000, 4_000, 8_000, 10_000, 10_000};
        for (final long e : expected) {
            b.idle(0);
            assertEquals(e, b.nextParkNanos());
        }
        b.idle(1); // work resets
        assertEquals(0, b.spins());
        assertEquals(0, b.yields());
        assertEquals(1_000, b.nextParkNanos());
        b.idle(0);
        b.reset();
        assertEquals(0, b.spins());
    }

    @Test
    void kindsAndValidation() {
        assertInstanceOf(AsyncIdle.Spin.class, AsyncIdle.spin().newStrategy());
        assertInstanceOf(AsyncIdle.Yield.class, AsyncIdle.yielding().newStrategy());
        assertFalse(AsyncIdle.spin().parks());
        assertFalse(AsyncIdle.yielding().parks());
        assertTrue(AsyncIdle.backoff(1_000).parks());
        assertEquals(100_000, AsyncIdle.backoff(100_000).maxParkNanos());
        assertThrows(IllegalArgumentException.class, () -> AsyncIdle.backoff(999));
        assertThrows(NullPointerException.class, () -> AsyncIdle.of(null, 0));
        assertThrows(IllegalArgumentException.class, () -> AsyncIdle.of(AsyncIdle.Spin::new, -1));
        // spin and yield never block, whatever the work count
        final AsyncIdle.Strategy s = AsyncIdle.spin().newStrategy();
        final AsyncIdle.Strategy y = AsyncIdle.yielding().newStrategy();
        for (int i = 0; i < 1_000; i++) {
            s.idle(0);
            y.idle(0);
        }
        s.reset();
        y.reset();
        assertEquals("backoff(5000ns)", AsyncIdle.backoff(5_000).toString());
    }

    @Test
    void aCustomStrategyIsMadeOncePerRuntimeAndDrivesTheDispatcher() throws Exception {
        final AtomicInteger made = new AtomicInteger();
        final AtomicInteger idles = new AtomicInteger();
        final AsyncIdle custom = AsyncIdle.of(() -> {
            made.incrementAndGet();
            return new AsyncIdle.Strategy() {
                @Override
                public void idle(final int workCount) {
                    idles.incrementAndGet();
                    Thread.onSpinWait();
                }

                @Override
                public void reset() {
                }
            };
        }, 0);
        for (int r = 0; r < 2; r++) {
            try (AsyncRuntime rt = AsyncRuntime.builder().idle(custom).build()) {
                final CountDownLatch fired = new CountDownLatch(1);
                final AsyncTimer<Object> t = new AsyncTimer<>();
                assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
                assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> fired.countDown()));
                assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
                assertTrue(fired.await(Modes.WAIT_SECONDS, TimeUnit.SECONDS));
            }
        }
        assertEquals(2, made.get());
        assertTrue(idles.get() > 0);
    }

    @Test
    void aFactoryReturningNullFailsTheBuild() {
        assertThrows(NullPointerException.class, () -> AsyncRuntime.builder().idle(AsyncIdle.of(() -> null, 0)).build());
    }
}
