package dev.latchwork;

/**
 * The clock a timer's deadlines are expressed on.
 * <p>
 * The kernel's {@code CLOCK_BOOTTIME} has no JVM counterpart (the JDK exposes no clock that
 * keeps counting through suspend), so it is not offered; use {@link #MONOTONIC}.
 */
public enum TimerClock {
    /**
     * {@link System#nanoTime()} scale (the runtime's {@link TimeSource#nanoTime()} when it is built
     * with a {@link AsyncRuntime.Builder#timeSource(TimeSource) time source}). Never steps.
     * Nanosecond resolution.
     */
    MONOTONIC {
        @Override
        long now() {
            return System.nanoTime();
        }
    },
    /**
     * Epoch nanoseconds (wall clock; the runtime's {@link TimeSource#epochNanos()} when it is built
     * with a time source). A wall-clock step is honoured: a callback never runs before
     * its deadline on the wall clock (a backward step delays it). Read with millisecond resolution
     * without allocating, so callbacks may run up to one millisecond later than on MONOTONIC.
     */
    REALTIME {
        @Override
        long now() {
            return System.currentTimeMillis() * 1_000_000L; // floor: never claims a deadline early
        }
    };

    /**
     * A lower bound of the current time on this clock, in nanoseconds, on the <em>system</em>
     * clocks. The runtime does not use it: it reads its {@link TimeSource} ({@code
     * AsyncRuntime.nanoTime()} / {@code epochNanos()}), and so must any new time read inside it.
     */
    abstract long now();
}
