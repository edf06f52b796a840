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
 *   QUEUED --the consumer polls it--> PROCESSING
 *   PROCESSING --publish/request--> PROCESSING_AGAIN
 *   PROCESSING --pass done, CAS--> IDLE
 *   PROCESSING_AGAIN --pass done--> PROCESSING (another pass) or QUEUED (re-offered, for fairness)
 *   IDLE --INLINE caller CAS--> PROCESSING      (the caller drains itself)
 * </pre>
 * <b>No lost drain.</b> A publisher writes the latch (volatile) and then reads the status; a
 * drainer writes {@code PROCESSING} (volatile) and then reads the latch. By sequential consistency
 * one of them sees the other: either the pass reads the new command, or the publisher moves the
 * status to {@code PROCESSING_AGAIN} and forces another pass (DESIGN 5.2).
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

    /** One drain pass: claim the newest command, apply it, settle the backend. */
    abstract void drainPass();

    /**
     * @return true if a pass on this thread must be finished by the thread that owns the backend
     *         (then the block is queued for it instead of going back to IDLE)
     */
    boolean handOff() {
        return false;
    }

    /** After a publish (or any request): apply here (INLINE) or make sure a drain is scheduled. */
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

    /** Makes sure a drain pass will run after this call. Lock-free, allocation-free. */
    @Override
    final void scheduleDrain() {
        for (;;) {
            final int st = drainStatus;
            if (st == IDLE) {
                if (STATUS.compareAndSet(this, IDLE, QUEUED)) {
                    runtime.enqueue((ControlBlock) this); // every concrete block is a ControlBlock
                    return;
                }
            } else if (st == PROCESSING) {
                if (STATUS.compareAndSet(this, PROCESSING, PROCESSING_AGAIN)) {
                    return;
                }
            } else {
                return; // QUEUED or PROCESSING_AGAIN: a pass that reads our command is still to come
            }
        }
    }

    /** The queue's consumer polled this block: move it to PROCESSING and drain it. */
    final void drainDequeued() {
        STATUS.setVolatile(this, PROCESSING);
        drainLoop();
    }

    /** Runs passes until the status goes back to IDLE. The caller moved the status to PROCESSING. */
    final void drainLoop() {
        for (int pass = 1; ; pass++) {
            try {
                drainPass();
            } catch (final Throwable t) { // an OutOfMemoryError included: the status below still moves
                runtime.reportError(t);   // never throws
            }
            if (handOff()) {
                // This thread applied the command but may not finish it (an INLINE caller off the
                // wheel's owner): queue the block for the owner, whose pass re-files it.
                STATUS.setVolatile(this, QUEUED);
                runtime.enqueue((ControlBlock) this); // every concrete block is a ControlBlock
                return;
            }
            if (STATUS.compareAndSet(this, PROCESSING, IDLE)) {
                return;
            }
            if (pass >= MAX_PASSES) {
                STATUS.setVolatile(this, QUEUED);
                runtime.enqueue((ControlBlock) this); // every concrete block is a ControlBlock
                return;
            }
            STATUS.setVolatile(this, PROCESSING);
        }
    }
}
