package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A timer's control block. The deadline rule lives here; when the deadline comes is the
 * {@link TimerBackend}'s business (the built-in wheel, or a {@code ScheduledExecutorService}).
 *
 * <h2>Implementation notes</h2>
 *
 * <b>Target.</b> {@link #target} is the deadline the cell should fire at ({@link #NEVER} =
 * disarmed). Only a drain pass sets it (the last command wins); whatever fires consumes it by CAS
 * to {@code NEVER}, so one arm fires at most once. On a {@link TimerClock#REALTIME} cell a target
 * lives on one of two clocks, told by {@link #wall}: a relative {@code start} is measured on the
 * monotonic clock (as the kernel does for relative {@code CLOCK_REALTIME} hrtimers: a wall-clock
 * step does not move it), a {@code startAt} on the wall clock. A {@link TimerClock#MONOTONIC} cell
 * has only monotonic targets.
 *
 * <p><b>The (target, wall) pair.</b> Only a drain pass writes them, one pass at a time. When the
 * clock changes, the pass first takes the target to {@code NEVER}, then writes {@code wall}, then
 * the new target (all volatile). A reader on another thread reads the target, then {@code wall},
 * then the target again, and retries until both target reads agree: a {@code wall} from a newer
 * command can only have been written after the target went to {@code NEVER}, so the second read
 * would differ — unless the newer target is numerically the same, and then the flag read belongs
 * to it. So a fire never compares a deadline with the other clock's "now".
 *
 * <p><b>Firing.</b> A fire re-checks, in order: the cell is not closed and the block alive; no
 * command is in flight (a pending start or cancel supersedes the current arm: "last command wins"
 * even against an expiry that is due while the re-arm is still in the latch); the exact deadline
 * has passed on its clock. On the executor backend the wake-up hands a pending command over to the
 * drain ({@link #onWake}). On the wheel the expiry runs on the thread that owns the drain, so it
 * applies the pending command itself and then decides ({@link #onExpire}): a due expiry fires even
 * while commands that keep its deadline keep coming (contract 3.9).
 *
 * <p><b>Running marker first.</b> Both fire paths count themselves as running before they look at
 * the latch: a sync cancel clears the callback, publishes its cancel and then waits for
 * {@code running == 0}. Either it sees the fire (and waits), or the fire sees its cancel as a
 * pending command (and does not invoke) — never neither.
 */
final class TimerBlock extends ControlBlock {
    static final long NEVER = Long.MAX_VALUE;
    /** The longest a wall-clock deadline waits unchecked: bounds how late a forward step is noticed. */
    static final long WALL_RECHECK_NANOS = 1_000_000_000L;

    static final VarHandle TARGET;
    static final VarHandle WAKE;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            TARGET = l.findVarHandle(TimerBlock.class, "target", long.class);
            WAKE = l.findVarHandle(TimerBlock.class, "wake", ExecutorBackend.Wake.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The cell's clock is {@link TimerClock#REALTIME} (a boolean: it fits a gap of the layout). */
    final boolean realtime;
    volatile long target = NEVER;
    /** True when {@link #target} is on the wall clock (a REALTIME startAt). See the class notes. */
    volatile boolean wall;
    /** The executor backend's scheduled wake-up (null on the wheel). */
    volatile ExecutorBackend.Wake wake;

    TimerBlock(final AsyncRuntime runtime, final Object owner, final AsyncCell cell, final TimerClock clock) {
        super(runtime, owner, cell);
        this.realtime = clock == TimerClock.REALTIME;
    }

    // ------------------------------------------------------------------------------------------
    // clocks

    /** @return a lower bound of the current time on the wall clock ({@code w}) or the monotonic one */
    long nowOn(final boolean w) {
        return w ? runtime.epochNanos() : runtime.nanoTime();
    }

    /**
     * Reads {@link #wall} consistently with a target read just before (see the class notes).
     *
     * @param t the target just read (not NEVER)
     * @return the clock of {@code t}, or null if the target changed meanwhile (read it again)
     */
    private Boolean wallOf(final long t) {
        final boolean w = wall;
        return target == t ? (w ? Boolean.TRUE : Boolean.FALSE) : null;
    }

    /**
     * The deadline on the wheel's (monotonic) scale. A wall-clock target is seen from now and
     * re-checked at least every {@link #WALL_RECHECK_NANOS}: a forward step of the wall clock is
     * noticed within a second, a backward step only re-files it (never early).
     */
    @Override
    long wheelDeadline() {
        long t;
        Boolean w;
        do {
            t = target;
            if (t == NEVER) {
                return NEVER;
            }
        } while ((w = wallOf(t)) == null);
        if (!w) {
            return t;
        }
        final long wallNow = runtime.epochNanos();
        if (t <= wallNow) {
            return Long.MIN_VALUE; // due
        }
        final long left = t - wallNow; // t > wallNow >= 0: no overflow
        return runtime.nanoTime() + Math.min(left, WALL_RECHECK_NANOS);
    }

    /** {@link #readDue()}'s answer for an armed target not yet due on its clock. */
    private static final long NOT_DUE = NEVER - 1;

    /**
     * What both fire paths ask first: reads the (target, wall) pair consistently (class notes) and
     * compares the target with the current time on its own clock.
     *
     * @return {@link #NEVER} if disarmed, {@link #NOT_DUE} if armed but not yet due, else the due
     *         target (a due target is at most "now", so it is never {@code NOT_DUE})
     */
    private long readDue() {
        long t;
        Boolean w;
        do {
            t = target;
            if (t == NEVER) {
                return NEVER;
            }
        } while ((w = wallOf(t)) == null);
        return t > nowOn(w) ? NOT_DUE : t;
    }

    /** @return the applied deadline on the cell's clock (racy), or NEVER */
    long deadlineOnCellClock() {
        long t;
        Boolean w;
        do {
            t = target;
            if (t == NEVER || !realtime) {
                return t;
            }
        } while ((w = wallOf(t)) == null);
        if (w) {
            return t;
        }
        final long left = t - runtime.nanoTime(); // a monotonic target on a REALTIME cell
        final long wall = runtime.epochNanos() + left;
        return (left > 0 && wall < 0) ? NEVER - 1 : wall;
    }

    // ------------------------------------------------------------------------------------------
    // drain side

    @Override
    void apply(final int op, final long arg, final long num) {
        final long d;
        boolean w = false;
        switch (op) {
            case OP_START: {
                // relative starts: monotonic on every cell. AsyncRuntime.nanoTime() written out: on
                // an INLINE caller this is the hot path, one call level deeper than it was
                final AsyncRuntime rt = runtime;
                final long now = rt.systemClock ? System.nanoTime() : rt.timeSource.nanoTime();
                final long sum = now + arg;
                d = sum < now ? NEVER : sum; // saturate: overflow means never
                break;
            }
            case OP_START_AT:
                d = arg;
                w = realtime && arg != NEVER;
                break;
            case OP_CANCEL:
                d = NEVER;
                break;
            default:
                return;
        }
        final boolean oldWall = wall;
        final long old = setTarget(d, w);
        runtime.timers.applied(this, old, oldWall);
    }

    /** Drain-exclusive: sets the pair (target, wall) in the order the class notes give. */
    private long setTarget(final long d, final boolean w) {
        if (w != wall) {
            final long prev = (long) TARGET.getAndSet(this, NEVER);
            wall = w; // volatile: after the NEVER, before the new target
            TARGET.setVolatile(this, d);
            countArm(prev, d);
            return prev;
        }
        final long old;
        if (runtime.timers.firesOnCurrentThread()) {
            // On the wheel's owner nobody else writes the target now: passes are exclusive, and
            // every fire (the only other writer, a CAS to NEVER) runs on this very thread. So a
            // plain read and a release store replace the getAndSet (a locked instruction per
            // applied command). Release: readers on other threads (isArmed, deadline, a sync
            // canceller) see the effect no later than the claim that follows (CONSUMED, a CAS),
            // and the clock does not change here, so the (target, wall) pair stays consistent.
            old = target;
            TARGET.setRelease(this, d);
        } else {
            old = (long) TARGET.getAndSet(this, d); // the executor's wake-up may CAS it meanwhile
        }
        countArm(old, d);
        return old;
    }

    private void countArm(final long old, final long d) {
        if (old == NEVER && d != NEVER) {
            runtime.armed.increment();
        } else if (old != NEVER && d == NEVER) {
            runtime.armed.decrement();
        }
    }

    /**
     * Disarms if the target is still {@code t}: the one name for "this arm will not fire" (a
     * fire, a rejected schedule, a close of the wheel). A CAS, not a store: someone else may have
     * consumed or replaced the arm meanwhile (and counted it).
     *
     * @return true if this call disarmed it
     */
    boolean disarmIfStill(final long t) {
        if (t != NEVER && TARGET.compareAndSet(this, t, NEVER)) {
            runtime.armed.decrement();
            return true;
        }
        return false;
    }

    @Override
    void settle(final boolean applied) {
        runtime.timers.settle(this, applied);
    }

    @Override
    boolean handOff() {
        return runtime.timers.handOff();
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
        runtime.timers.cancel(this);
    }

    @Override
    void afterDeath() {
        runtime.timers.cancel(this); // on the wheel's owner: unlink what an INLINE final cancel could not
    }

    @Override
    boolean isPendingOnBackend() {
        return target != NEVER;
    }

    // ------------------------------------------------------------------------------------------
    // fire side

    /** The executor backend's current wake-up ran. Runs on the scheduler's thread. */
    void onWake() {
        if (!mayInvoke() || (state & COUNT_MASK) == 0) {
            return;
        }
        final long t = readDue();
        if (t == NEVER) {
            return;
        }
        if (t == NOT_DUE) {
            requestDrain(); // re-armed later (or the wall clock stepped back, or a re-check): schedule anew
            return;
        }
        if (!tryRetain()) {
            return;
        }
        boolean handOver = false;
        final Frames frames = enterCallback(); // before deciding to fire: see the class notes
        try {
            // Order matters: "command in flight" first, "drain idle" second. A command whose
            // number we see as consumed was applied by a pass that returns to IDLE only after, so
            // reading IDLE afterwards means the target already reflects it and the CAS fails.
            if (commandPending() || drainStatus != IDLE) {
                handOver = true; // a newer command supersedes this arm; the drain decides
            } else if (disarmIfStill(t)) {
                invoke(t);
            } // else the drain changed the target; it settles the backend itself
        } finally {
            exitCallback(frames);
            release();
        }
        if (handOver) {
            requestDrain();
        }
    }

    /**
     * The wheel handed this block over: its deadline passed by the wheel's reckoning. Runs on the
     * wheel's owner (the draining thread); the block is already unlinked.
     */
    void onExpire(final WheelBackend wb) {
        if (!mayInvoke()) {
            if (runtime.isClosed()) {
                disarmIfStill(target); // nothing fires any more; keep timersArmed true
            }
            return; // detached: the detach's own pass disarms it
        }
        if (!tryRetain()) {
            return; // dead: its last pass disarms it
        }
        final Frames frames = enterWheelCallback(wb); // before looking at the latch: see the class notes
        try {
            if (commandPending() && !applyPendingHere()) {
                return; // an INLINE caller is applying a command right now; its pass is handed to us
            }
            final long t = readDue();
            if (t == NEVER) {
                return;
            }
            if (t == NOT_DUE) {
                wb.wheel.schedule(this); // re-armed later, or a wall-clock re-check: re-file
                return;
            }
            if (disarmOnOwner(t)) {
                wb.wheel.remove(this); // a pass above may have filed it again
                invoke(t);
            }
        } finally {
            exitWheelCallback(frames);
            release();
        }
    }

    /**
     * {@link #disarmIfStill} on the wheel's owner, without the CAS. In DEFERRED and HOST_DRIVEN
     * every writer of {@link #target} runs on this thread: drain passes (only the consumer runs
     * them: no publisher drains in these modes), fires, and the close of the wheel. So the target
     * read by {@link #readDue()} is still current here, and a release store of NEVER does what
     * the CAS did (readers on other threads, {@code isArmed} and a sync canceller, see it as they
     * saw the CAS's store; what they order against it is the latch and {@code consumed}, not this
     * field). In INLINE a caller's pass may write the target at the same time: the CAS stays.
     */
    private boolean disarmOnOwner(final long t) {
        if (runtime.mode == DispatchMode.INLINE) {
            return disarmIfStill(t); // an INLINE caller's pass may write the target meanwhile
        }
        if (t == NEVER || target != t) {
            return false;
        }
        TARGET.setRelease(this, NEVER);
        runtime.armed.decrement();
        return true;
    }

    /**
     * {@link #enterCallback()} for a fire on the wheel's owner, minus the runtime-wide
     * {@code activeCallbacks} count (an atomic on a line every callback of the runtime writes):
     * a wheel fire always runs inside a drain that the runtime counts in {@code activeDrains}
     * (the dispatcher's iteration or a {@code drain()} call), and a close waits for those, so
     * counting the callback too only repeated it ({@code Frames.countedCallbacksOf} leaves these
     * frames out of the close's own-callback count accordingly). The running count of the block
     * ({@code callbacks}, the sync-cancel handshake) is kept as it was. The frames are the
     * owner's, kept by the backend (no thread-local lookup per fire).
     */
    private Frames enterWheelCallback(final WheelBackend wb) {
        CALLBACKS.getAndAdd(this, 1);
        final Frames f = wb.ownerFrames;
        return f != null && f.push(this) ? f : null;
    }

    /** Ends what {@link #enterWheelCallback} began (as {@link #exitCallback} does, minus the runtime count). */
    private void exitWheelCallback(final Frames f) {
        if (f != null) {
            f.pop();
        }
        if ((((int) CALLBACKS.getAndAdd(this, -1)) & (CANCELLER - 1)) == 1) {
            final Waiters w = waiters;
            if (w != null) {
                w.wakeAll();
            }
        }
        runtime.wakeClosers();
    }

    /**
     * Applies the newest command now, on the wheel's owner, instead of waiting for the queued pass
     * (liveness: a due expiry under a continuous stream of commands must not be postponed for ever).
     *
     * @return false if another thread (an INLINE caller) is running a pass on this block
     */
    private boolean applyPendingHere() {
        final int st = drainStatus;
        if (st == QUEUED) {
            // Queued: only the owner (this thread) polls it, INLINE callers take only IDLE blocks,
            // and publishers leave a queued block alone, so a pass here is exclusive. The queued
            // pass still comes later and finds nothing new.
            drainPass();
            return true;
        }
        if (st == IDLE && STATUS.compareAndSet(this, IDLE, PROCESSING)) {
            drainPass();
            if (!STATUS.compareAndSet(this, PROCESSING, IDLE)) {
                STATUS.setVolatile(this, QUEUED); // a command came during the pass: queue another
                runtime.enqueue(this);
            }
            return true;
        }
        return false;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void invoke(final long due) {
        final Object cb = callback;
        if (cb == null || !mayInvoke()) {
            return;
        }
        try {
            runtime.fired.increment();
            final Object probe = Probes.beginTimer(this, due); // watchdog, JFR: null when both are off
            try {
                ((TimerCallback) cb).onTimer(owner, (AsyncTimer) cell);
            } finally {
                if (probe != null) {
                    Probes.end(this, probe);
                }
            }
        } catch (final Throwable t) { // the callback's, or an OutOfMemoryError from the counter
            runtime.callbackError(t);
        }
    }
}
