package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A cell's control block (the kernel's {@code struct bpf_async_cb}): installed in its cell by CAS
 * at {@code init}, detached by getAndSet at {@code close}, never re-published.
 *
 * <h2>Implementation notes</h2>
 *
 * <b>Refcount ({@link #state}).</b> The low 30 bits count references; bit 30 ({@link #DETACHED})
 * says the cell let go of the block. The cell holds one reference from {@code init} until
 * {@code close}, which atomically sets {@code DETACHED} and drops it in one {@code getAndAdd}.
 * A drain pass and a callback invocation each take a reference with increment-if-not-zero for
 * their duration. Zero is terminal: {@link #tryRetain()} never moves the count from zero, so once
 * the count is zero nothing can arm the backend again. Whoever drops the last reference does not
 * touch the backend itself (that could take the backend's locks on a hot path): it schedules a
 * drain, and the drain, finding the count zero, cancels the backend one final time
 * ({@link #onDead()}). Every arm happens while the arming drain holds a reference, so the final
 * cancel is ordered after every arm: the kernel v6 start-versus-destroy window cannot open.
 * (One exception, safe for another reason: a work runner re-submits its extra run after releasing
 * its reference; it checks for a dead or detached block first, and a stale submission finds
 * nothing to run. See {@link WorkBlock}.)
 * Publishers do not take a reference: they only read the state and refuse with
 * {@link AsyncStatus#DEAD} when it is detached or zero. A command published just before the death
 * is simply never applied (the drain cannot retain a dead block).
 *
 * <p><b>Command latch ({@link #seq}, slots 0 and 1).</b> A seqcount latch with the single-writer
 * flag folded into the sequence: {@code seq} advances by 4 per command, and its low two bits are
 * the writer's phase. For command {@code k} (1-based):
 * <pre>
 *   seq = 4(k-1)   idle: both slots hold command k-1          readers read slot 0
 *   CAS -> 4k-3    writer owns the latch, writes slot 0        readers read slot 1 (= k-1)
 *   set  4k-2      slot 0 holds k, writer writes slot 1        readers read slot 0 (= k)
 *   set  4k        idle: both slots hold k                     readers read slot 0
 * </pre>
 * A writer that finds the low bits non-zero, or loses the CAS, spins a bounded number of
 * {@link Thread#onSpinWait()} and then answers {@link AsyncStatus#BUSY}. The CAS is a full fence,
 * so slot 0's opaque writes cannot move above it; the store of {@code 4k-2} is a release (slot 0
 * is complete before it) followed by a store-store fence (slot 1's writes cannot move above it);
 * the store of {@code 4k} is volatile, because the writer next reads {@link #drainStatus} and the
 * drain-status handshake is a Dekker pattern that needs store-load ordering. Slots are accessed
 * with opaque mode so a long is never torn. A reader reads {@code seq}, picks the stable slot,
 * copies it, issues a load-load fence and re-reads {@code seq}; if it changed it retries (a writer
 * made progress, so this is lock-free). The command number comes from the sequence itself, so a
 * reader that sampled {@code 4k-3} reads command {@code k-1} <i>with its number</i> {@code k-1}.
 *
 * <p><b>Claiming (no re-run, kernel v6 pitfall a).</b> {@link #consumed} is the number of the last
 * command applied. A drain pass applies a snapshot only if its number is greater, then advances
 * {@code consumed} to it (by CAS from the value it read; passes are exclusive, so the CAS cannot
 * fail and only asserts that). A stale slot (the previous command, already consumed) has a number
 * that is not greater and is ignored, so a consumed command is never applied twice. The number is
 * published after the effect so that whoever reads the new number also sees the effect (the sync
 * cancel's WAS_PENDING relies on it). Commands between the last consumed and the applied one were
 * superseded (last command wins) and are counted as such.
 *
 * <p><b>Drain status ({@link #drainStatus}),</b> after Caffeine's drain-status machine:
 * <pre>
 *   IDLE --publish/request--> QUEUED            (only this transition offers the block to the queue)
 *   QUEUED --dispatcher polls--> PROCESSING
 *   PROCESSING --publish/request--> PROCESSING_AGAIN
 *   PROCESSING --pass done, CAS--> IDLE
 *   PROCESSING_AGAIN --pass done--> PROCESSING (another pass) or QUEUED (re-offered, for fairness)
 *   IDLE --INLINE caller CAS--> PROCESSING      (the caller drains itself)
 * </pre>
 * A block is therefore in the queue at most once and drained by one thread at a time. A publisher
 * writes the latch (volatile) and then reads the status; a drainer writes {@code PROCESSING}
 * (volatile) and then reads the latch. By sequential consistency one of them sees the other: either
 * the pass reads the new command, or the publisher moves the status to {@code PROCESSING_AGAIN} and
 * forces another pass. No drain is lost.
 */
abstract class ControlBlock extends WheelNode {
    static final int OP_NONE = 0;
    /** Timer: arm at (drain's now + arg). Work: queue one run. */
    static final int OP_START = 1;
    /** Timer: arm at the absolute deadline arg. */
    static final int OP_START_AT = 2;
    static final int OP_CANCEL = 3;

    static final int DETACHED = 1 << 30;
    static final int COUNT_MASK = DETACHED - 1;

    static final int IDLE = 0;
    static final int QUEUED = 1;
    static final int PROCESSING = 2;
    static final int PROCESSING_AGAIN = 3;

    /** Bounded spin before a publisher answers BUSY. */
    static final int PUBLISH_SPINS = 64;
    /** Passes an INLINE caller or the dispatcher gives one block before re-queueing it. */
    static final int MAX_PASSES = 8;

    static final VarHandle STATE;
    static final VarHandle SEQ;
    static final VarHandle OP0;
    static final VarHandle OP1;
    static final VarHandle ARG0;
    static final VarHandle ARG1;
    static final VarHandle CONSUMED;
    static final VarHandle STATUS;
    static final VarHandle CALLBACK;
    static final VarHandle CALLBACKS;
    static final VarHandle WAITERS;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(ControlBlock.class, "state", int.class);
            SEQ = l.findVarHandle(ControlBlock.class, "seq", long.class);
            OP0 = l.findVarHandle(ControlBlock.class, "op0", int.class);
            OP1 = l.findVarHandle(ControlBlock.class, "op1", int.class);
            ARG0 = l.findVarHandle(ControlBlock.class, "arg0", long.class);
            ARG1 = l.findVarHandle(ControlBlock.class, "arg1", long.class);
            CONSUMED = l.findVarHandle(ControlBlock.class, "consumed", long.class);
            STATUS = l.findVarHandle(ControlBlock.class, "drainStatus", int.class);
            CALLBACK = l.findVarHandle(ControlBlock.class, "callback", Object.class);
            CALLBACKS = l.findVarHandle(ControlBlock.class, "callbacks", int.class);
            WAITERS = l.findVarHandle(ControlBlock.class, "waiters", Waiters.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final AsyncRuntime runtime;
    final Object owner;
    final AsyncCell cell;

    volatile Object callback;
    volatile int state = 1;
    volatile long seq;
    int op0;
    int op1;
    long arg0;
    long arg1;
    volatile long consumed;
    volatile int drainStatus;
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

    /** Drain-owned: onDead ran. */
    boolean finalized;

    ControlBlock(final AsyncRuntime runtime, final Object owner, final AsyncCell cell) {
        this.runtime = runtime;
        this.owner = owner;
        this.cell = cell;
    }

    // ------------------------------------------------------------------------------------------
    // refcount

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

    /**
     * The cell's close: mark detached and drop the cell's reference at once, then clear the
     * callback. DETACHED goes first: whoever sees the cleared callback then also sees DETACHED, so
     * a racing start answers DEAD (not NO_CALLBACK) and a racing setCallback clears its callback
     * again (see {@link #setCallback}).
     */
    final void detach() {
        STATE.getAndAdd(this, DETACHED - 1); // before clearing the callback: see publish
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
        long s = (long) SEQ.getOpaque(this);
        for (int spins = 0; ; spins++) {
            if ((s & 3) == 0 && SEQ.compareAndSet(this, s, s + 1)) {
                break;
            }
            if (spins >= PUBLISH_SPINS) {
                countBusy();
                return AsyncStatus.BUSY;
            }
            Thread.onSpinWait();
            s = (long) SEQ.getOpaque(this);
        }
        // The callback is checked while we hold the latch (hardening #4): a sync cancel clears the
        // callback before it takes the latch, so either our CAS came first (our start is published
        // first and its cancel supersedes it) or we see the cleared callback here and give the
        // latch back untouched. Checked before the CAS, a start could pass the check, stall, and
        // publish after the cancel returned: armed with no callback.
        if (needsCallback && callback == null) {
            // Give the latch back: nothing was written, so a reader that saw s (before or after)
            // reads the same slot contents, and one that saw s + 1 re-validates and retries.
            SEQ.setRelease(this, s);
            // detach marks the block before clearing its callback, so a start racing with close
            // that finds no callback sees the mark here and answers DEAD, not NO_CALLBACK
            return isDeadOrDetached() ? AsyncStatus.DEAD : AsyncStatus.NO_CALLBACK;
        }
        write(s, op, arg);
        afterPublish();
        return AsyncStatus.OK;
    }

    private void countBusy() {
        try {
            runtime.busy.increment();
        } catch (final Throwable oom) {
            // a counter that cannot grow its cells must not make the hot path throw
        }
    }

    /** Writes both slots of the latch; the caller owns it at sequence {@code s + 1}. */
    private void write(final long s, final int op, final long arg) {
        VarHandle.storeStoreFence(); // the CAS already orders; this states it without relying on it
        OP0.setOpaque(this, op);
        ARG0.setOpaque(this, arg);
        SEQ.setRelease(this, s + 2);
        VarHandle.storeStoreFence();
        OP1.setOpaque(this, op);
        ARG1.setOpaque(this, arg);
        SEQ.setVolatile(this, s + 4);
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
            final long s = (long) SEQ.getOpaque(this);
            if ((s & 3) == 0 && SEQ.compareAndSet(this, s, s + 1)) {
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
                afterPublish();
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

    /**
     * Reads the newest complete command in the latch (the same stable read as a drain's) and tells
     * whether it is a cancel newer than command {@code num}: then a run or an expiry serving
     * {@code num} must not start, whether or not a drain has applied the cancel (contract 3.1).
     * A cancel still being written has not returned {@code OK} to its caller yet; it is not seen.
     */
    final boolean cancelPublishedAfter(final long num) {
        for (int i = 0; ; i++) {
            final long s = (long) SEQ.getVolatile(this);
            final int op;
            final long n;
            if ((s & 3) == 1) {
                op = (int) OP1.getOpaque(this);
                n = s >>> 2;
            } else {
                op = (int) OP0.getOpaque(this);
                n = (s + 3) >>> 2;
            }
            VarHandle.loadLoadFence();
            if ((long) SEQ.getOpaque(this) == s) {
                return op == OP_CANCEL && n > num;
            }
            if (i > 16) {
                Thread.onSpinWait();
            }
        }
    }

    /** @return true if a published command has not been applied yet (or is being written) */
    final boolean commandPending() {
        final long s = (long) SEQ.getVolatile(this);
        return (s & 3) != 0 || (s >>> 2) != consumed;
    }

    // ------------------------------------------------------------------------------------------
    // drain status

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
                runtime.enqueue(this);
            }
            return;
        }
        scheduleDrain();
    }

    final void requestDrain() {
        afterPublish();
    }

    /** Makes sure a drain pass will run after this call. Lock-free, allocation-free. */
    final void scheduleDrain() {
        for (;;) {
            final int st = drainStatus;
            if (st == IDLE) {
                if (STATUS.compareAndSet(this, IDLE, QUEUED)) {
                    runtime.enqueue(this);
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
                runtime.enqueue(this);
                return;
            }
            if (STATUS.compareAndSet(this, PROCESSING, IDLE)) {
                return;
            }
            if (pass >= MAX_PASSES) {
                STATUS.setVolatile(this, QUEUED);
                runtime.enqueue(this);
                return;
            }
            STATUS.setVolatile(this, PROCESSING);
        }
    }

    /**
     * One drain pass: claim the newest command, apply it, settle the backend. Passes on one block
     * are exclusive (the drain status, or the wheel owner's expiry on a queued block).
     */
    final void drainPass() {
        runtime.drains.increment();
        if (!tryRetain()) {
            if (!finalized) {
                finalized = true;
                onDead();
            } else {
                afterDeath(); // a pass handed over after the death: the wheel's owner unlinks it
            }
            return;
        }
        try {
            // The first read is volatile (store-load order after the PROCESSING store, see the
            // drain-status notes); every retry re-reads with acquire so the slot reads below are
            // ordered after the sequence they are validated against.
            long s = (long) SEQ.getVolatile(this);
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
                if ((long) SEQ.getOpaque(this) == s) {
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
                // else can claim in between; the CAS only asserts that. Publishing the number
                // after the effect lets a sync canceller that sees the number also see the effect.
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
        } finally {
            release();
        }
    }

    /** Called once, by a drain, when the refcount is zero: the final cancel. */
    private void onDead() {
        cancelBackend();
        final long s = (long) SEQ.getVolatile(this);
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
     * @return true if a pass on this thread must be finished by the thread that owns the backend
     *         (then the block is queued for it instead of going back to IDLE)
     */
    boolean handOff() {
        return false;
    }

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

    /** A callback must not start once the cell let go or the runtime closed. */
    final boolean mayInvoke() {
        return (state & DETACHED) == 0 && !runtime.isClosed();
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

    /**
     * Replaces the callback. A callback set on a block found detached is cleared again. With
     * {@link #detach()} marking DETACHED before it clears the callback, no callback survives a
     * racing detach: either the store comes before detach's clear, or the check after it sees
     * DETACHED. (No invocation starts on a detached block anyway; see {@link #mayInvoke()}.)
     */
    final void setCallback(final Object cb) {
        CALLBACK.setVolatile(this, cb);
        if ((state & DETACHED) != 0) {
            CALLBACK.compareAndSet(this, cb, null);
        }
    }
}
