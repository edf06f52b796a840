package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * A statistics counter of a runtime that the thread draining it updates with a plain add and an
 * opaque store (no atomic read-modify-write, no fence), and every other thread through the
 * {@link LongAdder} it extends. The runtime's counter fields keep their type ({@code LongAdder})
 * and names, so call sites, readers and the tests' fault seam (a {@code LongAdder} subclass put in
 * the field) read as before.
 *
 * <h2>Implementation notes</h2>
 * <b>Why.</b> Nearly every count is made by the drainer: drain passes, commands claimed and
 * superseded, timers armed and disarmed, timers fired on the wheel. As {@code LongAdder}s they
 * cost one uncontended CAS each (a locked instruction, ~20 cycles and a full fence) on every
 * applied command and every fire, on a thread that is the runtime's bottleneck (docs/BENCHMARKS.md,
 * "Dispatcher ceiling").
 * <p>
 * <b>Single writer.</b> {@link #owned} is written only by the thread in {@link Writer#thread}: the
 * dispatcher (set once when it starts, never changed), or in HOST_DRIVEN the thread inside
 * {@link AsyncRuntime#drain()} (set after it takes the consumer role, cleared before it gives it
 * back). A thread reads its own write, so the drainer sees itself there; any other thread sees
 * another thread or null, never itself (a thread that cleared the field cannot read its older
 * write back: its own later write comes after it in program order). Two successive drainers are
 * ordered by the consumer role's volatile store (release) and CAS (acquire), so the next one's
 * plain read of {@link #owned} sees the last one's store, and a read-modify-write by one thread at
 * a time loses nothing. Every other thread (publishers counting BUSY answers and new blocks, INLINE
 * callers draining their own block, the executor backend's timer thread, a closing thread) goes
 * to the inherited {@code LongAdder} cells.
 * <p>
 * <b>Readers.</b> {@link #sum()} reads {@link #owned} opaquely (a long is never torn; the value is
 * at most a few operations stale, as a {@code LongAdder}'s sum under traffic is) and adds the
 * adder's sum. A snapshot is not an atomic cut, exactly as before. ({@code reset} and
 * {@code sumThenReset} are not used by the runtime and reset the adder part only.)
 */
final class StatCounter extends LongAdder {
    private static final long serialVersionUID = 1L;
    private static final VarHandle OWNED;

    static {
        try {
            OWNED = MethodHandles.lookup().findVarHandle(StatCounter.class, "owned", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Who may update the counters' single-writer part now. One per runtime, shared by its counters. */
    static final class Writer {
        /** The runtime's drainer (see the class notes), or null. */
        volatile Thread thread;
    }

    private final transient Writer writer;
    /** The drainer's part; written only by {@link Writer#thread}, opaque stores. */
    @SuppressWarnings("unused")
    private long owned;

    StatCounter(final Writer writer) {
        this.writer = writer;
    }

    @Override
    public void add(final long x) {
        if (writer.thread == Thread.currentThread()) {
            OWNED.setOpaque(this, (long) OWNED.getOpaque(this) + x); // single writer: no lost update
        } else {
            super.add(x);
        }
    }

    @Override
    public void increment() {
        add(1);
    }

    @Override
    public void decrement() {
        add(-1);
    }

    /** @return the count (racy under traffic, like {@link LongAdder#sum()}) */
    @Override
    public long sum() {
        return (long) OWNED.getOpaque(this) + super.sum();
    }

    @Override
    public String toString() {
        return Long.toString(sum());
    }
}
