package dev.latchwork;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * How the dispatcher thread waits when it has nothing to drain. Immutable; each runtime builds
 * its own (stateful) strategy from it.
 */
public final class AsyncIdle {
    private static final int SPIN = 0;
    private static final int YIELD = 1;
    private static final int BACKOFF = 2;

    private final int kind;
    private final long maxParkNanos;

    private AsyncIdle(final int kind, final long maxParkNanos) {
        this.kind = kind;
        this.maxParkNanos = maxParkNanos;
    }

    /**
     * Busy-spin ({@link Thread#onSpinWait()}) between polls: lowest latency, burns a core.
     *
     * @return the spin strategy
     */
    public static AsyncIdle spin() {
        return new AsyncIdle(SPIN, 0);
    }

    /**
     * {@link Thread#yield()} between polls.
     *
     * @return the yielding strategy
     */
    public static AsyncIdle yielding() {
        return new AsyncIdle(YIELD, 0);
    }

    /**
     * Spin, then yield, then park with exponential backoff up to {@code maxParkNanos}. The
     * default, with 100 microseconds.
     *
     * @param maxParkNanos the longest park, at least 1 microsecond
     * @return the strategy
     * @throws IllegalArgumentException if {@code maxParkNanos < 1000}
     */
    public static AsyncIdle backoff(final long maxParkNanos) {
        if (maxParkNanos < 1_000) {
            throw new IllegalArgumentException("maxParkNanos must be >= 1000, got " + maxParkNanos);
        }
        return new AsyncIdle(BACKOFF, maxParkNanos);
    }

    IdleStrategy newStrategy() {
        switch (kind) {
            case SPIN: return new BusySpinIdleStrategy();
            case YIELD: return new YieldingIdleStrategy();
            default: return new BackoffIdleStrategy(64, 16, 1_000, maxParkNanos);
        }
    }

    /** @return true if this strategy parks (so the dispatcher may sleep instead of polling) */
    boolean parks() {
        return kind == BACKOFF;
    }

    long maxParkNanos() {
        return maxParkNanos;
    }

    @Override
    public String toString() {
        return kind == SPIN ? "spin" : kind == YIELD ? "yield" : "backoff(" + maxParkNanos + "ns)";
    }
}
