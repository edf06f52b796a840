package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The control block's deferred drain: the drain-status machine (after Caffeine's) that makes sure
 * one drain runs after every command, with the block queued at most once and drained by one thread
 * at a time; and the drain loop, which runs passes on the thread that moved the status to
 * {@code PROCESSING}. Its field, {@link #drainStatus}, sits right after the latch and the refcount
 * (see {@link BlockLatch} for the chain): a cold publish moves it from idle to queued, so it
 * belongs on the publisher's line.
 *
 * <h2>Implementation notes</h2>
 * <pre>
 *   IDLE --publish/request--> QUEUED            (only this transition offers the block to the queue)
 *   QUEUED --the consumer polls it, getAndSet--> PROCESSING
 *   PROCESSING --publish/request--> PROCESSING_AGAIN
 *   PROCESSING --pass done, CAS--> IDLE
 *   PROCESSING_AGAIN --pass done, CAS--> PROCESSING (another pass) or QUEUED (re-offered, for fairness)
 *   IDLE --INLINE caller CAS--> PROCESSING      (the caller drains itself)
 * </pre>
 * <b>No lost drain (the handshake), issue 14 form.</b> A publisher writes the latch (its last store
 * is a release, W6) and then performs a read-modify-write of the status in every case
 * ({@link #scheduleDrain()}: {@code IDLE -> QUEUED}, {@code PROCESSING -> PROCESSING_AGAIN}, and
 * {@code QUEUED -> QUEUED} / {@code PROCESSING_AGAIN -> PROCESSING_AGAIN}: a CAS that writes the
 * value it read). Every move of a drainer into {@code PROCESSING} is a read-modify-write too
 * ({@link #drainDequeued()}'s {@code getAndSet}, the {@code CAS PROCESSING_AGAIN -> PROCESSING}
 * between passes, INLINE's {@code CAS IDLE -> PROCESSING}), after which the pass reads {@code seq}.
 * Read-modify-writes of one variable are totally ordered, and each reads the value the previous
 * one wrote: if the publisher's comes first, the drainer's reads it, so the publisher's latch
 * stores happen-before the pass's read of {@code seq} (the pass claims the command); if the
 * drainer's comes first, the publisher's reads {@code PROCESSING} (and forces another pass, which
 * re-reads {@code seq} after its own read-modify-write) or a later status (idle: it queues the block
 * itself; queued: the dequeue's {@code getAndSet} comes later and reads the publisher's write).
 * Before issue 14 the publisher's last latch store was volatile and its status access a plain
 * volatile read on a queued block; that pattern needed the volatile store's store-load fence on
 * every publish, including the cold ones that do a CAS on the status right after it.
 * <p>
 * <b>One reference per dequeue.</b> {@link #drainLoop()} takes the drain's reference before its
 * first pass and keeps it while passes follow one another ({@code PROCESSING_AGAIN}); it drops it
 * before the status leaves {@code PROCESSING} (before the CAS to {@code IDLE}, a re-offer or a
 * hand-over), so a last release's request for the final pass turns into {@code PROCESSING_AGAIN}
 * and is served by this same loop, as before. Passes are exclusive, so one reference covers them
 * all: the count cannot reach zero while any of them runs, which is all a pass needs.
 */
abstract class BlockDrainStatus extends BlockRefcount {
    static final int IDLE = 0;
    static final int QUEUED = 1;
    static final int PROCESSING = 2;
    static final int PROCESSING_AGAIN = 3;

    /** Passes an INLINE caller or the dispatcher gives one block before re-queueing it. */
    static final int MAX_PASSES = 8;

    static final VarHandle STATUS;

    static {
        try {
            STATUS = MethodHandles.lookup().findVarHandle(BlockDrainStatus.class, "drainStatus", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile int drainStatus;

    BlockDrainStatus(final AsyncRuntime runtime) {
        super(runtime);
    }

    /** One pass with a reference held by the caller: claim the newest command, apply, settle. */
    abstract void passRetained();

    /** One pass on a block whose count is zero: the final cancel (once), or what is left after it. */
    abstract void passDead();

    /**
     * @return true if a pass on this thread must be finished by the thread that owns the backend
     *         (then the block is queued for it instead of going back to IDLE)
     */
    boolean handOff() {
        return false;
    }

    /**
     * After a publish (or any request): apply here (INLINE) or make sure a drain is scheduled.
     * Both branches begin with a read-modify-write of the status (the handshake, class notes).
     */
    final void afterPublish() {
        if (runtime.mode == DispatchMode.INLINE && STATUS.compareAndSet(this, IDLE, PROCESSING)) {
            // An inline drain counts as a drain in flight, so a runtime close waits for it
            // (hardening #6); one that finds the runtime closed leaves the block inert.
            final Frames f = runtime.enterDrain();
            if (f != null) {
                try {
                    drainLoop();
                } finally {
                    runtime.exitDrain(f);
                }
            } else if (!runtime.isClosed()) {
                // no frames (an OutOfMemoryError): hand the pass to the dispatcher, never wedge
                STATUS.setVolatile(this, QUEUED);
                runtime.enqueue((ControlBlock) this); // every concrete block is a ControlBlock
            }
            return;
        }
        scheduleDrain();
    }

    final void requestDrain() {
        afterPublish();
    }

    /**
     * Makes sure a drain pass will run after this call. Lock-free, allocation-free. Always ends
     * with a successful CAS (a read-modify-write of the status), also when nothing changes: that
     * write is what the drainer's next read-modify-write reads (class notes).
     */
    @Override
    final void scheduleDrain() {
        for (;;) {
            final int st = drainStatus;
            final int next = st == IDLE ? QUEUED : st == PROCESSING ? PROCESSING_AGAIN : st;
            if (STATUS.compareAndSet(this, st, next)) {
                if (st == IDLE) {
                    runtime.enqueue((ControlBlock) this); // every concrete block is a ControlBlock
                }
                return; // QUEUED or PROCESSING_AGAIN: a pass that reads our command is still to come
            }
        }
    }

    /**
     * The queue's consumer polled this block: move it to PROCESSING (a {@code getAndSet}: the
     * drainer's read-modify-write of the handshake) and drain it.
     */
    final void drainDequeued() {
        STATUS.getAndSet(this, PROCESSING);
        drainLoop();
    }

    /**
     * Runs passes until the status goes back to IDLE. The caller moved the status to PROCESSING by
     * a read-modify-write. One reference for all the passes (class notes).
     */
    final void drainLoop() {
        boolean held = false;
        for (int pass = 1; ; pass++) {
            try {
                if (!held) {
                    held = tryRetain();
                }
                if (held) {
                    passRetained();
                } else {
                    passDead();
                }
            } catch (final Throwable t) { // an OutOfMemoryError included: the status below still moves
                runtime.reportError(t);   // never throws
            }
            if (handOff()) {
                // This thread applied the command but may not finish it (an INLINE caller off the
                // wheel's owner): queue the block for the owner, whose pass re-files it.
                if (held) {
                    held = false;
                    release();
                }
                STATUS.setVolatile(this, QUEUED);
                runtime.enqueue((ControlBlock) this); // every concrete block is a ControlBlock
                return;
            }
            if (held && pass < MAX_PASSES && drainStatus == PROCESSING_AGAIN) {
                // Another pass was asked for: keep the reference. Only the drainer moves the status
                // away from PROCESSING_AGAIN, so the CAS succeeds; it is the read-modify-write that
                // reads the requester's write before the next pass reads seq.
                STATUS.compareAndSet(this, PROCESSING_AGAIN, PROCESSING);
                continue;
            }
            if (held) {
                held = false;
                release(); // before leaving PROCESSING: a last release asks for the final pass here
            }
            if (STATUS.compareAndSet(this, PROCESSING, IDLE)) {
                return;
            }
            if (pass >= MAX_PASSES) {
                STATUS.setVolatile(this, QUEUED);
                runtime.enqueue((ControlBlock) this); // every concrete block is a ControlBlock
                return;
            }
            STATUS.compareAndSet(this, PROCESSING_AGAIN, PROCESSING); // as above
        }
    }
}
