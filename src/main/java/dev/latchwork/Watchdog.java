package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport; // not a lock: the watchdog's sleep between checks, and close's wake-up

/**
 * The stuck-callback watchdog of one runtime ({@link AsyncRuntime.Builder#stuckCallbackThreshold}):
 * a thread of the runtime's that wakes every half threshold and reports each callback of its runtime
 * that has been running for longer than the threshold, once per invocation, with the stuck thread's
 * stack ({@link StuckCallbackException}) to the error handler and to JFR.
 *
 * <h2>Implementation notes</h2>
 * <b>Slots.</b> Every thread that runs callbacks of a runtime with a watchdog gets a {@link Slot},
 * hung off its {@link Frames} and listed in {@link #SLOTS} (one allocation per thread, on its first
 * such callback). The slot is a seqcount: the thread writes the callback's control block and start
 * time, then makes {@code seq} odd (release); when the callback returns it makes {@code seq} even
 * again (release). Two plain stores, one {@code nanoTime} and two ordered stores per callback on
 * x86 (no fence, no allocation, no lock), and nothing at all for a runtime without a watchdog.
 * Only a thread's outermost tracked callback is tracked: a callback nested in it (an INLINE drain, a
 * direct executor) counts as part of the outer one's time.
 * <p>
 * <b>Reading.</b> The watchdog reads {@code seq} (acquire), then the block and start time, then
 * {@code seq} again: an odd, unchanged {@code seq} means the pair belongs to the invocation still
 * running. It samples the stack ({@link Thread#getStackTrace()}, a safepoint operation off the stuck
 * thread), reads {@code seq} once more (the invocation may have ended meanwhile: then nothing is
 * reported), and remembers the {@code seq} it reported in {@link Slot#reported}, so the same
 * invocation is never reported twice while the next one on that thread can be. Each slot is
 * looked at by the watchdogs of every runtime; each acts only on blocks of its own runtime, so a
 * slot's {@code reported} has one writer per invocation.
 * <p>
 * <b>Threads that die.</b> {@link #SLOTS} holds dead threads' slots until a watchdog's next pass
 * removes them (a pass drops every slot whose thread is no longer alive).
 */
final class Watchdog implements Runnable {
    /** The shortest pause between two passes: a tiny threshold does not make the watchdog spin. */
    static final long MIN_TICK_NANOS = 1_000_000;

    private static final VarHandle SEQ;

    static {
        try {
            SEQ = MethodHandles.lookup().findVarHandle(Slot.class, "seq", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The slots of every thread that ran a callback of a runtime with a watchdog. */
    private static final ConcurrentLinkedQueue<Slot> SLOTS = new ConcurrentLinkedQueue<>();
    /** Watchdogs running in this JVM. */
    private static final AtomicInteger RUNNING = new AtomicInteger();

    /** One thread's callback in progress: see the class notes. */
    static final class Slot {
        final Thread thread;
        /** The block whose callback runs (valid while {@code seq} is odd). */
        ControlBlock block;
        /** {@code System.nanoTime()} when it started (valid while {@code seq} is odd). */
        long start;
        /** Odd while a tracked callback runs. Written by {@link #thread} only. */
        @SuppressWarnings("unused")
        volatile long seq;
        /** The odd {@code seq} last reported. Written by watchdogs only. */
        long reported;

        Slot(final Thread thread) {
            this.thread = thread;
        }
    }

    private final AsyncRuntime runtime;
    private final long thresholdNanos;
    private final long tickNanos;
    private volatile boolean stopped;
    private volatile Thread thread;

    Watchdog(final AsyncRuntime runtime, final long thresholdNanos) {
        this.runtime = runtime;
        this.thresholdNanos = thresholdNanos;
        this.tickNanos = Math.max(MIN_TICK_NANOS, thresholdNanos / 2);
    }

    /** Starts the watchdog on {@code t}, a thread made by the runtime's factory to run this. */
    void start(final Thread t) {
        thread = t;
        RUNNING.incrementAndGet();
        t.start();
    }

    /** Stops the watchdog (the runtime closes): no report after this returns but one in flight. */
    void stop() {
        stopped = true;
        final Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    // ------------------------------------------------------------------------------------------
    // the callback's side: on the thread running it

    /**
     * Tracks the callback of {@code b} about to run on this thread, unless one is tracked already
     * (nested). Never throws.
     *
     * @return true if tracked: {@link #untrack} must follow
     */
    static boolean track(final ControlBlock b) {
        final Frames f = Frames.currentOrNull(); // enterCallback made it (null only after an OutOfMemoryError)
        if (f == null) {
            return false;
        }
        Slot s = f.slot;
        if (s == null) {
            try {
                s = new Slot(Thread.currentThread());
                SLOTS.add(s);
            } catch (final Throwable oom) {
                return false;
            }
            f.slot = s;
        }
        final long q = (long) SEQ.getOpaque(s); // our own write
        if ((q & 1) != 0) {
            return false; // nested in a tracked callback: the outer one is the one watched
        }
        VarHandle.storeStoreFence(); // the previous even seq before the new pair (free on x86)
        s.block = b;
        s.start = System.nanoTime();
        SEQ.setRelease(s, q + 1); // the pair before the odd seq
        return true;
    }

    /** Ends what {@link #track} began for {@code b}. Never throws. */
    static void untrack(final ControlBlock b) {
        final Frames f = Frames.currentOrNull();
        final Slot s = f == null ? null : f.slot;
        if (s == null || s.block != b) {
            return;
        }
        final long q = (long) SEQ.getOpaque(s);
        if ((q & 1) != 0) {
            SEQ.setRelease(s, q + 1);
            s.block = null; // do not pin the block (and its owner) until this thread's next callback
        }
    }

    // ------------------------------------------------------------------------------------------
    // the watchdog's side

    @Override
    public void run() {
        try {
            while (!stopped && !runtime.isClosed()) {
                LockSupport.parkNanos(this, tickNanos);
                if (stopped || runtime.isClosed()) {
                    break;
                }
                try {
                    pass(System.nanoTime());
                } catch (final Throwable t) { // an OutOfMemoryError: try again next tick
                    runtime.reportError(t);
                }
                Thread.interrupted(); // only close() stops the watchdog (by flag); a stray interrupt would make it spin
            }
        } finally {
            if (RUNNING.decrementAndGet() == 0) {
                prune();
            }
        }
    }

    /** One pass over the slots at time {@code now}. @return the number of reports made */
    int pass(final long now) {
        int reports = 0;
        for (final Iterator<Slot> it = SLOTS.iterator(); it.hasNext();) {
            final Slot s = it.next();
            if (!s.thread.isAlive()) {
                it.remove();
                continue;
            }
            final long q = (long) SEQ.getAcquire(s);
            if ((q & 1) == 0 || s.reported == q) {
                continue;
            }
            final ControlBlock b = s.block;
            final long start = s.start;
            VarHandle.loadLoadFence(); // the pair before the second seq read
            if ((long) SEQ.getAcquire(s) != q || b == null || b.runtime != runtime) {
                continue;
            }
            final long elapsed = now - start;
            if (elapsed < thresholdNanos) {
                continue;
            }
            final StackTraceElement[] stack = s.thread.getStackTrace();
            if ((long) SEQ.getAcquire(s) != q || stopped || runtime.isClosed()) {
                continue; // it returned while we looked: not stuck any more (or the runtime closes)
            }
            s.reported = q;
            report(b, s.thread, Math.max(elapsed, System.nanoTime() - start), stack);
            reports++;
        }
        return reports;
    }

    private void report(final ControlBlock b, final Thread t, final long elapsed, final StackTraceElement[] stack) {
        final Object owner = b.owner;
        final StuckCallbackException e = new StuckCallbackException(runtime.name(),
            b instanceof TimerBlock ? "timer" : "work", owner == null ? "null" : owner.getClass().getName(),
            elapsed, thresholdNanos, t.getName(), stack);
        runtime.stuck.increment();
        try {
            Flight.SINK.stuck(e, t);
        } catch (final Throwable ignored) {
            // JFR must not cost the report
        }
        runtime.reportStuck(e);
    }

    /** Drops the slots of threads that died. */
    private static void prune() {
        SLOTS.removeIf(s -> !s.thread.isAlive());
    }
}
