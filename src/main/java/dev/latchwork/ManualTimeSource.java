package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A test clock: a {@link TimeSource} that moves only when told to, for tests that want to watch
 * their timeouts fire without sleeping (as Caffeine's {@code Ticker} or Netty's
 * {@code MockTicker} allow). Build a {@link DispatchMode#HOST_DRIVEN} runtime on it, then
 * {@link #advance(Duration) advance} the clock and call {@link AsyncRuntime#drain()}: the timers
 * whose deadline has come fire inside that call, on the test's thread, and no other does.
 *
 * <pre>{@code
 * ManualTimeSource clock = new ManualTimeSource();
 * try (AsyncRuntime rt = AsyncRuntime.builder()
 *         .dispatchMode(DispatchMode.HOST_DRIVEN)   // required with a manual clock
 *         .timeSource(clock)
 *         .build()) {
 *     timer.init(rt, owner, TimerClock.MONOTONIC);
 *     timer.setCallback((o, t) -> fired.incrementAndGet());
 *     timer.start(Duration.ofSeconds(30));
 *     rt.drain();                                   // applies the start at the clock's "now"
 *     clock.advance(Duration.ofSeconds(29));
 *     rt.drain();                                   // not yet
 *     clock.advance(Duration.ofSeconds(1));
 *     rt.drain();                                   // fires here, on this thread
 * }
 * }</pre>
 *
 * <p>Two clocks, as in a real machine: {@link #nanoTime()} (monotonic, starts at 0 by default)
 * and {@link #epochNanos()} (the wall clock, starts at 2026-01-01T00:00:00Z by default).
 * {@link #advance} moves both by the same amount, as time passing does; {@link #stepWall} and
 * {@link #setEpochNanos} move only the wall clock, as an NTP step or an operator does, which moves
 * only {@link TimerClock#REALTIME} {@code startAt} deadlines. A runtime looks at a wall-clock
 * deadline again at least once per second of monotonic time, so a forward step of the wall
 * clock is seen after at most one second of {@code advance} (a backward step delays the fire;
 * nothing ever fires early).
 *
 * <p>Thread safe: each method is atomic on its clock. {@link #advance} moves the monotonic clock
 * first and the wall clock second, so a reader on another thread may see the first moved and not
 * yet the second (a wall-clock deadline then looks later, never earlier).
 */
public final class ManualTimeSource implements TimeSource {
    /** 2026-01-01T00:00:00Z in epoch nanoseconds: where the wall clock starts by default. */
    public static final long DEFAULT_EPOCH_NANOS = 1_767_225_600_000_000_000L;

    private static final VarHandle NANOS;
    private static final VarHandle EPOCH;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            NANOS = l.findVarHandle(ManualTimeSource.class, "nanos", long.class);
            EPOCH = l.findVarHandle(ManualTimeSource.class, "epoch", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile long nanos;
    private volatile long epoch;

    /** A clock whose {@link #nanoTime()} reads 0 and whose wall clock reads {@link #DEFAULT_EPOCH_NANOS}. */
    public ManualTimeSource() {
        this(0, DEFAULT_EPOCH_NANOS);
    }

    /**
     * A clock that starts at the given readings.
     *
     * @param startNanoTime   what {@link #nanoTime()} reads until the first {@link #advance}
     * @param startEpochNanos what {@link #epochNanos()} reads until the first advance or step
     */
    public ManualTimeSource(final long startNanoTime, final long startEpochNanos) {
        this.nanos = startNanoTime;
        this.epoch = startEpochNanos;
    }

    @Override
    public long nanoTime() {
        return nanos;
    }

    @Override
    public long epochNanos() {
        return epoch;
    }

    /**
     * Lets time pass: both clocks move forward by {@code amount}.
     *
     * @param amount how much time passes, 0 or more
     * @param unit   the unit of {@code amount}
     * @return the new {@link #nanoTime()}
     * @throws IllegalArgumentException if {@code amount} is negative (the monotonic clock never goes
     *                                  back) or the monotonic clock would overflow
     */
    public long advance(final long amount, final TimeUnit unit) {
        Objects.requireNonNull(unit, "unit");
        if (amount < 0) {
            throw new IllegalArgumentException("time does not go back: amount " + amount + " " + unit);
        }
        return advanceNanos(unit.toNanos(amount));
    }

    /**
     * Lets time pass: both clocks move forward by {@code amount}.
     *
     * @param amount how much time passes, zero or positive
     * @return the new {@link #nanoTime()}
     * @throws IllegalArgumentException if {@code amount} is negative or the monotonic clock would
     *                                  overflow
     */
    public long advance(final Duration amount) {
        Objects.requireNonNull(amount, "amount");
        if (amount.isNegative()) {
            throw new IllegalArgumentException("time does not go back: " + amount);
        }
        return advanceNanos(AsyncTimer.saturatedNanos(amount));
    }

    private long advanceNanos(final long d) {
        long cur;
        do {
            cur = nanos;
            if (cur + d < cur) {
                throw new IllegalArgumentException("nanoTime would overflow: " + cur + " + " + d);
            }
        } while (!NANOS.compareAndSet(this, cur, cur + d));
        EPOCH.getAndAdd(this, d);
        return cur + d;
    }

    /**
     * Steps the wall clock only (an NTP step, an operator setting the date): the monotonic clock
     * and relative deadlines do not move.
     *
     * @param step how far, forwards (positive) or backwards (negative)
     * @param unit the unit of {@code step}
     * @return the new {@link #epochNanos()}
     */
    public long stepWall(final long step, final TimeUnit unit) {
        Objects.requireNonNull(unit, "unit");
        final long d = step >= 0 ? unit.toNanos(step) : -unit.toNanos(-step);
        return (long) EPOCH.getAndAdd(this, d) + d;
    }

    /**
     * Steps the wall clock only, as {@link #stepWall(long, TimeUnit)}.
     *
     * @param step how far, forwards (positive) or backwards (negative); must fit a {@code long}
     *             of nanoseconds
     * @return the new {@link #epochNanos()}
     * @throws ArithmeticException if {@code step} does not fit a {@code long} of nanoseconds
     */
    public long stepWall(final Duration step) {
        Objects.requireNonNull(step, "step");
        final long d = step.toNanos();
        return (long) EPOCH.getAndAdd(this, d) + d;
    }

    /**
     * Sets the wall clock (a step to that reading); the monotonic clock does not move.
     *
     * @param epochNanos the new wall-clock reading, in epoch nanoseconds
     */
    public void setEpochNanos(final long epochNanos) {
        this.epoch = epochNanos;
    }

    @Override
    public String toString() {
        return "ManualTimeSource[nanoTime=" + nanos + ", epochNanos=" + epoch + "]";
    }
}
