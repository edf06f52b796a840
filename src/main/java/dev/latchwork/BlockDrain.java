package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The drain pass: read the latch, claim the newest command by its number, apply it, settle the
 * backend; and the final pass of a dead block. Its fields are drain-written and come after
 * everything a publisher touches (see {@link BlockLatch} for the chain), so a drain's claim does
 * not write the publisher's line.
 *
 * <h2>Implementation notes</h2>
 * <b>Claiming (no re-run, kernel v6 pitfall a).</b> {@link #consumed} is the number of the last
 * command claimed. A pass applies a snapshot only if its number is greater, then advances
 * {@code consumed} to it. A stale slot (the previous command, already consumed) has a number that
 * is not greater and is ignored, so a consumed command is never applied twice. Commands between the
 * last consumed and the applied one were superseded (last command wins) and are counted as such.
 * <p>
 * <b>Memory ordering, per access.</b>
 * <ul>
 * <li>R1, the pass's first read of {@code seq} (lvSeq): volatile, after the drainer's
 * read-modify-write of the drain status (the handshake, {@link BlockDrainStatus}); every retry
 * re-reads with acquire, so the slot reads below it are ordered after the sequence they are
 * validated against (design-review defect D1).</li>
 * <li>R2, the slot reads: opaque (no tearing); R3 {@code loadLoadFence}; R4 the validating re-read
 * (opaque).</li>
 * <li>{@code consumed}: read plainly by the drainer (only drainers write it, one at a time, and
 * successive drainers are ordered by the status's read-modify-writes); published with a
 * <b>release store</b> (soConsumed, issue 14) after {@code apply} returned. Passes are exclusive,
 * so the CAS this used to be could never fail and only asserted that; what the store must do is
 * make the effect visible with the number: whoever reads the new number (a volatile read:
 * {@link #commandPending()}, the sync cancel's {@code WAS_PENDING}) also sees the target written
 * or the work run's state moved. A release store orders every earlier access before it, which is
 * exactly that. Nothing reads {@code consumed} in a store-load (Dekker) pattern.</li>
 * <li>{@link #finalized}: plain, drain-owned; successive drainers are ordered by the status.</li>
 * </ul>
 */
abstract class BlockDrain extends BlockCallback {
    static final VarHandle CONSUMED;

    static {
        try {
            CONSUMED = MethodHandles.lookup().findVarHandle(BlockDrain.class, "consumed", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile long consumed;
    /** Drain-owned: onDead ran. */
    boolean finalized;

    BlockDrain(final AsyncRuntime runtime, final Object owner, final AsyncCell cell) {
        super(runtime, owner, cell);
    }

    /** @return true if a published command has not been applied yet (or is being written) */
    final boolean commandPending() {
        final long s = lvSeq();
        return (s & 3) != 0 || (s >>> 2) != consumed;
    }

    /**
     * One pass that takes its own reference: the pass in place of an expiry on the wheel's owner
     * (a queued block, or one it moved from IDLE to PROCESSING). Passes on one block are exclusive.
     */
    final void drainPass() {
        if (!tryRetain()) {
            passDead();
            return;
        }
        try {
            passRetained();
        } finally {
            release();
        }
    }

    @Override
    final void passDead() {
        runtime.drains.increment();
        if (!finalized) {
            finalized = true;
            onDead();
        } else {
            afterDeath(); // a pass handed over after the death: the wheel's owner unlinks it
        }
    }

    /**
     * One drain pass, the caller holding a reference: claim the newest command, apply it, settle
     * the backend. Passes on one block are exclusive (the drain status, or the wheel owner's expiry
     * on a queued block).
     */
    @Override
    final void passRetained() {
        runtime.drains.increment();
        long s = lvSeq(); // R1: volatile, after the status read-modify-write (class notes)
        int op;
        long arg;
        long num;
        for (int i = 0; ; i++) {
            if (i > 0) {
                s = (long) SEQ.getAcquire(this);
            }
            if ((s & 3) == 1) {
                op = (int) OP1.getOpaque(this);
                arg = (long) ARG1.getOpaque(this);
                num = s >>> 2;
            } else {
                op = (int) OP0.getOpaque(this);
                arg = (long) ARG0.getOpaque(this);
                num = (s + 3) >>> 2;
            }
            VarHandle.loadLoadFence();
            if (lpSeq() == s) {
                break;
            }
            if (i > 16) {
                Thread.onSpinWait();
            }
        }
        final long last = consumed;
        final boolean detachedNow = (state & DETACHED) != 0 || runtime.isClosed();
        final boolean applies = num > last && !detachedNow;
        if (num > last) {
            // Apply, then publish the claim (release store: the effect before the number). Passes
            // are exclusive (drain status), so nobody else claims in between.
            if (!detachedNow) {
                apply(op, arg, num);
            }
            CONSUMED.setRelease(this, num);
            runtime.published.add(num - last);
            if (num - last > 1) {
                runtime.superseded.add(num - last - 1);
            }
            if (detachedNow) {
                runtime.dropped.increment(); // claimed, but the cell let go: never applied
            }
        }
        if (detachedNow) {
            cancelBackend();
        } else {
            settle(applies);
        }
    }

    /** Called once, by a drain, when the refcount is zero: the final cancel. */
    private void onDead() {
        cancelBackend();
        final long s = lvSeq();
        final long latest = s >>> 2;
        final long last = consumed;
        if (latest > last) {
            runtime.published.add(latest - last);
            runtime.dropped.add(latest - last);
            CONSUMED.setRelease(this, latest); // drain-exclusive, as in a pass
        }
        runtime.live.decrement();
    }

    // ------------------------------------------------------------------------------------------
    // backend (drain-exclusive)

    /** Applies a claimed command (number {@code num}). Drain-exclusive. */
    abstract void apply(int op, long arg, long num);

    /**
     * After a pass: make the backend match the applied state. Drain-exclusive.
     *
     * @param applied whether this pass applied a command
     */
    abstract void settle(boolean applied);

    /**
     * A pass on a block already finalized (the final cancel ran, maybe off the backend's owner):
     * let the backend drop what is left. Drain-exclusive. Nothing by default.
     */
    void afterDeath() {
    }

    /** Disarms the backend, idempotently. Drain-exclusive. */
    abstract void cancelBackend();

    /** @return true if the backend is armed / the run is queued (racy read) */
    abstract boolean isPendingOnBackend();
}
