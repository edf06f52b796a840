package dev.latchwork;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A reusable timer cell (the kernel's {@code bpf_timer}), meant to be a field of its owner: one
 * per connection, session or request.
 * <p>
 * Hot-path operations ({@link #start(long)}, {@link #startAt(long)}, {@link #cancelAsync()},
 * {@link #close()}) are lock-free, allocation-free after warm-up, never park and never throw in
 * {@link DispatchMode#DEFERRED} and {@link DispatchMode#HOST_DRIVEN} modes: they publish a command
 * in the cell's latch and answer an {@code int} status ({@link AsyncStatus}). The last published
 * command wins; earlier ones may be superseded before they reach the backend.
 * <p>
 * A relative {@code start(delay)} is measured from the moment the dispatcher applies it (as the
 * kernel's deferred {@code hrtimer_start} does), so the callback never runs before
 * {@code publish time + delay}; it runs later by the deferral latency.
 *
 * <pre>{@code
 * final class Connection {
 *     final AsyncTimer<Connection> idle = new AsyncTimer<>();
 *     Connection(AsyncRuntime rt) {
 *         idle.init(rt, this, TimerClock.MONOTONIC);
 *         idle.setCallback((c, t) -> c.closeForIdleness());
 *     }
 *     void onRead() { idle.start(30, TimeUnit.SECONDS); }   // re-armed on every read: nearly free
 * }
 * }</pre>
 *
 * @param <T> the owner type
 */
public final class AsyncTimer<T> extends AsyncCell {

    /** An uninitialized cell; costs this object and nothing else. */
    public AsyncTimer() {
    }

    /**
     * Installs a fresh control block.
     *
     * @param runtime the runtime whose dispatcher and backend serve this timer
     * @param owner   the object passed to the callback
     * @param clock   the clock of {@link #startAt(long)} deadlines
     * @return {@link AsyncStatus#OK}; {@link AsyncStatus#BUSY} if already initialized or another
     *         {@code init} won; {@link AsyncStatus#CLOSED} if the runtime is closed (checked after
     *         publishing, so a racing runtime close never leaves a live timer);
     *         {@link AsyncStatus#INVALID_ARGUMENT} for a null argument
     */
    public int init(final AsyncRuntime runtime, final T owner, final TimerClock clock) {
        if (runtime == null || owner == null || clock == null) {
            return AsyncStatus.INVALID_ARGUMENT;
        }
        if (runtime.isClosed()) {
            return AsyncStatus.CLOSED;
        }
        if (block != null) {
            return AsyncStatus.BUSY;
        }
        return install(new TimerBlock(runtime, owner, this, clock));
    }

    /**
     * Atomically replaces the callback. A callback already running finishes with the old one.
     *
     * @param callback the new callback
     * @return {@link AsyncStatus#OK}, {@link AsyncStatus#NOT_INITIALIZED},
     *         {@link AsyncStatus#INVALID_ARGUMENT} for null, {@link AsyncStatus#CLOSED}
     */
    public int setCallback(final TimerCallback<T> callback) {
        return setCallback0(callback);
    }

    /**
     * Arms (or re-arms) the timer {@code delayNanos} from now. Hot path.
     *
     * @param delayNanos the delay; {@link Long#MAX_VALUE} (or anything that overflows) means never
     * @return {@link AsyncStatus#OK}, {@link AsyncStatus#BUSY}, {@link AsyncStatus#NOT_INITIALIZED},
     *         {@link AsyncStatus#NO_CALLBACK}, {@link AsyncStatus#DEAD}, {@link AsyncStatus#CLOSED},
     *         {@link AsyncStatus#INVALID_ARGUMENT} for a negative delay
     */
    public int start(final long delayNanos) {
        if (delayNanos < 0) {
            return AsyncStatus.INVALID_ARGUMENT;
        }
        return publish(ControlBlock.OP_START, delayNanos, true);
    }

    /**
     * As {@link #start(long)}, in {@code unit}s (saturating).
     *
     * @param delay the delay, 0 or more; saturates to never ({@link Long#MAX_VALUE} nanoseconds)
     * @param unit  the unit of {@code delay}
     * @return as {@link #start(long)}; {@link AsyncStatus#INVALID_ARGUMENT} for a null unit
     */
    public int start(final long delay, final TimeUnit unit) {
        if (unit == null || delay < 0) {
            return AsyncStatus.INVALID_ARGUMENT;
        }
        return start(unit.toNanos(delay));
    }

    /**
     * As {@link #start(long)}, for a {@link Duration}. Saturating: a duration too long for a
     * {@code long} of nanoseconds (about 292 years; {@link Duration#toNanos()} would throw) means
     * never, like {@link Long#MAX_VALUE}. Never throws; allocation-free. Hot path.
     *
     * @param delay the delay, zero or positive
     * @return as {@link #start(long)}; {@link AsyncStatus#INVALID_ARGUMENT} for a null or negative
     *         delay
     */
    public int start(final Duration delay) {
        if (delay == null || delay.isNegative()) {
            return AsyncStatus.INVALID_ARGUMENT;
        }
        return start(saturatedNanos(delay));
    }

    /** Whole seconds from which {@code seconds * 10^9 + nanos} no longer fits in a {@code long}. */
    private static final long MAX_EXACT_SECONDS = Long.MAX_VALUE / 1_000_000_000L;

    /**
     * {@code d} in nanoseconds, {@link Long#MAX_VALUE} if that overflows.
     *
     * @param d a non-negative duration
     * @return its nanoseconds, saturated
     */
    static long saturatedNanos(final Duration d) {
        final long seconds = d.getSeconds();
        if (seconds >= MAX_EXACT_SECONDS) {
            return Long.MAX_VALUE;
        }
        return seconds * 1_000_000_000L + d.getNano();
    }

    /**
     * Arms (or re-arms) the timer at an absolute deadline on its clock ({@code System.nanoTime()}
     * scale for {@link TimerClock#MONOTONIC}, epoch nanoseconds for {@link TimerClock#REALTIME};
     * on a runtime built with a {@link AsyncRuntime.Builder#timeSource(TimeSource) time source},
     * its {@link TimeSource#nanoTime()} and {@link TimeSource#epochNanos()}).
     * A deadline in the past fires as soon as possible. {@link Long#MAX_VALUE} means never. Hot path.
     *
     * @param deadline the absolute deadline in nanoseconds on the cell's clock
     * @return as {@link #start(long)}, without {@code INVALID_ARGUMENT}
     */
    public int startAt(final long deadline) {
        return publish(ControlBlock.OP_START_AT, deadline, true);
    }

    /**
     * Hot-path cancel (kernel {@code bpf_timer_cancel_async}): publishes a cancel and never waits;
     * a callback already running completes. Does not clear the callback.
     *
     * @return {@link AsyncStatus#OK}, {@link AsyncStatus#BUSY}, {@link AsyncStatus#NOT_INITIALIZED},
     *         {@link AsyncStatus#DEAD}, {@link AsyncStatus#CLOSED}
     */
    public int cancelAsync() {
        return publish(ControlBlock.OP_CANCEL, 0, false);
    }

    /**
     * Synchronous cancel (kernel {@code bpf_timer_cancel}): clears the callback (a following start
     * answers {@code NO_CALLBACK} until {@link #setCallback}), cancels a pending expiry, and waits
     * for a running callback to return. <b>May block: not for hot paths.</b>
     *
     * @return {@link AsyncStatus#WAS_PENDING} if it was armed, {@link AsyncStatus#OK} if not,
     *         {@link AsyncStatus#NOT_INITIALIZED}, {@link AsyncStatus#CLOSED},
     *         {@link AsyncStatus#DEADLOCK} from this timer's own callback, or when two callbacks
     *         cancel each other's timers (at least one side gets it; no thread hangs)
     */
    public int cancel() {
        return cancel0();
    }

    /**
     * Racy: a snapshot of the applied state, which may lag the latest published command.
     *
     * @return true if the timer is armed on the backend
     */
    public boolean isArmed() {
        final ControlBlock b = block;
        return b != null && b.isPendingOnBackend();
    }

    /**
     * Racy, like {@link #isArmed()}.
     *
     * @return the applied deadline on the timer's clock, or {@link Long#MAX_VALUE} if not armed
     */
    public long deadline() {
        final ControlBlock b = block;
        return b instanceof TimerBlock ? ((TimerBlock) b).deadlineOnCellClock() : Long.MAX_VALUE;
    }
}
