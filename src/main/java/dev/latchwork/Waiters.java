package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport; // not a lock: park/unpark of threads that chose to wait (sync cancel, close), never on the hot path

/**
 * Threads parked until something they wait for happens (a callback returns, a runtime finishes
 * closing): a Treiber stack of waiter nodes, as {@code FutureTask} keeps its waiters, so that the
 * one who finishes unparks them instead of their polling.
 * <p>
 * Thread safe, lock-free. {@link #await} allocates a node per sleep: it is for sync cancel and
 * runtime close, never for hot paths. {@link #wakeAll()} allocates nothing.
 *
 * <h2>Implementation notes</h2>
 * The waiter pushes its node (a full fence: the CAS), then re-reads its condition, then parks.
 * The finisher first makes the condition true with a volatile write (or a read-modify-write), then
 * reads {@link #head}. Both sides are sequentially consistent, so either the finisher sees the node
 * and unparks it, or the waiter sees the condition true and does not park: no lost wake-up. A node
 * left behind by a waiter that woke for another reason is unparked later for nothing, which
 * {@link LockSupport#park} allows (every waiter re-checks its condition in a loop). The park is
 * also bounded, so that a waiter whose finisher died with an error still re-checks.
 */
final class Waiters {
    /** The longest single park: a safety net only; wake-ups come from {@link #wakeAll()}. */
    static final long MAX_PARK_NANOS = 50_000_000L;
    /** Spins before the first park: a short callback ends without any park or unpark. */
    private static final int SPINS = 256;

    private static final VarHandle HEAD;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(Waiters.class, "head", Node.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final class Node {
        final Thread thread;
        Node next;

        Node(final Thread thread) {
            this.thread = thread;
        }
    }

    private volatile Node head;

    /** A condition {@link #await} waits for; re-evaluated after every wake-up. */
    interface Condition {
        boolean isMet();
    }

    /** Unparks every waiter pushed so far. Allocation-free, lock-free. */
    void wakeAll() {
        if (head == null) {
            return;
        }
        for (Node n = (Node) HEAD.getAndSet(this, null); n != null; n = n.next) {
            LockSupport.unpark(n.thread);
        }
    }

    /**
     * Waits until {@code done.isMet()} or {@code timeoutNanos} pass ({@link Long#MAX_VALUE}: no
     * timeout). Spins briefly first; then parks, woken by {@link #wakeAll()}.
     *
     * @return true if the condition was met, false on timeout
     */
    boolean await(final Condition done, final long timeoutNanos) {
        final long start = System.nanoTime();
        for (int i = 0; i < SPINS; i++) {
            if (done.isMet()) {
                return true;
            }
            Thread.onSpinWait();
        }
        // An interrupt makes park return at once: clear it while waiting (no busy loop), restore it after.
        boolean interrupted = false;
        try {
            for (;;) {
                if (done.isMet()) {
                    return true;
                }
                final long left = timeoutNanos == Long.MAX_VALUE ? Long.MAX_VALUE
                    : timeoutNanos - (System.nanoTime() - start);
                if (left <= 0) {
                    return false;
                }
                final Node n = new Node(Thread.currentThread());
                Node h;
                do {
                    h = head;
                    n.next = h;
                } while (!HEAD.compareAndSet(this, h, n));
                if (done.isMet()) {
                    return true;
                }
                LockSupport.parkNanos(this, Math.min(left, MAX_PARK_NANOS));
                if (Thread.interrupted()) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
