package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The common base of {@link AsyncTimer} and {@link AsyncWork}: a cell embedded in its owner,
 * holding the one reference to its control block (the kernel's {@code struct bpf_async_kern}).
 * Null means not initialized. {@code init} installs a fresh block by CAS; {@link #close()}
 * detaches it by getAndSet, after which the cell can be initialized again at once and the old
 * block never affects the new one.
 * <p>
 * Costs one small object; no thread, no executor, no allocation until {@code init}.
 */
public abstract class AsyncCell {
    static final VarHandle BLOCK;

    static {
        try {
            BLOCK = MethodHandles.lookup().findVarHandle(AsyncCell.class, "block", ControlBlock.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile ControlBlock block;

    AsyncCell() {
    }

    /**
     * Racy by nature: another thread may close or initialize the cell right after.
     *
     * @return true if the cell has a control block
     */
    public final boolean isInitialized() {
        return block != null;
    }

    /**
     * Cancel-and-free (kernel map-element delete). Hot-path safe: never waits and never allocates;
     * in {@link DispatchMode#DEFERRED} and {@link DispatchMode#HOST_DRIVEN} it never locks either
     * (the backend is touched later by the drain). In {@link DispatchMode#INLINE} the caller applies
     * the cancel itself when no other thread is draining the cell, and so may take the timer
     * backend's lock (a {@code ScheduledExecutorService}'s) or call the work executor. Detaches the control block (exactly one concurrent {@code close} wins), clears its
     * callback at once so an expiry racing with it runs nothing, cancels asynchronously, and
     * cancels again when the block's last reference is dropped. A callback already running may
     * finish; none starts after this returns.
     *
     * @return {@link AsyncStatus#OK}; {@link AsyncStatus#NOT_INITIALIZED} if there was nothing;
     *         {@link AsyncStatus#CLOSED} if the runtime is closed (the cell is detached anyway)
     */
    public final int close() {
        if (block == null) {
            return AsyncStatus.NOT_INITIALIZED;
        }
        final ControlBlock b = (ControlBlock) BLOCK.getAndSet(this, null);
        if (b == null) {
            return AsyncStatus.NOT_INITIALIZED;
        }
        b.detach();
        return b.runtime.isClosed() ? AsyncStatus.CLOSED : AsyncStatus.OK;
    }

    /** Installs a fresh block: publish, then re-check the runtime (kernel's publish-then-recheck). */
    final int install(final ControlBlock b) {
        if (block != null || !BLOCK.compareAndSet(this, null, b)) {
            return AsyncStatus.BUSY;
        }
        b.runtime.live.increment();
        if (b.runtime.isClosed()) { // volatile read after the CAS: a racing runtime close is seen
            if (BLOCK.compareAndSet(this, b, null)) {
                b.detach();
            }
            return AsyncStatus.CLOSED;
        }
        return AsyncStatus.OK;
    }

    /** Hot path shared by every start and async cancel. */
    final int publish(final int op, final long arg, final boolean needsCallback) {
        final ControlBlock b = block;
        if (b == null) {
            return AsyncStatus.NOT_INITIALIZED;
        }
        if (b.runtime.isClosed()) {
            return AsyncStatus.CLOSED;
        }
        return b.publish(op, arg, needsCallback);
    }

    final int setCallback0(final Object cb) {
        if (cb == null) {
            return AsyncStatus.INVALID_ARGUMENT;
        }
        final ControlBlock b = block;
        if (b == null) {
            return AsyncStatus.NOT_INITIALIZED;
        }
        if (b.runtime.isClosed()) {
            return AsyncStatus.CLOSED;
        }
        b.setCallback(cb);
        return AsyncStatus.OK;
    }

    final int cancel0() {
        final ControlBlock b = block;
        if (b == null) {
            return AsyncStatus.NOT_INITIALIZED;
        }
        if (b.runtime.isClosed()) {
            return AsyncStatus.CLOSED;
        }
        return b.cancelSync();
    }
}
