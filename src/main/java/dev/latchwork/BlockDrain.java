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
 * <b>Memory ordering.</b> The pass's first read of {@code seq} is volatile (it closes the
 * drain-status handshake, DESIGN 5.2); every retry re-reads with acquire (design-review defect
 * D1); slot reads are opaque, then a {@code loadLoadFence} and the validating re-read.
 * {@code consumed} advances by CAS after {@code apply} returned (passes are exclusive, so the CAS
 * cannot fail and only asserts that): whoever reads the new number also sees the effect.
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
     * One drain pass: claim the newest command, apply it, settle the backend. Passes on one block
     * are exclusive (the drain status, or the wheel owner's expiry on a queued block).
     */
    @Override
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

    /** One pass on a block whose count is zero: the final cancel (once), or what is left after it. */
    private void passDead() {
        runtime.drains.increment();
        if (!finalized) {
            finalized = true;
            onDead();
        } else {
            afterDeath(); // a pass handed over after the death: the wheel's owner unlinks it
        }
    }

    /**
     * The pass proper, the caller holding a reference.
     */
    private void passRetained() {
        runtime.drains.increment();
        long s = lvSeq(); // R1: volatile (store-load order after the PROCESSING store, DESIGN 5.2)
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
            // Apply, then publish the claim. Passes are exclusive (drain status), so nobody
            // else can claim in between; the CAS only asserts that. Publishing the number after
            // the effect lets a sync canceller that sees the number also see the effect.
            if (!detachedNow) {
                apply(op, arg, num);
            }
            if (CONSUMED.compareAndSet(this, last, num)) {
                runtime.published.add(num - last);
                if (num - last > 1) {
                    runtime.superseded.add(num - last - 1);
                }
                if (detachedNow) {
                    runtime.dropped.increment(); // claimed, but the cell let go: never applied
                }
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
            CONSUMED.setVolatile(this, latest);
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
