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
 * returns.
 */
final class WorkBlock extends ControlBlock implements Runnable {
    static final int W_IDLE = 0;
    static final int W_PENDING = 1;
    static final int W_RUNNING = 2;
    static final int W_RUNNING_AGAIN = 3;

    private static final VarHandle RUN;

    static {
        try {
            RUN = MethodHandles.lookup().findVarHandle(WorkBlock.class, "run", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile int run;

    WorkBlock(final AsyncRuntime runtime, final Object owner, final AsyncCell cell) {
        super(runtime, owner, cell);
    }

    @Override
    void apply(final int op, final long arg) {
        if (op == OP_START) {
            for (;;) {
                final int r = run;
                if (r == W_IDLE) {
                    if (RUN.compareAndSet(this, W_IDLE, W_PENDING)) {
                        submit();
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
    void settle() {
        // nothing: submissions happen in apply
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
        if (!RUN.compareAndSet(this, W_PENDING, W_RUNNING)) {
            return; // cancelled, or another task of this block is the runner
        }
        boolean retained = tryRetain();
        final ControlBlock prev = enterCallback();
        try {
            final Object cb = callback;
            if (retained && cb != null && mayInvoke()) {
                runtime.workRuns.increment();
                try {
                    ((WorkCallback) cb).run(owner, (AsyncWork) cell);
                } catch (final Throwable t) {
                    runtime.callbackError(t);
                }
            }
        } finally {
            exitCallback(prev);
            if (retained) {
                release();
            }
        }
        if (!RUN.compareAndSet(this, W_RUNNING, W_IDLE)) {
            // RUNNING_AGAIN: a start arrived during the run; queue exactly one more
            RUN.setVolatile(this, W_PENDING);
            if (isDeadOrDetached() || runtime.isClosed()) {
                RUN.compareAndSet(this, W_PENDING, W_IDLE);
                return;
            }
            submit();
        }
    }
}
