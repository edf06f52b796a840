package dev.latchwork;

import java.util.Objects;
import java.util.concurrent.locks.LockSupport; // not a lock: the backoff strategy's park, on the dispatcher when it has nothing to do
import java.util.function.Supplier;

/**
 * How the dispatcher thread waits when it has nothing to drain. Immutable; each runtime builds
 * its own (stateful) {@link Strategy} from it. The built-in strategies are {@link #spin()},
 * {@link #yielding()} and {@link #backoff(long)}; {@link #of(Supplier, long)} plugs in any other
 * (the optional package {@code dev.latchwork.agrona} adapts an Agrona {@code IdleStrategy}).
 */
public final class AsyncIdle {
    /** Busy-spin steps of {@link #backoff(long)} before it yields. */
    static final int BACKOFF_SPINS = 64;
    /** {@link Thread#yield()} steps of {@link #backoff(long)} before it parks. */
    static final int BACKOFF_YIELDS = 16;
    /** The first park of {@link #backoff(long)}; each further park doubles, up to the maximum. */
    static final long BACKOFF_MIN_PARK_NANOS = 1_000;

    private static final int SPIN = 0;
    private static final int YIELD = 1;
    private static final int BACKOFF = 2;
    private static final int CUSTOM = 3;

    /**
     * A stateful wait step, used by one thread (one runtime's dispatcher) at a time. Calls are
     * made only when the dispatcher has nothing to apply; they must not throw.
     */
    public interface Strategy {
        /**
         * Called after each dispatcher round that found nothing to do, or after one that did work:
         * with {@code workCount > 0} it should {@link #reset()} (work was done), with 0 it should
         * wait one step (spin, yield or park), each step of an idle spell possibly longer than the
         * last.
         *
         * @param workCount the work just done; 0 when idle
         */
        void idle(int workCount);

        /** Ends an idle spell: the next {@link #idle(int) idle(0)} starts from its shortest wait. */
        void reset();
    }

    private final int kind;
    private final long maxParkNanos;
    private final Supplier<? extends Strategy> factory;

    private AsyncIdle(final int kind, final long maxParkNanos, final Supplier<? extends Strategy> factory) {
        this.kind = kind;
        this.maxParkNanos = maxParkNanos;
        this.factory = factory;
    }

    /**
     * Busy-spin ({@link Thread#onSpinWait()}) between polls: lowest latency, burns a core.
     *
     * @return the spin strategy
     */
    public static AsyncIdle spin() {
        return new AsyncIdle(SPIN, 0, null);
    }

    /**
     * {@link Thread#yield()} between polls.
     *
     * @return the yielding strategy
     */
    public static AsyncIdle yielding() {
        return new AsyncIdle(YIELD, 0, null);
    }

    /**
     * Spin 64 times ({@link Thread#onSpinWait()}), then yield 16 times, then park, starting at 1
     * microsecond and doubling each time up to {@code maxParkNanos}; any work resets it. The
     * default, with 100 microseconds.
     *
     * @param maxParkNanos the longest park, at least 1 microsecond
     * @return the strategy
     * @throws IllegalArgumentException if {@code maxParkNanos < 1000}
     */
    public static AsyncIdle backoff(final long maxParkNanos) {
        if (maxParkNanos < BACKOFF_MIN_PARK_NANOS) {
            throw new IllegalArgumentException("maxParkNanos must be >= 1000, got " + maxParkNanos);
        }
        return new AsyncIdle(BACKOFF, maxParkNanos, null);
    }

    /**
     * A strategy of your own. {@code factory} is called once per runtime built with it (a
     * strategy is stateful: give each runtime its own). {@code maxParkNanos} declares the longest
     * wait one {@link Strategy#idle(int) idle(0)} may take: 0 for a strategy that never parks
     * (then the dispatcher never sleeps, it keeps polling), a positive bound for one that does
     * (then, with {@link AsyncRuntime.Builder#wakeDispatcherOnCommand(boolean)} true, an idle
     * dispatcher sleeps until the next due timer or a command, and it never lets the strategy
     * park when a timer is due sooner than this bound). Use {@link Long#MAX_VALUE} when the bound
     * is unknown.
     *
     * @param factory      makes one strategy per runtime; must not return null
     * @param maxParkNanos the longest wait of one idle step, 0 or more
     * @return the strategy
     * @throws NullPointerException     if {@code factory} is null
     * @throws IllegalArgumentException if {@code maxParkNanos} is negative
     */
    public static AsyncIdle of(final Supplier<? extends Strategy> factory, final long maxParkNanos) {
        Objects.requireNonNull(factory, "factory");
        if (maxParkNanos < 0) {
            throw new IllegalArgumentException("maxParkNanos must be >= 0, got " + maxParkNanos);
        }
        return new AsyncIdle(CUSTOM, maxParkNanos, factory);
    }

    /**
     * Makes a fresh strategy for one runtime.
     *
     * @return a new strategy in its reset state
     * @throws NullPointerException if a custom factory returned null
     */
    Strategy newStrategy() {
        switch (kind) {
            case SPIN: return new Spin();
            case YIELD: return new Yield();
            case BACKOFF: return new Backoff(maxParkNanos);
            default: return Objects.requireNonNull(factory.get(), "AsyncIdle factory returned null");
        }
    }

    /** @return true if this strategy parks (so the dispatcher may sleep instead of polling) */
    boolean parks() {
        return maxParkNanos > 0;
    }

    /** @return the longest park of one idle step (0 for spin and yield) */
    long maxParkNanos() {
        return maxParkNanos;
    }

    @Override
    public String toString() {
        switch (kind) {
            case SPIN: return "spin";
            case YIELD: return "yield";
            case BACKOFF: return "backoff(" + maxParkNanos + "ns)";
            default: return "custom(maxPark " + maxParkNanos + "ns)";
        }
    }

    /** Busy-spin with {@link Thread#onSpinWait()}. */
    static final class Spin implements Strategy {
        @Override
        public void idle(final int workCount) {
            if (workCount <= 0) {
                Thread.onSpinWait();
            }
        }

        @Override
        public void reset() {
        }
    }

    /** {@link Thread#yield()} on every idle step. */
    static final class Yield implements Strategy {
        @Override
        public void idle(final int workCount) {
            if (workCount <= 0) {
                Thread.yield();
            }
        }

        @Override
        public void reset() {
        }
    }

    /** Spin, then yield, then park with a doubling period up to a maximum. Allocation-free. */
    static final class Backoff implements Strategy {
        private final long maxParkNanos;
        private int spins;
        private int yields;
        private long parkNanos = BACKOFF_MIN_PARK_NANOS;

        Backoff(final long maxParkNanos) {
            this.maxParkNanos = maxParkNanos;
        }

        @Override
        public void idle(final int workCount) {
            if (workCount > 0) {
                reset();
            } else if (spins < BACKOFF_SPINS) {
                spins++;
                Thread.onSpinWait();
            } else if (yields < BACKOFF_YIELDS) {
                yields++;
                Thread.yield();
            } else {
                LockSupport.parkNanos(parkNanos);
                parkNanos = Math.min(parkNanos << 1, maxParkNanos);
            }
        }

        @Override
        public void reset() {
            spins = 0;
            yields = 0;
            parkNanos = BACKOFF_MIN_PARK_NANOS;
        }

        /** @return the next park's length (tests) */
        long nextParkNanos() {
            return parkNanos;
        }

        /** @return spins done in this idle spell (tests) */
        int spins() {
            return spins;
        }

        /** @return yields done in this idle spell (tests) */
        int yields() {
            return yields;
        }
    }
}
