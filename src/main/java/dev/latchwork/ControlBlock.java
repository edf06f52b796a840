package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A cell's control block (the kernel's {@code struct bpf_async_cb}): installed in its cell by CAS
 * at {@code init}, detached by getAndSet at {@code close}, never re-published.
 *
 * <h2>Implementation notes</h2>
 * The block is a chain of small classes, one per field group and job, laid out by writer (issue
 * 14; the order and the reasons are in {@link BlockLatch}): {@link BlockLatch} (the command latch,
 * publisher-written), {@link BlockRefcount} (zero is terminal), {@link BlockDrainStatus} (the
 * drain-status machine and the drain loop), {@link BlockCallback} (the user's callback),
 * {@link BlockDrain} (the pass: read, claim, apply, settle; the final cancel), and this class:
 * the hot-path publish, the cell's close, and the callback bookkeeping (callbacks running,
 * cancellers waiting) with the synchronous cancel.
 * <p>
 * <b>Publishing.</b> A start or an async cancel refuses a dead or detached block, takes the latch
 * (bounded spin, then {@code BUSY}), checks the callback while it holds it (hardening #4), writes
 * both slots and then makes sure a drain runs ({@link #afterPublish()}). The latch's last store is
 * a release; the drain-status read-modify-write that follows gives the no-lost-drain handshake its
 * store-load order ({@link BlockDrainStatus}). So a publish on an idle (cold) block costs the latch
 * CAS, the status CAS and the queue's {@code getAndSet}: three fenced operations, where it was four.
 * <p>
 * <b>Every arm happens while a drain or a callback holds a reference</b>, so the final cancel of a
 * dead block is ordered after every arm: the kernel v6 start-versus-destroy window cannot open.
 * (One exception, safe for another reason: a work runner re-submits its extra run after releasing
 * its reference; it checks for a dead or detached block first, and a stale submission finds
 * nothing to run. See {@link WorkBlock}.)
 */
abstract class ControlBlock extends BlockDrain {
    static final VarHandle CALLBACKS;
    static final VarHandle WAITERS;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            CALLBACKS = l.findVarHandle(ControlBlock.class, "callbacks", int.class);
            WAITERS = l.findVarHandle(ControlBlock.class, "waiters", Waiters.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Two counters in one word, to keep the block within budget with the wheel's links: the low
     * 16 bits count this block's callbacks running now ({@link #running()}); the high bits count
     * sync cancels from other callbacks waiting on this block ({@link #cancelling()}, the kernel's
     * {@code cancelling}). Both move by {@code getAndAdd} (of 1 and of {@link #CANCELLER}), so
     * every Dekker argument made about either counter holds as it did with two fields.
     */
    volatile int callbacks;
    /** Sync cancellers parked until {@link #running} drops to zero; created by the first one. */
    volatile Waiters waiters;
    /** One sync canceller in {@link #callbacks}. */
    static final int CANCELLER = 1 << 16;
    private static final int RUNNING_MASK = CANCELLER - 1;

    ControlBlock(final AsyncRuntime runtime, final Object owner, final AsyncCell cell) {
        super(runtime, owner, cell);
    }

    /**
     * The cell's close: mark detached and drop the cell's reference at once, then clear the
     * callback. DETACHED goes first: whoever sees the cleared callback then also sees DETACHED, so
     * a racing start answers DEAD (not NO_CALLBACK) and a racing setCallback clears its callback
     * again (see {@link #setCallback}).
     */
    final void detach() {
        markDetached(); // before clearing the callback: see publish
        CALLBACK.setVolatile(this, null);
        requestDrain(); // cancels the backend now; the last release cancels again
    }

    // ------------------------------------------------------------------------------------------
    // publishing (hot path)

    /**
     * Publishes a command. Lock-free, allocation-free, no exception; bounded spin before BUSY.
     *
     * @param needsCallback true for starts (answer NO_CALLBACK when there is none)
     */
    final int publish(final int op, final long arg, final boolean needsCallback) {
        if (isDeadOrDetached()) {
            return AsyncStatus.DEAD;
        }
        final long s = lockLatch();
        if (s < 0) {
            countBusy();
            return AsyncStatus.BUSY;
        }
        // The callback is checked while we hold the latch (hardening #4): a sync cancel clears the
        // callback before it takes the latch, so either our CAS came first (our start is published
        // first and its cancel supersedes it) or we see the cleared callback here and give the
        // latch back untouched. Checked before the CAS, a start could pass the check, stall, and
        // publish after the cancel returned: armed with no callback.
        if (needsCallback && callback == null) {
            unlockUnwritten(s); // nothing was written
            // detach marks the block before clearing its callback, so a start racing with close
            // that finds no callback sees the mark here and answers DEAD, not NO_CALLBACK
            return isDeadOrDetached() ? AsyncStatus.DEAD : AsyncStatus.NO_CALLBACK;
        }
        write(s, op, arg);
        afterPublish(); // must come right after write: its status RMW orders the latch's release store
        return AsyncStatus.OK;
    }

    private void countBusy() {
        try {
            runtime.busy.increment();
        } catch (final Throwable oom) {
            // a counter that cannot grow its cells must not make the hot path throw
        }
    }

    /**
     * Publishes a cancel for a synchronous canceller: never answers BUSY (it may wait).
     *
     * @return true if the cell was armed or had a start published and not yet applied
     */
    final boolean publishCancelBlocking() {
        for (int i = 0; ; i++) {
            if (isDeadOrDetached()) {
                return false;
            }
            final long s = lpSeq();
            if (casSeq(s)) {
                // We hold the latch: command s >>> 2 is the latest, and no expiry can fire meanwhile
                // (commandPending() is true). Its op decides: a cancel (or nothing) leaves nothing
                // armed, whatever the backend shows until the drain catches up; a start not yet
                // applied (claimed or not: consumed advances only after the apply) is armed; an
                // applied one is armed until it fires (or, for work, until its run starts).
                final int prevOp = (int) OP0.getOpaque(this);
                final boolean pending = (prevOp == OP_START || prevOp == OP_START_AT)
                    && ((s >>> 2) > consumed || isPendingOnBackend());
                // Stored while we hold the latch (hardening #2): cancellers hold it one at a time,
                // so the numbers are stored in command order and syncCancel never goes back. Before
                // the command itself: a run gated on it sees a number at least as new as any start
                // it serves that this cancel supersedes. Volatile: before the canceller reads running.
                noteSyncCancel((s >>> 2) + 1);
                write(s, OP_CANCEL, 0);
                afterPublish(); // right after write, as in publish
                return pending;
            }
            backoff(i);
        }
    }

    /**
     * Records the number of a sync cancel's command, while the canceller holds the latch (so the
     * numbers are recorded in command order). Only work blocks need it (their run gate); nothing
     * by default.
     */
    void noteSyncCancel(final long num) {
    }

    /** @return this block's callbacks running now */
    final int running() {
        return callbacks & RUNNING_MASK;
    }

    /** @return sync cancels from other callbacks waiting on this block */
    final int cancelling() {
        return callbacks >>> 16;
    }

    /** The wait of a sync canceller for the latch (held for a few stores by a publisher). */
    static void backoff(final int i) {
        if (i < 128) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    // ------------------------------------------------------------------------------------------
    // callbacks

    /**
     * Marks a callback of this block as running on this thread. Never throws: if the thread's
     * frames cannot be created (an OutOfMemoryError), the callback still counts as running and
     * only the nested-callback checks lose sight of it.
     *
     * @return the frames pushed on, to hand to {@link #exitCallback}; null if none was pushed
     */
    final Frames enterCallback() {
        CALLBACKS.getAndAdd(this, 1);
        runtime.activeCallbacks.incrementAndGet();
        try {
            final Frames f = Frames.current();
            return f.push(this) ? f : null;
        } catch (final Throwable oom) {
            return null;
        }
    }

    /** Ends what {@link #enterCallback} began; wakes sync cancellers and a runtime close waiting. */
    final void exitCallback(final Frames f) {
        if (f != null) {
            f.pop();
        }
        runtime.activeCallbacks.decrementAndGet();
        if ((((int) CALLBACKS.getAndAdd(this, -1)) & RUNNING_MASK) == 1) {
            final Waiters w = waiters;
            if (w != null) {
                w.wakeAll();
            }
        }
        runtime.wakeClosers();
    }

    /**
     * Synchronous cancel (kernel {@code bpf_timer_cancel}): clear the callback, publish a cancel,
     * wait for running callbacks. DEADLOCK from its own callback and for mutual cancels.
     */
    final int cancelSync() {
        final Frames frames = Frames.currentOrNull();
        // Our own callback anywhere on this thread's stack (not only the innermost one: callbacks
        // nest through inline drains and direct executors) would never return while we wait.
        if (frames != null && frames.contains(this)) {
            return AsyncStatus.DEADLOCK;
        }
        final boolean inCallback = frames != null && frames.inCallback();
        if (inCallback) {
            // The kernel's cancelling rule, over every callback this thread is inside: announce
            // that we wait on this block, then back off if another thread waits on one of ours.
            CALLBACKS.getAndAdd(this, CANCELLER);
            if (frames.anyCallbackBeingCancelled()) {
                CALLBACKS.getAndAdd(this, -CANCELLER);
                return AsyncStatus.DEADLOCK;
            }
        }
        try {
            CALLBACK.setVolatile(this, null);
            final boolean pending = publishCancelBlocking();
            if (running() != 0) {
                // The runtime's close waits for callbacks, possibly for ours: a callback that waits
                // here for one that is closing the runtime would never return (cycle), so a close
                // ends the wait (it wakes every waiter) and we answer CLOSED.
                final Waiters w = waitersOf();
                w.await(() -> running() == 0 || runtime.isClosed(), Long.MAX_VALUE);
                if (running() != 0) {
                    return AsyncStatus.CLOSED;
                }
            }
            return pending ? AsyncStatus.WAS_PENDING : AsyncStatus.OK;
        } finally {
            if (inCallback) {
                CALLBACKS.getAndAdd(this, -CANCELLER);
            }
        }
    }

    /** @return this block's waiter stack, created on first use (sync cancel only) */
    private Waiters waitersOf() {
        final Waiters w = waiters;
        if (w != null) {
            return w;
        }
        final Waiters fresh = new Waiters();
        return WAITERS.compareAndSet(this, null, fresh) ? fresh : waiters;
    }
}
