package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The first field group of a control block: the seqcount-latched two-slot command buffer, written
 * by publishers (the hot path). The chain of small superclasses under {@link ControlBlock}
 * (JCTools-style) lays the block out by writer; HotSpot places a superclass's fields before its
 * subclass's, so the chain order is the field order:
 * <pre>
 *   BlockQueue.Node, WheelNode    next; wheelPrev, wheelNext     queue and wheel links
 *   BlockLatch                    seq, arg0, arg1, op0, op1,     publisher-written (this class)
 *                                 runtime                        (read by every publish)
 *   BlockRefcount                 state                          read by every publish, drain-written
 *   BlockDrainStatus              drainStatus                    the handshake: both sides write it
 *   BlockCallback                 callback, owner, cell          read-mostly
 *   BlockDrain                    consumed, finalized            drain-written
 *   ControlBlock                  callbacks, waiters             written by fires and sync cancels
 *   TimerBlock / WorkBlock        target, wall, wake / run, ...  drain- and fire-written
 * </pre>
 * A cold publish (a cell no thread touched for a while) therefore touches the block's first 60
 * bytes after the header and nothing else; the drain's own writes ({@code consumed}, the target,
 * the callback counters) are on the lines after them. JOL layout: docs/DESIGN.md section 3.6.
 *
 * <h2>Implementation notes</h2>
 * {@code seq} advances by 4 per command; its low two bits are the writer's phase, so the CAS that
 * owns the latch is also the single-writer flag. For command {@code k} (1-based):
 * <pre>
 *   seq = 4(k-1)   idle: both slots hold command k-1          readers read slot 0
 *   CAS -> 4k-3    writer owns the latch, writes slot 0        readers read slot 1 (= k-1)
 *   set  4k-2      slot 0 holds k, writer writes slot 1        readers read slot 0 (= k)
 *   set  4k        idle: both slots hold k                     readers read slot 0
 * </pre>
 * Memory ordering, per access (JCTools names: lv = volatile load, lp = plain/opaque load,
 * so = ordered (release) store, cas):
 * <ul>
 * <li>{@link #casSeq} (W1, volatile CAS): owns the latch; reads the previous writer's
 * {@code soSeq}, so that writer's slots happen-before this writer's.</li>
 * <li>{@code storeStoreFence} (W1a): the slot-0 stores cannot move above the CAS (the CAS is a full
 * fence on HotSpot anyway; the fence states it without relying on that).</li>
 * <li>slot stores (W2, W5, opaque): opaque so that a {@code long} is never torn; their order with
 * {@code seq} comes from the fences and release stores around them.</li>
 * <li>{@code seq = 4k-2} (W3, release) then {@code storeStoreFence} (W4): slot 0 is complete before
 * a reader can pick it; slot 1's stores cannot move above W3.</li>
 * <li>{@code seq = 4k} (W6, <b>release</b>, issue 14): slot 1 is complete before a reader can see
 * {@code 4k}. It used to be a volatile store, because the writer reads the drain status next and
 * that handshake is a Dekker pattern needing store-load order. The store-load order now comes from
 * the caller's next step, a read-modify-write of {@code drainStatus}
 * ({@link BlockDrainStatus#scheduleDrain()}, or INLINE's CAS), against the drainer's own
 * read-modify-write of it before it reads {@code seq} (DESIGN 5.2). On a cold cell the publisher
 * needs that CAS anyway (idle to queued), so the volatile store's fence was one fence too many.
 * Every caller of {@link #write} must therefore make a drain-status read-modify-write its next
 * shared-memory access; {@code ControlBlock.publish} and {@code publishCancelBlocking} do.</li>
 * </ul>
 * Readers read {@code seq} with acquire (volatile the first time), copy the slot it designates
 * (opaque), issue {@code loadLoadFence} and re-read {@code seq}; equal means the copy is
 * consistent. The command number comes from the sequence: a reader that sampled {@code 4k-3} reads
 * command {@code k-1} with its number {@code k-1}, so a consumed command is never taken for a new
 * one (kernel v6 pitfall a).
 */
abstract class BlockLatch extends WheelNode {
    static final int OP_NONE = 0;
    /** Timer: arm at (drain's now + arg). Work: queue one run. */
    static final int OP_START = 1;
    /** Timer: arm at the absolute deadline arg. */
    static final int OP_START_AT = 2;
    static final int OP_CANCEL = 3;

    /** Bounded spin before a publisher answers BUSY. */
    static final int PUBLISH_SPINS = 64;

    static final VarHandle SEQ;
    static final VarHandle OP0;
    static final VarHandle OP1;
    static final VarHandle ARG0;
    static final VarHandle ARG1;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            SEQ = l.findVarHandle(BlockLatch.class, "seq", long.class);
            OP0 = l.findVarHandle(BlockLatch.class, "op0", int.class);
            OP1 = l.findVarHandle(BlockLatch.class, "op1", int.class);
            ARG0 = l.findVarHandle(BlockLatch.class, "arg0", long.class);
            ARG1 = l.findVarHandle(BlockLatch.class, "arg1", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The runtime this block belongs to; read by every publish (closed check, queue, counters). */
    final AsyncRuntime runtime;
    volatile long seq;
    long arg0;
    long arg1;
    int op0;
    int op1;

    BlockLatch(final AsyncRuntime runtime) {
        this.runtime = runtime;
    }

    /** @return the number of the newest command whose publication began (complete or not) */
    static long latestNumber(final long s) {
        return s >>> 2;
    }

    /** lvSeq: volatile read of the sequence. */
    final long lvSeq() {
        return (long) SEQ.getVolatile(this);
    }

    /** lpSeq: opaque read, for a writer's first look (the CAS validates it). */
    final long lpSeq() {
        return (long) SEQ.getOpaque(this);
    }

    /**
     * casSeq: takes the latch if it is idle at {@code s} (W1).
     *
     * @return true if the caller now owns the latch at {@code s + 1}
     */
    final boolean casSeq(final long s) {
        return (s & 3) == 0 && SEQ.compareAndSet(this, s, s + 1);
    }

    /**
     * Takes the latch with the bounded spin of the hot path.
     *
     * @return the idle sequence the latch was taken at (the caller owns it at that value + 1), or
     *         -1 after {@link #PUBLISH_SPINS} failed attempts (the caller answers BUSY)
     */
    final long lockLatch() {
        long s = lpSeq();
        for (int spins = 0; ; spins++) {
            if (casSeq(s)) {
                return s;
            }
            if (spins >= PUBLISH_SPINS) {
                return -1;
            }
            Thread.onSpinWait();
            s = lpSeq();
        }
    }

    /**
     * Gives the latch back untouched (soSeq of the value it was taken at). Nothing was written, so a
     * reader that saw {@code s} (before or after) reads the same slot contents, and one that saw
     * {@code s + 1} re-validates and retries.
     */
    final void unlockUnwritten(final long s) {
        SEQ.setRelease(this, s);
    }

    /**
     * Writes both slots; the caller owns the latch at {@code s + 1}. Ends with a release store
     * (W6): the caller's next shared access must be a read-modify-write of the drain status (class
     * notes).
     */
    final void write(final long s, final int op, final long arg) {
        VarHandle.storeStoreFence(); // W1a: the CAS already orders; this states it without relying on it
        OP0.setOpaque(this, op);     // W2
        ARG0.setOpaque(this, arg);
        SEQ.setRelease(this, s + 2); // W3: slot 0 complete before a reader can pick it
        VarHandle.storeStoreFence(); // W4: slot 1's stores stay below W3
        OP1.setOpaque(this, op);     // W5
        ARG1.setOpaque(this, arg);
        SEQ.setRelease(this, s + 4); // W6: release; store-load order comes from the status RMW that follows
    }

    /**
     * Reads the newest complete command in the latch (the same stable read as a drain's) and tells
     * whether it is a cancel newer than command {@code num}: then a run or an expiry serving
     * {@code num} must not start, whether or not a drain has applied the cancel (contract 3.1).
     * A cancel still being written has not returned {@code OK} to its caller yet; it is not seen.
     */
    final boolean cancelPublishedAfter(final long num) {
        for (int i = 0; ; i++) {
            final long s = lvSeq();
            final int op;
            final long n;
            if ((s & 3) == 1) {
                op = (int) OP1.getOpaque(this);
                n = s >>> 2;
            } else {
                op = (int) OP0.getOpaque(this);
                n = (s + 3) >>> 2;
            }
            VarHandle.loadLoadFence();
            if (lpSeq() == s) {
                return op == OP_CANCEL && n > num;
            }
            if (i > 16) {
                Thread.onSpinWait();
            }
        }
    }
}
