package dev.latchwork;

/**
 * The built-in timer backend: an intrusive {@link TimerWheel} whose nodes are the timers' control
 * blocks, owned by the thread that drains the runtime (the dispatcher, or the caller of
 * {@link AsyncRuntime#drain()} in HOST_DRIVEN). Arming, firing, re-filing and cancelling allocate
 * nothing, and take no lock: only the owner touches the wheel.
 *
 * <h2>Implementation notes</h2>
 * <b>Ownership.</b> {@link #owner} is the thread that holds the runtime's consumer role right now.
 * It is written by that thread when it takes and gives up the role, and read by drain passes to
 * decide whether they may touch the wheel: a thread reads its own write, so a pass on the owner
 * sees itself, and any other thread sees some other thread (or null) — never itself. A pass off the
 * owner (an INLINE caller applying its own command) only sets {@code target} and then hands its
 * block to the owner ({@link #handOff()}: the block is queued again), whose pass re-files it.
 * <p>
 * <b>Deadline rule on the wheel.</b> A block is filed by {@link TimerBlock#wheelDeadline()}. A
 * start to a later deadline leaves it where it is (the wheel re-reads the deadline when its bucket
 * comes due and re-files it: one re-file per timeout period for an idle timeout re-armed on every
 * read); an earlier one, a first arm, or a change of clock relinks it; a cancel, a close and the
 * block's death unlink it, so a cancelled cell pins no owner.
 * <p>
 * <b>Expiry.</b> {@link TimerWheel#advance} hands a block whose deadline passed to
 * {@link #expired}, already unlinked; {@link TimerBlock#onExpire} re-checks the latch (a command in
 * flight is applied right there, on the owner: last command wins, and a due expiry still fires
 * while commands that keep its deadline keep coming) and the exact deadline on its clock, then
 * fires. A callback runs on the owner thread; one that throws is reported and does not break the
 * walk.
 */
final class WheelBackend extends TimerBackend implements TimerWheel.Expiry {
    /** The default tick: 2^17 ns = 131 µs (see docs/DESIGN.md, "the wheel's geometry"). */
    static final long DEFAULT_TICK_NANOS = 1L << 17;
    /** The default slots per level: 64 (one {@code long} of occupancy bits per level). */
    static final int DEFAULT_TICKS_PER_WHEEL = 64;
    /** Blocks handled (fired, re-filed or dropped) per advance before commands get a turn. */
    static final int ADVANCE_BUDGET = 4096;

    final TimerWheel wheel;
    private final AsyncRuntime runtime;
    /** The thread allowed to touch the wheel now (see the class notes); null between host drains. */
    volatile Thread owner;
    /** The owner's {@link Frames} (set with {@link #owner}, by the owner): fires push onto it. */
    Frames ownerFrames;

    WheelBackend(final AsyncRuntime runtime, final long tickNanos, final int ticksPerWheel) {
        this.runtime = runtime;
        this.wheel = new TimerWheel(tickNanos, ticksPerWheel, runtime.nanoTime());
    }

    boolean ownedByCurrentThread() {
        return owner == Thread.currentThread();
    }

    @Override
    void applied(final TimerBlock b, final long old, final boolean oldWall) {
        if (!ownedByCurrentThread()) {
            return; // handed over: the owner's pass settles it
        }
        final long t = b.target;
        if (t == TimerBlock.NEVER) {
            wheel.remove(b);
        } else if (!TimerWheel.isFiled(b) || old == TimerBlock.NEVER || t < old || b.wall != oldWall) {
            wheel.schedule(b); // first arm, earlier, or another clock: relink (O(1))
        } // later on the same clock: leave it; its bucket re-files it
    }

    @Override
    void settle(final TimerBlock b, final boolean applied) {
        if (applied || !ownedByCurrentThread()) {
            return; // applied() did the wheel's part, or the pass is handed over
        }
        // A pass that applied nothing (a hand-over from an INLINE caller, a re-check): re-file
        // by the current target, whatever happened off the owner.
        if (b.target == TimerBlock.NEVER) {
            wheel.remove(b);
        } else {
            wheel.schedule(b);
        }
    }

    @Override
    void cancel(final TimerBlock b) {
        if (ownedByCurrentThread()) {
            wheel.remove(b);
        }
    }

    @Override
    boolean firesOnCurrentThread() {
        return ownedByCurrentThread(); // every expiry runs on the owner
    }

    @Override
    boolean handOff() {
        return !ownedByCurrentThread();
    }

    @Override
    void shutdown() {
        // the wheel is emptied by its owner when the runtime closes (clear)
    }

    /** Owner only. Advances to now if something is due. @return blocks handled */
    int advance(final long now) {
        final long due = wheel.nextDue();
        if (now < due) {
            return 0;
        }
        final int n = wheel.advance(now, this, ADVANCE_BUDGET);
        try {
            Flight.SINK.wheelAdvanced(runtime, due == Long.MIN_VALUE ? 0 : now - due, n, n >= ADVANCE_BUDGET); // JFR DispatcherBehind
        } catch (final Throwable ignored) {
            // JFR must not cost the advance
        }
        return n;
    }

    /** Owner only: the runtime closed. Unlinks every block; none fires. @return blocks dropped */
    int clear() {
        return wheel.clear(DROP);
    }

    @Override
    public void expired(final WheelNode n, final long now) {
        ((TimerBlock) n).onExpire(this);
    }

    /** Close drops every filed block: disarm it (nothing will fire) and count it. */
    private static final TimerWheel.Expiry DROP = (n, now) -> ((TimerBlock) n).disarmIfStill(((TimerBlock) n).target);
}
