package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link AsyncTimer#start(Duration)}: saturating, never throwing (issue 13 section 5). */
class TimerDurationTest {

    @Test
    void saturatedNanos() {
        assertEquals(0, AsyncTimer.saturatedNanos(Duration.ZERO));
        assertEquals(1_500_000_000L, AsyncTimer.saturatedNanos(Duration.ofMillis(1_500)));
        assertEquals(Duration.ofSeconds(9_223_372_035L, 999_999_999).toNanos(),
            AsyncTimer.saturatedNanos(Duration.ofSeconds(9_223_372_035L, 999_999_999)));
        assertEquals(Long.MAX_VALUE, AsyncTimer.saturatedNanos(Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)));
        assertEquals(Long.MAX_VALUE, AsyncTimer.saturatedNanos(ChronoUnit.FOREVER.getDuration()));
        assertEquals(Long.MAX_VALUE, AsyncTimer.saturatedNanos(Duration.ofDays(365L * 300)));
    }

    @Test
    void startWithADuration() throws Exception {
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.NOT_INITIALIZED, t.start(Duration.ofMillis(1)));
            assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
            final CountDownLatch fired = new CountDownLatch(1);
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> fired.countDown()));
            assertEquals(AsyncStatus.INVALID_ARGUMENT, t.start((Duration) null));
            assertEquals(AsyncStatus.INVALID_ARGUMENT, t.start(Duration.ofNanos(-1)));
            // huge durations mean never: no throw, no overflow, no fire
            assertEquals(AsyncStatus.OK, t.start(ChronoUnit.FOREVER.getDuration()));
            assertEquals(AsyncStatus.OK, t.start(Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)));
            Thread.sleep(20);
            assertEquals(1, fired.getCount());
            assertEquals(AsyncStatus.OK, t.start(Duration.ofMillis(2)));
            assertTrue(fired.await(Modes.WAIT_SECONDS, TimeUnit.SECONDS));
            assertEquals(AsyncStatus.OK, t.close());
        }
    }
}
