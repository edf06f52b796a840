package dev.latchwork.agrona;

import dev.latchwork.AsyncIdle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NoOpIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * Agrona {@link IdleStrategy} instances as the dispatcher's idle strategy:
 * {@code AsyncRuntime.builder().idle(AgronaIdle.of(new BackoffIdleStrategy(...)))}.
 */
public final class AgronaIdle {
    private AgronaIdle() {
    }

    /**
     * Adapts one Agrona strategy instance. A strategy is stateful: this {@link AsyncIdle} can
     * build one runtime only (a second {@code build()} with it throws
     * {@link IllegalStateException}); use {@link #of(Supplier, long)} to share a configuration.
     * The longest park is inferred: 0 for {@link BusySpinIdleStrategy}, {@link NoOpIdleStrategy}
     * and {@link YieldingIdleStrategy} (the dispatcher then keeps polling and never sleeps), and
     * unknown ({@link Long#MAX_VALUE}) for any other, which lets the dispatcher sleep when it is
     * idle and keeps the strategy from parking whenever a timer is due.
     *
     * @param strategy the Agrona strategy, used by one runtime's dispatcher only
     * @return the idle strategy for {@code AsyncRuntime.Builder.idle}
     * @throws NullPointerException if {@code strategy} is null
     */
    public static AsyncIdle of(final IdleStrategy strategy) {
        Objects.requireNonNull(strategy, "strategy");
        final AtomicBoolean used = new AtomicBoolean();
        return AsyncIdle.of(() -> {
            if (!used.compareAndSet(false, true)) {
                throw new IllegalStateException("this Agrona IdleStrategy is already used by a runtime: " + strategy);
            }
            return new Adapter(strategy);
        }, inferMaxParkNanos(strategy));
    }

    /**
     * Adapts Agrona strategies made by {@code factory}, one per runtime.
     *
     * @param factory      makes one Agrona strategy per runtime built with the result
     * @param maxParkNanos the longest wait of one {@link IdleStrategy#idle()} step: 0 for a
     *                     strategy that never parks, {@link Long#MAX_VALUE} when unknown
     * @return the idle strategy for {@code AsyncRuntime.Builder.idle}
     * @throws NullPointerException     if {@code factory} is null
     * @throws IllegalArgumentException if {@code maxParkNanos} is negative
     */
    public static AsyncIdle of(final Supplier<? extends IdleStrategy> factory, final long maxParkNanos) {
        Objects.requireNonNull(factory, "factory");
        return AsyncIdle.of(() -> new Adapter(Objects.requireNonNull(factory.get(), "factory returned null")), maxParkNanos);
    }

    static long inferMaxParkNanos(final IdleStrategy strategy) {
        if (strategy instanceof BusySpinIdleStrategy
            || strategy instanceof NoOpIdleStrategy
            || strategy instanceof YieldingIdleStrategy) {
            return 0;
        }
        return Long.MAX_VALUE;
    }

    /** Forwards latchwork's calls to the Agrona strategy. */
    static final class Adapter implements AsyncIdle.Strategy {
        final IdleStrategy delegate;

        Adapter(final IdleStrategy delegate) {
            this.delegate = delegate;
        }

        @Override
        public void idle(final int workCount) {
            delegate.idle(workCount);
        }

        @Override
        public void reset() {
            delegate.reset();
        }

        @Override
        public String toString() {
            return "agrona(" + delegate.alias() + ")";
        }
    }
}
