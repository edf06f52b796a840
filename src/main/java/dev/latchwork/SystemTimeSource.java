package dev.latchwork;

/**
 * {@link TimeSource#system()}. A runtime on it does not call it: {@link AsyncRuntime} tests for it
 * once, at build, and then reads the JDK clocks itself: one final boolean read and a branch that
 * always goes the same way, no interface call on the default path.
 */
final class SystemTimeSource implements TimeSource {
    static final SystemTimeSource INSTANCE = new SystemTimeSource();

    private SystemTimeSource() {
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public long epochNanos() {
        return System.currentTimeMillis() * 1_000_000L; // the floor: never claims a deadline early
    }

    @Override
    public String toString() {
        return "TimeSource.system()";
    }
}
