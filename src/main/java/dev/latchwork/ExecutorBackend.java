package dev.latchwork;

import java.lang.ref.WeakReference;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The timer backend over a {@link ScheduledExecutorService} ({@code Builder.timerScheduler}):
 * one scheduled wake-up per block at a time, re-checked when it runs.
 *
 * <h2>Implementation notes</h2>
 * {@code TimerBlock.wake} is the wake-up currently scheduled on the executor (or null). The drain
 * keeps a wake-up that is due no later than the target (Jetty's {@code CyclicTimeout} trick):
 * re-arming an idle timeout to a later deadline touches nothing but {@code target}; the early
 * wake-up finds {@code target} in the future and asks the drain for a new one. A cancel only sets
 * {@code target}; the stale wake-up fires and finds nothing to do (so arm/cancel cycles never touch
 * the executor). A stale wake-up holds its block only weakly, so it pins no owner; close cancels it
 * on the executor at once.
 * <p>
 * A wake-up proceeds only if it is still the current one ({@code CAS wake: this -> null}); stale
 * wake-ups return. The drain writes {@code target} and then reads {@code wake}; a wake-up clears
 * {@code wake} and then reads {@code target}. Both are volatile, so at least one sees the other:
 * either the drain sees no wake-up and schedules one, or the wake-up sees the new target.
 * A wall-clock deadline (a REALTIME {@code startAt}) is woken for at least once a second, so a
 * forward step of the wall clock is noticed within about a second.
 */
final class ExecutorBackend extends TimerBackend {
    final ScheduledExecutorService scheduler;
    private final boolean owned;

    ExecutorBackend(final ScheduledExecutorService scheduler, final boolean owned) {
        this.scheduler = scheduler;
        this.owned = owned;
    }

    /**
     * One scheduled wake-up. Allocated by the drain only when the executor must be called.
     * <p>
     * It reaches its block weakly, plus strongly through {@link #strong} while the timer is armed.
     * The drain drops the strong link when the timer is cancelled (the stale wake-up stays on the
     * executor until its time), so an owner dropped after a cancel is not kept alive by the
     * executor's queue; an armed timer keeps its owner alive until it fires, as every JDK
     * scheduler does.
     */
    static final class Wake extends WeakReference<TimerBlock> implements Runnable {
        final long at;
        /** {@link #at} is on the wall clock. */
        final boolean wall;
        /** Drain-owned: the block while its timer is armed, else null. */
        TimerBlock strong;
        ScheduledFuture<?> future;

        Wake(final TimerBlock block, final long at, final boolean wall) {
            super(block);
            this.strong = block;
            this.at = at;
            this.wall = wall;
        }

        @Override
        public void run() {
            final TimerBlock block = get();
            if (block != null && TimerBlock.WAKE.compareAndSet(block, this, null)) {
                block.onWake();
            }
        }
    }

    @Override
    void applied(final TimerBlock b, final long old, final boolean oldWall) {
        // nothing: settle schedules a wake-up if the pending one comes too late
    }

    @Override
    void settle(final TimerBlock b, final boolean applied) {
        final long t = b.target; // drain-exclusive: the pair (target, wall) is stable here
        final boolean wallT = b.wall;
        final Wake w = b.wake;
        if (t == TimerBlock.NEVER) {
            if (w != null) {
                w.strong = null; // a stale wake-up fires and finds nothing; it must not pin the owner
            }
            return;
        }
        if (w != null && w.at <= t && w.wall == wallT) {
            w.strong = b; // the pending wake-up comes first and re-checks
            return;
        }
        long delay = TimerBlock.delayUntil(t, b.nowOn(wallT));
        if (wallT) {
            delay = Math.min(delay, TimerBlock.WALL_RECHECK_NANOS); // notice a forward step of the wall clock
        }
        Wake fresh = null;
        try {
            if (w != null && TimerBlock.WAKE.compareAndSet(b, w, null) && w.future != null) {
                w.future.cancel(false); // inside the try: a throw here must not leave the arm unscheduled
            }
            fresh = new Wake(b, t, wallT); // inside the try: an OutOfMemoryError here disarms as a rejection does
            TimerBlock.WAKE.setVolatile(b, fresh); // before scheduling: the wake-up may run at once
            fresh.future = scheduler.schedule(fresh, delay, TimeUnit.NANOSECONDS);
        } catch (final Throwable e) { // a rejection, or anything a scheduler may throw (an OOM allocating its task)
            if (fresh != null) {
                TimerBlock.WAKE.compareAndSet(b, fresh, null); // never keep a wake-up that was not scheduled
            }
            // Nothing will fire for this arm: disarm, so isArmed(), timersArmed and a sync cancel's
            // WAS_PENDING tell the truth. A CAS, not a store: a wake-up of an earlier arm that read
            // the same deadline may have fired it meanwhile (and decremented the count itself).
            b.disarmIfStill(t);
            b.runtime.reportError(e);
        }
    }

    @Override
    void cancel(final TimerBlock b) {
        final Wake w = (Wake) TimerBlock.WAKE.getAndSet(b, null);
        if (w != null && w.future != null) {
            w.future.cancel(false);
        }
    }

    @Override
    boolean handOff() {
        return false;
    }

    @Override
    void shutdown() {
        if (owned) {
            scheduler.shutdown();
        }
    }
}
