package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A timer's control block on a {@link java.util.concurrent.ScheduledExecutorService} backend.
 *
 * <h2>Implementation notes</h2>
 *
 * Two fields carry the backend state. {@link #target} is the deadline the cell should fire at
 * ({@link #NEVER} = disarmed); only the drain sets it, and a firing wake-up consumes it by CAS to
 * {@code NEVER}, so one arm fires at most once. {@link #wake} is the wake-up currently scheduled
 * on the executor (or null). The drain keeps a wake-up that is due no later than the target
 * (Jetty's {@code CyclicTimeout} trick): re-arming an idle timeout to a later deadline touches
 * nothing but {@code target}; the early wake-up finds {@code target} in the future and asks the
 * drain for a new one. A cancel only sets {@code target}; the stale wake-up fires and finds
 * nothing to do (so arm/cancel cycles never touch the executor). A stale wake-up holds its block
 * only weakly, so it pins no owner; close cancels it on the executor at once.
 *
 * <p>A wake-up proceeds only if it is still the current one ({@code CAS wake: this -> null});
 * stale wake-ups return. The drain writes {@code target} and then reads {@code wake}; a wake-up
 * clears {@code wake} and then reads {@code target}. Both are volatile, so at least one sees the
 * other: either the drain sees no wake-up and schedules one, or the wake-up sees the new target.
 *
 * <p>A wake-up fires only when no command is in flight (the drain status is IDLE and every
 * published command was applied): a pending start or cancel supersedes the current arm, so the
 * wake-up hands over to the drain instead ("last command wins" even against an expiry that is due
 * while the re-arm is still in the latch). The drain's {@code settle} then schedules an immediate
 * wake-up if the (new) target is already due.
 */
final class TimerBlock extends ControlBlock {
    static final long NEVER = Long.MAX_VALUE;

    private static final VarHandle TARGET;
    private static final VarHandle WAKE;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            TARGET = l.findVarHandle(TimerBlock.class, "target", long.class);
            WAKE = l.findVarHandle(TimerBlock.class, "wake", Wake.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final TimerClock clock;
    volatile long target = NEVER;
    volatile Wake wake;

    TimerBlock(final AsyncRuntime runtime, final Object owner, final AsyncCell cell, final TimerClock clock) {
        super(runtime, owner, cell);
        this.clock = clock;
    }

    /**
     * One scheduled wake-up. Allocated by the drain only when the executor must be called.
     * <p>
     * It reaches its block weakly, plus strongly through {@link #strong} while the timer is armed.
     * The drain drops the strong link when the timer is cancelled (the stale wake-up stays on the
     * executor until its time, see the class notes), so an owner dropped after a cancel is not
     * kept alive by the executor's queue; an armed timer keeps its owner alive until it fires, as
     * every JDK scheduler does.
     */
    static final class Wake extends WeakReference<TimerBlock> implements Runnable {
        final long at;
        /** Drain-owned: the block while its timer is armed, else null. */
        TimerBlock strong;
        ScheduledFuture<?> future;

        Wake(final TimerBlock block, final long at) {
            super(block);
            this.strong = block;
            this.at = at;
        }

        @Override
        public void run() {
            final TimerBlock block = get();
            if (block != null && WAKE.compareAndSet(block, this, null)) {
                block.onWake();
            }
        }
    }

    @Override
    void apply(final int op, final long arg, final long num) {
        switch (op) {
            case OP_START: {
                final long now = clock.nowCeiling();
                final long d = now + arg;
                setTarget(d < now ? NEVER : d); // saturate: overflow means never
                break;
            }
            case OP_START_AT:
                setTarget(arg);
                break;
            case OP_CANCEL:
                setTarget(NEVER);
                break;
            default:
                break;
        }
    }

    private void setTarget(final long d) {
        final long old = (long) TARGET.getAndSet(this, d);
        if (old == NEVER && d != NEVER) {
            runtime.armed.increment();
        } else if (old != NEVER && d == NEVER) {
            runtime.armed.decrement();
        }
    }

    @Override
    void settle() {
        final long t = target;
        final Wake w = wake;
        if (t == NEVER) {
            if (w != null) {
                w.strong = null; // a stale wake-up fires and finds nothing; it must not pin the owner
            }
            return;
        }
        if (w != null && w.at <= t) {
            w.strong = this; // the pending wake-up comes first and re-checks
            return;
        }
        if (w != null && WAKE.compareAndSet(this, w, null) && w.future != null) {
            w.future.cancel(false);
        }
        final long delay = delayUntil(t, clock.now());
        Wake fresh = null;
        try {
            fresh = new Wake(this, t); // inside the try: an OutOfMemoryError here disarms as a rejection does
            WAKE.setVolatile(this, fresh); // before scheduling: the wake-up may run at once
            fresh.future = runtime.scheduler.schedule(fresh, delay, TimeUnit.NANOSECONDS);
        } catch (final Throwable e) { // a rejection, or anything a scheduler may throw (an OOM allocating its task)
            if (fresh != null) {
                WAKE.compareAndSet(this, fresh, null); // never keep a wake-up that was not scheduled
            }
            // Nothing will fire for this arm: disarm, so isArmed(), timersArmed and a sync cancel's
            // WAS_PENDING tell the truth. A CAS, not a store: a wake-up of an earlier arm that read
            // the same deadline may have fired it meanwhile (and decremented the count itself).
            if (TARGET.compareAndSet(this, t, NEVER)) {
                runtime.armed.decrement();
            }
            runtime.reportError(e);
        }
    }

    /**
     * The wait from {@code now} until {@code t}, without overflow: a deadline far in the past
     * (near {@code Long.MIN_VALUE}) is due now, not "in 292 years"; one far ahead saturates.
     */
    static long delayUntil(final long t, final long now) {
        if (t <= now) {
            return 0;
        }
        final long d = t - now;
        return d < 0 ? Long.MAX_VALUE : d;
    }

    @Override
    void cancelBackend() {
        final long old = (long) TARGET.getAndSet(this, NEVER);
        if (old != NEVER) {
            runtime.armed.decrement();
        }
        final Wake w = (Wake) WAKE.getAndSet(this, null);
        if (w != null && w.future != null) {
            w.future.cancel(false);
        }
    }

    @Override
    boolean isPendingOnBackend() {
        return target != NEVER;
    }

    /** The current wake-up ran. Runs on the scheduler's thread. */
    void onWake() {
        if (!mayInvoke() || (state & COUNT_MASK) == 0) {
            return;
        }
        final long t = target;
        if (t == NEVER) {
            return;
        }
        if (t > clock.now()) {
            requestDrain(); // re-armed later (or the wall clock stepped back): schedule anew
            return;
        }
        if (!tryRetain()) {
            return;
        }
        boolean handOver = false;
        // Count ourselves as running BEFORE deciding to fire: a sync cancel clears the callback,
        // publishes its cancel and then waits for running == 0. Either it sees us (and waits), or
        // we see its cancel as a pending command (and hand over to the drain) - never neither.
        final Frames frames = enterCallback();
        try {
            // Order matters: "command in flight" first, "drain idle" second. A command whose
            // number we see as consumed was applied by a pass that returns to IDLE only after, so
            // reading IDLE afterwards means the target already reflects it and the CAS fails.
            if (commandPending() || drainStatus != IDLE) {
                handOver = true; // a newer command supersedes this arm; the drain decides
            } else if (TARGET.compareAndSet(this, t, NEVER)) {
                runtime.armed.decrement();
                invoke();
            } // else the drain changed the target; it settles the backend itself
        } finally {
            exitCallback(frames);
            release();
        }
        if (handOver) {
            requestDrain();
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void invoke() {
        final Object cb = callback;
        if (cb == null || !mayInvoke()) {
            return;
        }
        runtime.fired.increment();
        try {
            ((TimerCallback) cb).onTimer(owner, (AsyncTimer) cell);
        } catch (final Throwable t) {
            runtime.callbackError(t);
        }
    }
}
