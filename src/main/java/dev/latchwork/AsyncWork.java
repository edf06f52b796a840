package dev.latchwork;

/**
 * A reusable work-item cell (the kernel's {@code bpf_wq}): deferred work that may block, run on
 * the runtime's work executor.
 * <p>
 * {@link #start()} and {@link #cancelAsync()} are hot-path operations with the same contract as
 * {@link AsyncTimer#start(long)}: lock-free, allocation-free, never park, never throw (in
 * {@link DispatchMode#DEFERRED} and {@link DispatchMode#HOST_DRIVEN}). Starts while a run is
 * pending coalesce into that run; a start while the callback runs queues exactly one more run
 * after it; the callback never runs on two threads at once.
 *
 * @param <T> the owner type
 */
public final class AsyncWork<T> extends AsyncCell {

    /** An uninitialized cell. */
    public AsyncWork() {
    }

    /**
     * Installs a fresh control block, as {@link AsyncTimer#init}.
     *
     * @param runtime the runtime whose work executor runs the callback
     * @param owner   the object passed to the callback
     * @return {@link AsyncStatus#OK}, {@link AsyncStatus#BUSY}, {@link AsyncStatus#CLOSED},
     *         {@link AsyncStatus#INVALID_ARGUMENT} (as {@link AsyncTimer#init})
     */
    public int init(final AsyncRuntime runtime, final T owner) {
        if (runtime == null || owner == null) {
            return AsyncStatus.INVALID_ARGUMENT;
        }
        if (runtime.isClosed()) {
            return AsyncStatus.CLOSED;
        }
        if (block != null) {
            return AsyncStatus.BUSY;
        }
        return install(new WorkBlock(runtime, owner, this));
    }

    /**
     * Atomically replaces the callback. A run already in progress finishes with the old one.
     *
     * @param callback the new callback
     * @return as {@link AsyncTimer#setCallback}
     */
    public int setCallback(final WorkCallback<T> callback) {
        return setCallback0(callback);
    }

    /**
     * Queues one run of the callback. Hot path.
     *
     * @return {@link AsyncStatus#OK}, {@link AsyncStatus#BUSY}, {@link AsyncStatus#NOT_INITIALIZED},
     *         {@link AsyncStatus#NO_CALLBACK}, {@link AsyncStatus#DEAD}, {@link AsyncStatus#CLOSED}
     */
    public int start() {
        return publish(ControlBlock.OP_START, 0, true);
    }

    /**
     * Drops a pending (not yet running) run; never waits. Hot path. Goes beyond the kernel, which
     * has no BPF-visible wq cancel.
     *
     * @return as {@link AsyncTimer#cancelAsync()}
     */
    public int cancelAsync() {
        return publish(ControlBlock.OP_CANCEL, 0, false);
    }

    /**
     * Clears the callback, drops a pending run and waits for a running one. May block.
     *
     * @return {@link AsyncStatus#WAS_PENDING}, {@link AsyncStatus#OK},
     *         {@link AsyncStatus#DEADLOCK} from its own callback, {@link AsyncStatus#NOT_INITIALIZED},
     *         {@link AsyncStatus#CLOSED}
     */
    public int cancel() {
        return cancel0();
    }

    /**
     * Whether a run is queued. Racy: a hint, not a synchronization point.
     *
     * @return true if a run is queued
     */
    public boolean isPending() {
        final ControlBlock b = block;
        return b != null && b.isPendingOnBackend();
    }
}
