package dev.latchwork.jmh;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The floor of the contract's section 5: two uncontended CAS operations per command on the same
 * kind of per-cell object (read the field opaquely, CAS it forward, twice), round-robin over the
 * same cells. The shape matches a latchwork cell: the cell object holds a reference to a separate
 * block with the two words (as {@code AsyncTimer} holds its control block), so the floor pays the
 * same pointer chase; the block is smaller (32 B against about 150 B), so over 100 000 cells the
 * floor misses the caches less. An arm-then-cancel is two commands, so four CAS. Not a timer: it
 * cannot fire, and the latency harness skips it.
 */
final class FloorTimeouts extends Timeouts {
    private static final VarHandle A;
    private static final VarHandle B;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            A = l.findVarHandle(Block.class, "a", long.class);
            B = l.findVarHandle(Block.class, "b", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The embedded cell: one reference, as {@code AsyncCell} has. */
    static final class Cell {
        volatile Block block;
    }

    /** Two words, as a control block has its latch sequence and its drain status. */
    static final class Block {
        volatile long a;
        volatile long b;
    }

    private Cell[] cells;

    @Override
    boolean isTimer() {
        return false;
    }

    @Override
    void open(final int n) {
        cells = new Cell[n];
        for (int i = 0; i < n; i++) {
            final Cell c = new Cell();
            c.block = new Block();
            cells[i] = c;
        }
    }

    private static int twoCas(final Block c) {
        final long a = (long) A.getOpaque(c);
        final boolean okA = A.compareAndSet(c, a, a + 1);
        final long b = (long) B.getOpaque(c);
        final boolean okB = B.compareAndSet(c, b, b + 1);
        return okA & okB ? 0 : -1;
    }

    @Override
    int rearm(final int cell, final long now) {
        return twoCas(cells[cell].block);
    }

    @Override
    int armCancel(final int cell, final long now) {
        final Block c = cells[cell].block;
        return twoCas(c) | twoCas(c);
    }

    @Override
    int armAt(final int cell, final long deadlineNanos) {
        throw new UnsupportedOperationException("the floor is not a timer");
    }

    @Override
    void close() {
    }
}
