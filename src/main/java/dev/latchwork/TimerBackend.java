package dev.latchwork;

/**
 * The seam between a timer's control block and whatever makes its deadline come (the
 * counterpart of Caffeine's {@code Scheduler}): the built-in {@link WheelBackend} (the default)
 * or an {@link ExecutorBackend} over a user's {@code ScheduledExecutorService}.
 * <p>
 * {@link TimerBlock} keeps the deadline rule on both: the drain decides {@code target} (the last
 * command wins), a re-arm to a later deadline touches nothing, and whatever fires re-checks the
 * exact deadline and the latch before it invokes the callback. A backend only decides when that
 * re-check happens.
 * <p>
 * Every method but {@link #shutdown()} is called by a drain pass of the block (drain-exclusive:
 * one pass at a time per block), on whichever thread runs the pass.
 */
abstract class TimerBackend {

    /**
     * A command was applied: {@code b.target} went from {@code old} (on the wall clock if
     * {@code oldWall}) to its current value. The wheel links or relinks the block here when this
     * thread owns it.
     */
    abstract void applied(TimerBlock b, long old, boolean oldWall);

    /**
     * After a pass: make the backend match {@code b.target}.
     *
     * @param applied whether this pass applied a command (else it only re-checks, for example
     *                after another thread's pass handed its block over)
     */
    abstract void settle(TimerBlock b, boolean applied);

    /** {@code b.target} was just set to never for a detach or the block's death: drop what is scheduled. */
    abstract void cancel(TimerBlock b);

    /**
     * @return true if a pass on this thread must be finished by the thread that owns the backend
     *         (an INLINE caller that applied its command but may not touch the wheel)
     */
    abstract boolean handOff();

    /**
     * @return true if every fire of this backend runs on the calling thread (the wheel's owner),
     *         so that a drain pass here has no concurrent writer of {@code target}
     */
    boolean firesOnCurrentThread() {
        return false;
    }

    /** The runtime is closing: release what the backend owns. Called once, by close. */
    abstract void shutdown();
}
