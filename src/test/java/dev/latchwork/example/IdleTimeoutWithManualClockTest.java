package dev.latchwork.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.ManualTimeSource;
import dev.latchwork.TimerClock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How to test your own timeouts with a test clock, no sleeps: the example of {@code README.md}
 * ("Testing your timeouts"), which copies {@code Session} and the test class below verbatim, so
 * that the README's code compiles and passes. A user would copy it too.
 * <p>
 * The recipe: a {@link DispatchMode#HOST_DRIVEN} runtime on a {@link ManualTimeSource}; the code
 * under test publishes its starts as usual; the test lets time pass with
 * {@code clock.advance(...)} and then calls {@code rt.drain()}, which fires every timer whose
 * deadline has come, on the test's own thread, before it returns.
 */
class IdleTimeoutWithManualClockTest {

    /** The code under test: a session that expires after 30 s without activity. */
    static final class Session {
        static final Duration IDLE = Duration.ofSeconds(30);

        private final AsyncTimer<Session> idle = new AsyncTimer<>();
        private volatile boolean expired;

        Session(AsyncRuntime rt) {
            idle.init(rt, this, TimerClock.MONOTONIC);
            idle.setCallback((session, timer) -> session.expired = true);
            idle.start(IDLE);
        }

        void touch() {          // on every request: lock-free, allocation-free
            idle.start(IDLE);
        }

        boolean isExpired() {
            return expired;
        }

        void close() {
            idle.close();
        }
    }

    private final ManualTimeSource clock = new ManualTimeSource();
    private final AsyncRuntime rt = AsyncRuntime.builder()
            .dispatchMode(DispatchMode.HOST_DRIVEN)   // required with a manual clock
            .timeSource(clock)
            .build();

    @AfterEach
    void closeRuntime() {
        rt.close();
    }

    /** Lets {@code d} pass; what is due fires on this thread before it returns. */
    private void passes(Duration d) {
        while (rt.drain() > 0) { }   // apply what the code published, at the current time
        clock.advance(d);
        while (rt.drain() > 0) { }   // fire what is due (and apply what callbacks published)
    }

    @Test
    void expiresAfter30SecondsIdle() {
        Session s = new Session(rt);
        passes(Duration.ofMillis(29_999));
        assertFalse(s.isExpired());
        passes(Duration.ofMillis(2));   // a timer fires within a wheel tick (131 µs) of its deadline
        assertTrue(s.isExpired());
    }

    @Test
    void activityPostponesExpiry() {
        Session s = new Session(rt);
        passes(Duration.ofSeconds(20));
        s.touch();
        passes(Duration.ofSeconds(20));   // 40 s in, 20 s idle
        assertFalse(s.isExpired());
        passes(Duration.ofMillis(10_001));
        assertTrue(s.isExpired());
    }

    @Test
    void aClosedSessionNeverExpires() {
        Session s = new Session(rt);
        s.close();
        passes(Duration.ofHours(1));
        assertFalse(s.isExpired());
        assertEquals(Long.MAX_VALUE, rt.nanosUntilDue());   // nothing armed
    }
}
