package dev.latchwork;

/**
 * Where a runtime reads the time: the scale of {@link TimerClock#MONOTONIC} deadlines, of relative
 * starts, of the wheel and of {@link AsyncRuntime#nanosUntilDue()} ({@link #nanoTime()}), and the
 * wall clock of {@link TimerClock#REALTIME} {@code startAt} deadlines ({@link #epochNanos()}).
 * <p>
 * A runtime uses {@link #system()} unless it is built with
 * {@link AsyncRuntime.Builder#timeSource(TimeSource)}. Any other source is a <b>test clock</b>:
 * time moves only when the test moves it (see {@link ManualTimeSource}), so it is accepted only in
 * {@link DispatchMode#HOST_DRIVEN} on the built-in wheel, where nothing but the test's own
 * {@link AsyncRuntime#drain()} calls reads it. Waits on real threads (how long
 * {@link AsyncRuntime#close()} waits, a synchronous cancel) stay on real time.
 * <p>
 * Implementations must be thread safe, must not block, and should not allocate: the runtime reads
 * them inside its drain passes.
 */
public interface TimeSource {

    /**
     * The monotonic clock, in nanoseconds on an arbitrary origin (the {@link System#nanoTime()}
     * contract: only differences mean anything). Must never go backwards.
     *
     * @return the current monotonic time in nanoseconds
     */
    long nanoTime();

    /**
     * The wall clock, in nanoseconds since the epoch (1970-01-01T00:00:00Z). May step forwards or
     * backwards; a lower bound of the true time is fine (a deadline is then never claimed early).
     *
     * @return the current wall-clock time in epoch nanoseconds
     */
    long epochNanos();

    /**
     * The system clocks: {@link System#nanoTime()} and {@link System#currentTimeMillis()} in
     * nanoseconds (millisecond steps, read without allocating). A runtime on this source reads
     * the JDK clocks directly, with no call through this interface.
     *
     * @return the shared system source
     */
    static TimeSource system() {
        return SystemTimeSource.INSTANCE;
    }
}
