package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An unbounded, intrusive, allocation-free multi-producer single-consumer queue of control
 * blocks waiting for a drain (Vyukov's intrusive MPSC with a stub node, the JVM counterpart of
 * the kernel's irq_work list).
 * <p>
 * <b>Not thread safe for consumers</b>: exactly one thread may {@link #poll()} at a time.
 * Producers are wait-free: one {@code getAndSet} on the tail and one release store.
 * <p>
 * Implementation notes. The link lives in the node ({@link Node#next}), so a node can be in the
 * queue at most once; the drain-status machine of {@link ControlBlock} guarantees that (only the
 * idle to queued transition offers a block). A producer swaps itself in as the tail and then links
 * the previous tail to itself; between the two steps the queue is momentarily "broken" and
 * {@link #poll()} answers null although it is not empty. The producer finishes in a bounded number
 * of steps, so the consumer simply retries on its next pass (the dispatcher never spins on it).
 * <p>
 * Layout (issue 14): the consumer's {@code head} and the producers' {@code tail} live on lines of
 * their own, 128 bytes of padding on each side of {@code tail} (the chain of small superclasses
 * below, JCTools-style: HotSpot lays a superclass's fields out before its subclass's, so the chain
 * fixes the order). Before, {@code head}, {@code tail} and the stub shared one line, and the
 * runtime's counters, allocated right after the queue, the next one: every poll (a plain store to
 * {@code head}) and every counter update of the dispatcher took the line away from the publisher,
 * whose next offer (the {@code getAndSet} on {@code tail}) then waited for it to come back. JOL
 * layout in docs/DESIGN.md (section 5.5).
 */
final class BlockQueue extends BlockQueuePad2 {

    /** A queue node. {@code next} is written by producers (release) and read by the consumer (acquire). */
    abstract static class Node {
        volatile Node next;
    }

    private static final class Stub extends Node {
    }

    private static final VarHandle TAIL;
    private static final VarHandle NEXT;
    private static final VarHandle HEAD;
    /** Bounds {@link #estimateSize()}'s walk when producers keep appending as fast as it walks. */
    static final int MAX_WALK = 1 << 26;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            TAIL = l.findVarHandle(BlockQueueTail.class, "tail", Node.class);
            HEAD = l.findVarHandle(BlockQueueHead.class, "head", Node.class);
            NEXT = l.findVarHandle(Node.class, "next", Node.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    BlockQueue() {
        final Node s = new Stub();
        stub = s;
        head = s;
        tail = s;
    }

    /** Appends {@code n}, which must not be in the queue. Wait-free, allocation-free. */
    void offer(final Node n) {
        NEXT.setOpaque(n, (Node) null);
        final Node prev = (Node) TAIL.getAndSet(this, n); // full fence: publishes n.next = null first
        NEXT.setRelease(prev, n);
    }

    /** @return the node offered last (the stub when nothing is queued behind it); volatile read */
    Node lvTail() {
        return (Node) TAIL.getVolatile(this);
    }

    /**
     * Racy emptiness test, any thread: true if nothing is queued (the head and the tail are both
     * the stub). A producer between its two steps has already swapped the tail, so its node is
     * seen. Volatile reads, so that the sleep protocol's Dekker handshake holds.
     */
    boolean looksEmpty() {
        return (Node) HEAD.getVolatile(this) == stub && (Node) TAIL.getVolatile(this) == stub;
    }

    /** @return true if {@code n} is this queue's stub node */
    boolean isStub(final Node n) {
        return n == stub;
    }

    /**
     * As {@link #poll()}, but never passes the stub: null once the stub is at the head. A round
     * that read the stub as the tail when it began polls this way, and so ends with the nodes
     * queued before it (including those whose producer had swapped the tail but not linked yet:
     * they are ahead of the stub), whatever producers add behind the stub meanwhile.
     */
    Node pollBeforeStub() {
        return head == stub ? null : poll();
    }

    /** @return the oldest node, or null if empty or a producer is between its two steps */
    Node poll() {
        Node h = head;
        Node next = (Node) NEXT.getAcquire(h);
        if (h == stub) {
            if (next == null) {
                return null;
            }
            head = next;
            h = next;
            next = (Node) NEXT.getAcquire(h);
        }
        if (next != null) {
            head = next;
            return h;
        }
        if (h != (Node) TAIL.getVolatile(this)) {
            return null; // a producer swapped the tail but has not linked yet
        }
        offer(stub);
        next = (Node) NEXT.getAcquire(h);
        if (next != null) {
            head = next;
            return h;
        }
        return null;
    }

    /**
     * Counts the nodes in the queue by walking it from the consumer's head. Any thread; lock-free;
     * O(size). Exact when nobody offers or polls meanwhile; otherwise an estimate: the head read may
     * be stale (nodes polled since are counted), and nodes polled and offered again during the walk
     * may be counted twice or skipped. It always ends: every link leads to a node offered later
     * than the one it leaves, so the walk only moves toward the tail, and it stops after
     * {@link #MAX_WALK} steps if producers outpace it.
     *
     * @return the number of nodes (the stub not counted), an estimate under traffic
     */
    long estimateSize() {
        long n = 0;
        Node p = (Node) HEAD.getOpaque(this);
        for (int steps = 0; p != null && steps < MAX_WALK; steps++) {
            if (p != stub) {
                n++;
            }
            p = (Node) NEXT.getAcquire(p);
        }
        return n;
    }
}

/** Padding before the consumer's fields (against whatever object precedes the queue). */
abstract class BlockQueuePad0 {
    @SuppressWarnings("unused")
    private long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The consumer's fields: written only by the thread that polls. */
abstract class BlockQueueHead extends BlockQueuePad0 {
    /** The stub node (read-only after construction). */
    BlockQueue.Node stub;
    /** Consumer-owned (plain writes); read opaquely by {@code estimateSize()}. */
    BlockQueue.Node head;
}

/**
 * Padding between the consumer's line and the producers'. The {@code int} fills the 4-byte hole
 * after {@code head} (HotSpot places a subclass's field in a superclass's hole, which would put
 * {@code tail} right after {@code head}); the longs follow.
 */
abstract class BlockQueuePad1 extends BlockQueueHead {
    @SuppressWarnings("unused")
    private int p1h;
    @SuppressWarnings("unused")
    private long p10, p11, p12, p13, p14, p15, p16, p17, p18, p19, p1a, p1b, p1c, p1d, p1e, p1f;
}

/** The producers' field: swapped by every offer. */
abstract class BlockQueueTail extends BlockQueuePad1 {
    /** Swapped by producers ({@code getAndSet}); read by the consumer. */
    volatile BlockQueue.Node tail;
}

/** Padding after the producers' line (against the objects allocated after the queue); the int fills the hole after {@code tail}. */
abstract class BlockQueuePad2 extends BlockQueueTail {
    @SuppressWarnings("unused")
    private int p2h;
    @SuppressWarnings("unused")
    private long p20, p21, p22, p23, p24, p25, p26, p27, p28, p29, p2a, p2b, p2c, p2d, p2e, p2f;
}
