package dev.latchwork;

import java.util.Objects;

/**
 * What the stuck-callback watchdog hands to the runtime's error handler when a callback has been
 * running for longer than {@link AsyncRuntime.Builder#stuckCallbackThreshold}. It is a report, not
 * a failure: nothing threw it, and the callback it describes is still running when the handler is
 * called (on the watchdog's thread, not the stuck one).
 * <p>
 * Its {@linkplain #getStackTrace() stack trace} is the <b>stuck thread's</b> stack as the watchdog
 * sampled it, innermost frame first, so a logged report shows where the callback is blocked or
 * spinning. The sample is taken at a safepoint a few microseconds after the threshold was seen to
 * pass; the callback is checked to be still the same invocation afterwards, but the top frames may
 * have moved on by then.
 * <p>
 * One report per callback invocation at most: a callback stuck for an hour is reported once.
 * Stuck reports are counted by {@link AsyncRuntime#stuckCallbacks()}, not by
 * {@link AsyncRuntime#callbackErrors()}.
 */
public final class StuckCallbackException extends RuntimeException {
    /** Serialization version. */
    private static final long serialVersionUID = 1L;

    /** The name of the runtime whose callback is stuck. */
    private final String runtimeName;
    /** {@code "timer"} or {@code "work"}. */
    private final String cellKind;
    /** The name of the class of the cell's owner. */
    private final String ownerClassName;
    /** How long the callback had been running when it was sampled, in nanoseconds. */
    private final long elapsedNanos;
    /** The name of the stuck thread. */
    private final String threadName;

    StuckCallbackException(final String runtimeName, final String cellKind, final String ownerClassName,
                           final long elapsedNanos, final long thresholdNanos, final String threadName,
                           final StackTraceElement[] stack) {
        super("latchwork runtime '" + runtimeName + "': " + cellKind + " callback of " + ownerClassName
            + " has been running for " + millis(elapsedNanos) + " ms on thread '" + threadName
            + "' (threshold " + millis(thresholdNanos) + " ms); stack trace is the stuck thread's", null, false, true);
        this.runtimeName = Objects.requireNonNull(runtimeName);
        this.cellKind = cellKind;
        this.ownerClassName = ownerClassName;
        this.elapsedNanos = elapsedNanos;
        this.threadName = threadName;
        setStackTrace(stack);
    }

    private static String millis(final long nanos) {
        return Long.toString(nanos / 1_000_000) + '.' + Long.toString(nanos / 100_000 % 10);
    }

    /**
     * The stack trace is the stuck thread's, set at construction: the watchdog's own stack is not
     * captured.
     *
     * @return this exception
     */
    @Override
    // synchronized only to match Throwable's signature; it runs once, in the constructor, on the
    // watchdog's thread (never on a hot path), and captures nothing
    public synchronized Throwable fillInStackTrace() {
        return this;
    }

    /**
     * The runtime's {@linkplain AsyncRuntime#name() name}.
     *
     * @return the name of the runtime whose callback is stuck
     */
    public String runtimeName() {
        return runtimeName;
    }

    /**
     * Which kind of cell the callback belongs to.
     *
     * @return {@code "timer"} for an {@link AsyncTimer}, {@code "work"} for an {@link AsyncWork}
     */
    public String cellKind() {
        return cellKind;
    }

    /**
     * The owner the cell was initialized with, by class name (the owner itself is not kept).
     *
     * @return the fully qualified name of the owner's class
     */
    public String ownerClassName() {
        return ownerClassName;
    }

    /**
     * How long the callback had run when the watchdog sampled its stack.
     *
     * @return nanoseconds since the callback started, at the time of the sample
     */
    public long elapsedNanos() {
        return elapsedNanos;
    }

    /**
     * The thread running the stuck callback.
     *
     * @return its name at the time of the sample
     */
    public String threadName() {
        return threadName;
    }
}
