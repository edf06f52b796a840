package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The user's side of a control block: the callback and what it is called with. Read-mostly (a
 * start reads the callback while it holds the latch; {@code setCallback}, {@code cancel()} and
 * {@code close} write it), so it follows the publisher's fields and precedes the drain's (see
 * {@link BlockLatch} for the chain).
 *
 * <h2>Implementation notes</h2>
 * {@link #callback} is volatile and swapped atomically. A callback set on a block found detached is
 * cleared again: {@code close} marks the block {@code DETACHED} before it clears the callback, so
 * either the store comes before that clear, or the check after it sees {@code DETACHED}. No
 * invocation starts on a detached block anyway ({@link #mayInvoke()}).
 */
abstract class BlockCallback extends BlockDrainStatus {
    static final VarHandle CALLBACK;

    static {
        try {
            CALLBACK = MethodHandles.lookup().findVarHandle(BlockCallback.class, "callback", Object.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    volatile Object callback;
    final Object owner;
    final AsyncCell cell;

    BlockCallback(final AsyncRuntime runtime, final Object owner, final AsyncCell cell) {
        super(runtime);
        this.owner = owner;
        this.cell = cell;
    }

    /** A callback must not start once the cell let go or the runtime closed. */
    final boolean mayInvoke() {
        return (state & DETACHED) == 0 && !runtime.isClosed();
    }

    /**
     * Replaces the callback. A callback set on a block found detached is cleared again (class
     * notes).
     */
    final void setCallback(final Object cb) {
        CALLBACK.setVolatile(this, cb);
        if ((state & DETACHED) != 0) {
            CALLBACK.compareAndSet(this, cb, null);
        }
    }
}
