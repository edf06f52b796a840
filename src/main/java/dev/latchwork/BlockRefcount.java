package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The control block's refcount, whose zero is terminal. A field group of its own, right after the
 * latch: every publish reads it (dead or detached answers {@code DEAD}), only drains, callbacks and
 * {@code close} write it (see {@link BlockLatch} for the chain).
 *
 * <h2>Implementation notes</h2>
 * The low 30 bits of {@link #state} count references; bit 30 ({@link #DETACHED}) says the cell let
 * go of the block. The cell holds one reference from {@code init} until {@code close}, which sets
 * {@code DETACHED} and drops it in one {@code getAndAdd} ({@link #markDetached()}). A drain holds
 * one reference per dequeue (not per pass, issue 14: {@link BlockDrainStatus#drainLoop()}); a
 * callback invocation holds one for its duration. Both take it with increment-if-not-zero
 * ({@link #tryRetain()}, a CAS loop), so once the count is zero it never rises again and nothing
 * can arm the backend or call back. Whoever drops the last reference does not touch the backend
 * itself (that could take the backend's locks on a hot path): {@link #release()} schedules a
 * drain, and the drain, finding the count zero, cancels the backend one final time.
 * Publishers take no reference: they read the state and refuse with {@link AsyncStatus#DEAD}.
 * <p>
 * Memory ordering: {@code tryRetain} is a volatile read and CAS (the drainer's read of the count
 * closes the no-lost-drain handshake for the last release, DESIGN 5.2); {@code release} and
 * {@code markDetached} are volatile {@code getAndAdd}s, followed by a read-modify-write of the drain
 * status when they ask for a drain.
 */
abstract class BlockRefcount extends BlockLatch {
    static final int DETACHED = 1 << 30;
    static final int COUNT_MASK = DETACHED - 1;

    static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(BlockRefcount.class, "state", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile int state = 1;

    BlockRefcount(final AsyncRuntime runtime) {
        super(runtime);
    }

    /** Makes sure a drain pass will run after this call (the drain-status machine). */
    abstract void scheduleDrain();

    /** Increment-if-not-zero. @return true if a reference was taken */
    final boolean tryRetain() {
        for (;;) {
            final int s = state;
            if ((s & COUNT_MASK) == 0) {
                return false;
            }
            if (STATE.weakCompareAndSet(this, s, s + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; the last one asks for the drain that finalizes the block. */
    final void release() {
        final int s = (int) STATE.getAndAdd(this, -1) - 1;
        if ((s & COUNT_MASK) == 0) {
            scheduleDrain(); // the drain finds the count zero and cancels the backend once more
        }
    }

    final boolean isDeadOrDetached() {
        final int s = state;
        return (s & DETACHED) != 0 || (s & COUNT_MASK) == 0;
    }

    /** The cell's close: set DETACHED and drop the cell's reference in one atomic step. */
    final void markDetached() {
        STATE.getAndAdd(this, DETACHED - 1);
    }
}
