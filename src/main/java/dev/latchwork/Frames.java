package dev.latchwork;

import java.util.Arrays;

/**
 * What the current thread is inside of, innermost last: the callbacks it is running (their
 * {@link ControlBlock}s) and the drains it is running (their {@link AsyncRuntime}s). The JVM
 * counterpart of the kernel's per-CPU {@code hrtimer_running}, extended to a stack because on the
 * JVM callbacks nest on one thread: an INLINE drain inside a timer callback, a direct work
 * executor, a {@code ForkJoinPool} worker that helps while it joins.
 * <p>
 * <b>Not thread safe</b>: each thread has its own, reached through {@link #current()}. Allocation
 * free after a thread's first callback (the array only grows).
 * <p>
 * Who reads it: a synchronous cancel answers {@code DEADLOCK} when its target's callback is
 * anywhere on its own stack (contract 3.9), and looks at every callback on the stack for the
 * kernel's {@code cancelling} rule; a runtime close does not wait for the callbacks and drains of
 * its own runtime that are on its own stack.
 */
final class Frames {
    private static final ThreadLocal<Frames> CURRENT = new ThreadLocal<>();

    private Object[] stack = new Object[8];
    private int depth;
    /** This thread's stuck-callback slot, made on its first callback watched by a {@link Watchdog}. */
    Watchdog.Slot slot;

    private Frames() {
    }

    /** @return this thread's frames, created on first use (may throw OutOfMemoryError then) */
    static Frames current() {
        Frames f = CURRENT.get();
        if (f == null) {
            f = new Frames();
            CURRENT.set(f);
        }
        return f;
    }

    /** @return this thread's frames, or null if it never ran a callback or drain */
    static Frames currentOrNull() {
        return CURRENT.get();
    }

    /**
     * Pushes a frame. Never throws: if the stack cannot grow (an OutOfMemoryError), answers false
     * and pushes nothing; the caller then must not {@link #pop()}.
     */
    boolean push(final Object frame) {
        if (depth == stack.length) {
            try {
                stack = Arrays.copyOf(stack, depth * 2);
            } catch (final Throwable oom) {
                return false;
            }
        }
        stack[depth++] = frame;
        return true;
    }

    void pop() {
        stack[--depth] = null;
    }

    /** @return true if {@code frame} is on this stack */
    boolean contains(final Object frame) {
        for (int i = depth - 1; i >= 0; i--) {
            if (stack[i] == frame) {
                return true;
            }
        }
        return false;
    }

    /** @return true if some callback on this stack has a sync cancel of another thread waiting on it */
    boolean anyCallbackBeingCancelled() {
        for (int i = depth - 1; i >= 0; i--) {
            final Object o = stack[i];
            if (o instanceof ControlBlock && ((ControlBlock) o).cancelling() != 0) {
                return true;
            }
        }
        return false;
    }

    /** @return true if a callback is on this stack */
    boolean inCallback() {
        for (int i = depth - 1; i >= 0; i--) {
            if (stack[i] instanceof ControlBlock) {
                return true;
            }
        }
        return false;
    }

    /** @return the callbacks of {@code rt} on this stack */
    int callbacksOf(final AsyncRuntime rt) {
        int n = 0;
        for (int i = depth - 1; i >= 0; i--) {
            final Object o = stack[i];
            if (o instanceof ControlBlock && ((ControlBlock) o).runtime == rt) {
                n++;
            }
        }
        return n;
    }

    /**
     * @return the callbacks of {@code rt} on this stack that {@code rt.activeCallbacks} counts:
     *         all of them, except timer callbacks on the wheel (a wheel fire runs inside a drain,
     *         which {@code activeDrains} counts; see {@code TimerBlock.enterWheelCallback})
     */
    int countedCallbacksOf(final AsyncRuntime rt) {
        int n = 0;
        for (int i = depth - 1; i >= 0; i--) {
            final Object o = stack[i];
            if (o instanceof ControlBlock && ((ControlBlock) o).runtime == rt
                && !(rt.wheel != null && o instanceof TimerBlock)) {
                n++;
            }
        }
        return n;
    }

    /** @return the drains of {@code rt} on this stack */
    int drainsOf(final AsyncRuntime rt) {
        int n = 0;
        for (int i = depth - 1; i >= 0; i--) {
            if (stack[i] == rt) {
                n++;
            }
        }
        return n;
    }
}
