package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A work item's control block on an {@link java.util.concurrent.Executor}.
 *
 * <h2>Implementation notes</h2>
 * {@link #run} is this block's single state, moved by CAS by the drain and by the runner:
 * <pre>
 *   IDLE    --start (drain)-----> PENDING        executor.execute(this)
 *   PENDING --start-------------> PENDING        coalesced (kernel schedule_work)
 *   PENDING --cancel (drain)----> IDLE           the queued task finds IDLE and does nothing
 *   PENDING --runner CAS--------> RUNNING        only one runner wins: never two runs at once
 *   RUNNING --start-------------> RUNNING_AGAIN  exactly one more run after this one
 *   RUNNING_AGAIN --cancel------> RUNNING        the extra run is dropped
 *   RUNNING --runner done-------> IDLE
 *   RUNNING_AGAIN --runner done-> PENDING        and re-submitted
 * </pre>
 * A stale executor task (its run was cancelled, then a new start submitted another task) is
 * harmless: whichever task wins the PENDING to RUNNING CAS performs the one run; the other
 * returns. The runner also exits PENDING to IDLE (instead of re-submitting) when the block is dead
 * or the runtime closed.
 * <p>
 * Sync cancel exactness: a run executes the callback only if the start it serves
 * ({@link #startNum}, written by the drain before the state moves) is newer than the latest sync
 * cancel ({@code syncCancel}); the runner counts itself in {@code running} before that check, so a
 * sync cancel either waits for the run or the run sees the cancel. The re-submission after
 * RUNNING_AGAIN happens after the runner released its reference; it is still safe because a dead
 * or detached block is checked first and a stale submission finds the state IDLE.
 */
final class WorkBlock extends ControlBlock implements Runnable {
    static final int W_IDLE = 0;
    static final int W_PENDING = 1;
    static final int W_RUNNING = 2;
    static final int W_RUNNING_AGAIN = 3;

    private static final VarHandle RUN;
    private static final VarHandle START_NUM;

    static {
        try {
            RUN = MethodHandles.lookup().findVarHandle(WorkBlock.class, "run", int.class);
            START_NUM = MethodHandles.lookup().findVarHandle(WorkBlock.class, "startNum", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile int run;
    /** Number of the latest start command applied (drain-written). */
    volatile long startNum;
    /**
     * The number of the latest command published by a synchronous cancel (0 = none). Written only
     * while the canceller holds the latch ({@link #noteSyncCancel}), so cancellers store their
     * numbers in command order and the value never goes back (hardening #2).
     */
    volatile long syncCancel;
    /** Drain-owned: apply moved IDLE to PENDING; settle submits the run. */
    private boolean submitPending;

    WorkBlock(final AsyncRuntime runtime, final Object owner, final AsyncCell cell) {
        super(runtime, owner, cell);
    }

    @Override
    void apply(final int op, final long arg, final long num) {
        if (op == OP_START) {
            START_NUM.setVolatile(this, num); // before the run state moves: the runner reads it after
            for (;;) {
                final int r = run;
                if (r == W_IDLE) {
                    if (RUN.compareAndSet(this, W_IDLE, W_PENDING)) {
                        // submitted by settle(), after the drain publishes this command as
                        // consumed: the run may start (and end) at once, and a sync cancel that
                        // sees the run must also see the start as applied
                        submitPending = true;
                        return;
                    }
                } else if (r == W_RUNNING) {
                    if (RUN.compareAndSet(this, W_RUNNING, W_RUNNING_AGAIN)) {
                        return;
                    }
                } else {
                    return; // already pending, or a run already queued behind the running one
                }
            }
        } else if (op == OP_CANCEL) {
            cancelBackend();
        }
    }

    private void submit() {
        try {
            runtime.workExecutor.execute(this);
        } catch (final Throwable e) { // a rejection, or anything an executor may throw (an OOM allocating its task)
            RUN.compareAndSet(this, W_PENDING, W_IDLE); // not wedged: a later start tries again
            runtime.reportError(e);
        }
    }

    @Override
    void noteSyncCancel(final long num) {
        syncCancel = num; // volatile: before the canceller reads running
    }

    @Override
    long wheelDeadline() {
        return Long.MAX_VALUE; // never on a wheel
    }

    @Override
    void settle(final boolean applied) {
        if (submitPending) {
            submitPending = false;
            submit();
        }
    }

    @Override
    void cancelBackend() {
        for (;;) {
            final int r = run;
            if (r == W_PENDING) {
                if (RUN.compareAndSet(this, W_PENDING, W_IDLE)) {
                    return;
                }
            } else if (r == W_RUNNING_AGAIN) {
                if (RUN.compareAndSet(this, W_RUNNING_AGAIN, W_RUNNING)) {
                    return;
                }
            } else {
                return;
            }
        }
    }

    @Override
    boolean isPendingOnBackend() {
        final int r = run;
        return r == W_PENDING || r == W_RUNNING_AGAIN;
    }

    /** The executor task. */
    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void run() {
        if (run != W_PENDING) {
            return; // cancelled, or another task of this block is the runner
        }
        final boolean retained = tryRetain();
        boolean won = false;
        // Count ourselves as running BEFORE the gate: a sync cancel clears the callback, publishes
        // its cancel, records its number in syncCancel and then waits for running == 0. Either it
        // sees us (and waits for this run), or we see its number and skip the run it cancelled.
        final Frames frames = enterCallback();
        try {
            won = RUN.compareAndSet(this, W_PENDING, W_RUNNING);
            // The gate. startNum > syncCancel: no sync cancel came after the start we serve.
            // !cancelPublishedAfter(startNum): no async cancel did either, applied or not
            // (hardening #1, contract 3.1: after cancelAsync() answers OK, a run that had not
            // started never runs, even while the drain has not applied the cancel yet).
            if (won && retained && startNum > syncCancel && mayInvoke() && !cancelPublishedAfter(startNum)) {
                final Object cb = callback;
                if (cb != null) {
                    runtime.workRuns.increment();
                    final Object probe = Probes.begin(this); // watchdog, JFR: null when both are off
                    try {
                        ((WorkCallback) cb).run(owner, (AsyncWork) cell);
                    } finally {
                        if (probe != null) {
                            Probes.end(this, probe);
                        }
                    }
                }
            }
        } catch (final Throwable t) { // the callback's, or an OutOfMemoryError from a counter
            runtime.callbackError(t);
        } finally {
            exitCallback(frames);
            if (retained) {
                release();
            }
            if (won) {
                finishRun(); // in the finally: a throw above must not leave the cell RUNNING
            }
        }
    }

    /** RUNNING back to IDLE, or RUNNING_AGAIN to PENDING and re-submitted. Never throws. */
    private void finishRun() {
        for (;;) {
            if (RUN.compareAndSet(this, W_RUNNING, W_IDLE)) {
                return;
            }
            if (RUN.compareAndSet(this, W_RUNNING_AGAIN, W_PENDING)) {
                // a start arrived during the run: queue exactly one more (CAS, not a store, so a
                // cancel that already dropped the extra run is never overwritten)
                if (isDeadOrDetached() || runtime.isClosed()) {
                    RUN.compareAndSet(this, W_PENDING, W_IDLE);
                    return;
                }
                submit(); // never throws: a failure goes back to IDLE and is reported
                return;
            }
        }
    }
}
