package dev.latchwork;

import java.util.Collections;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fixtures shared by the jcstress tests. They live in {@code dev.latchwork} to reach the
 * package-private internals ({@link ControlBlock}'s latch, drain status and refcount,
 * {@link TimerBlock}'s target and wake-up, {@link WorkBlock}'s run state); the shaded jar loads
 * them with the library in one class loader, so they share its runtime package.
 * <p>
 * Backends are stubs: a {@link StubScheduler} that records wake-ups and never runs them, and a
 * {@link StubExecutor} that records work submissions and never runs them. A test plays the
 * backend's thread itself by calling {@code Wake.run()} or {@code WorkBlock.run()} from an actor,
 * which makes the expiry and the work run raceable against the hot-path operations. With
 * user-supplied backends and {@link DispatchMode#HOST_DRIVEN}, a runtime owns no thread at all.
 */
final class StressSupport {
    private StressSupport() {
    }

    static final StubScheduler SCHEDULER = new StubScheduler();
    static final StubExecutor EXECUTOR = new StubExecutor();
    /** Far in the future on the MONOTONIC clock (about 146 years): armed, never due. */
    static final long FAR = Long.MAX_VALUE / 2;
    static final long FAR_2 = FAR + 2;

    /** A timer callback that records its invocations on its owner. */
    static final TimerCallback<Owner> TIMER_CB = (o, t) -> o.callback();
    /** A second one, to tell which callback is installed. */
    static final TimerCallback<Owner> TIMER_CB_2 = (o, t) -> o.callback();
    /** A work callback that records its invocations on its owner. */
    static final WorkCallback<Owner> WORK_CB = (o, w) -> o.callback();

    /** A runtime without threads: the test drains it ({@code rt.drain()}) where it wants to. */
    static AsyncRuntime hostDriven() {
        return AsyncRuntime.builder()
            .dispatchMode(DispatchMode.HOST_DRIVEN)
            .timerScheduler(SCHEDULER)
            .workExecutor(EXECUTOR)
            .errorHandler(StressSupport::error)
            .countQueueTraffic()
            .build();
    }

    /**
     * A runtime whose publishers apply their own commands. Its dispatcher thread only picks up
     * what a publisher could not apply itself; it parks up to 1 ms when idle.
     */
    static AsyncRuntime inline() {
        return AsyncRuntime.builder()
            .dispatchMode(DispatchMode.INLINE)
            .timerScheduler(SCHEDULER)
            .workExecutor(EXECUTOR)
            .idle(AsyncIdle.backoff(1_000_000))
            .errorHandler(StressSupport::error)
            .countQueueTraffic()
            .build();
    }

    private static void error(final Throwable t) {
        // jcstress shows a fork's stderr in its report; a drain error is a test bug or a core bug
        System.err.println("latchwork error in a stress test: " + t);
        t.printStackTrace();
    }

    /**
     * Waits until no drain of {@code b} is pending or running, draining {@code rt} if it is
     * {@code HOST_DRIVEN} (another thread may hold its queue: then it spins). Throws after 10 s, so
     * a lost drain shows up as a test error instead of a hang.
     */
    static void quiesce(final AsyncRuntime rt, final ControlBlock b) {
        long deadline = 0;
        for (int i = 0; b.drainStatus != ControlBlock.IDLE; i++) {
            if (rt.drain() != 0) {
                continue;
            }
            if (i < 256) {
                Thread.onSpinWait();
                continue;
            }
            Thread.yield();
            if ((i & 1023) == 0) {
                final long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + TimeUnit.SECONDS.toNanos(10);
                } else if (now - deadline > 0) {
                    throw new IllegalStateException("control block never went idle: status " + b.drainStatus);
                }
            }
        }
    }

    /**
     * Closes the cell and drains its block until idle (its final pass runs {@code onDead}). Every
     * arbiter leaves its block idle: a block left queued on a shared runtime that nobody drains
     * would make the queue, and the heap, grow without bound.
     */
    static void closeAndQuiesce(final AsyncRuntime rt, final AsyncCell c) {
        final ControlBlock b = c.block;
        c.close();
        if (b != null) {
            quiesce(rt, b);
        }
    }

    /** Owner of the cells under test: counts what the stub backends and the callbacks saw. */
    static final class Owner {
        /** Wake-ups scheduled on the stub scheduler for this owner's timer. */
        final AtomicInteger scheduled = new AtomicInteger();
        /** Of those, cancelled on the scheduler. */
        final AtomicInteger cancelled = new AtomicInteger();
        /** Work runs submitted to the stub executor. */
        final AtomicInteger submitted = new AtomicInteger();
        /** Callback invocations begun / finished. */
        final AtomicInteger started = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        private final AtomicInteger inside = new AtomicInteger();
        /** The most callbacks of this owner seen running at once. */
        volatile int maxInside;

        void callback() {
            started.incrementAndGet();
            final int n = inside.incrementAndGet();
            if (n > maxInside) {
                maxInside = n;
            }
            Thread.onSpinWait(); // a little time inside, so an overlap has a chance to show
            inside.decrementAndGet();
            finished.incrementAndGet();
        }

        /** Wake-ups still scheduled (not cancelled) on the backend. */
        int liveWakeups() {
            return scheduled.get() - cancelled.get();
        }
    }

    /** A scheduler that records wake-ups on their owners and never runs anything. */
    static final class StubScheduler extends AbstractExecutorService implements ScheduledExecutorService {
        @Override
        public ScheduledFuture<?> schedule(final Runnable command, final long delay, final TimeUnit unit) {
            Owner owner = null;
            if (command instanceof ExecutorBackend.Wake) {
                final TimerBlock b = ((ExecutorBackend.Wake) command).get();
                if (b != null && b.owner instanceof Owner) {
                    owner = (Owner) b.owner;
                    owner.scheduled.incrementAndGet();
                }
            }
            return new StubFuture(owner);
        }

        @Override
        public <V> ScheduledFuture<V> schedule(final Callable<V> callable, final long delay, final TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(final Runnable r, final long i, final long p, final TimeUnit u) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(final Runnable r, final long i, final long d, final TimeUnit u) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void execute(final Runnable command) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void shutdown() {
        }

        @Override
        public List<Runnable> shutdownNow() {
            return Collections.emptyList();
        }

        @Override
        public boolean isShutdown() {
            return false;
        }

        @Override
        public boolean isTerminated() {
            return false;
        }

        @Override
        public boolean awaitTermination(final long timeout, final TimeUnit unit) {
            return false;
        }
    }

    /** The stub scheduler's future: never runs, counts its first cancel on the owner. */
    static final class StubFuture implements ScheduledFuture<Object> {
        private final Owner owner;
        private final AtomicInteger cancelled = new AtomicInteger();

        StubFuture(final Owner owner) {
            this.owner = owner;
        }

        @Override
        public boolean cancel(final boolean mayInterruptIfRunning) {
            if (cancelled.compareAndSet(0, 1)) {
                if (owner != null) {
                    owner.cancelled.incrementAndGet();
                }
                return true;
            }
            return false;
        }

        @Override
        public boolean isCancelled() {
            return cancelled.get() != 0;
        }

        @Override
        public boolean isDone() {
            return isCancelled();
        }

        @Override
        public Object get() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Object get(final long timeout, final TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long getDelay(final TimeUnit unit) {
            return Long.MAX_VALUE;
        }

        @Override
        public int compareTo(final Delayed o) {
            return 0;
        }
    }

    /** An executor that records work submissions on their owners and never runs them. */
    static final class StubExecutor implements Executor {
        @Override
        public void execute(final Runnable command) {
            if (command instanceof WorkBlock && ((WorkBlock) command).owner instanceof Owner) {
                ((Owner) ((WorkBlock) command).owner).submitted.incrementAndGet();
            }
        }
    }

    /**
     * A control block whose backend records the commands applied to it: the latch, the claim, the
     * drain-status machine and the refcount are the real {@link ControlBlock} code.
     * <p>
     * Command {@code k} (1 to 4) is {@code (OPS[k], ARGS[k])}; each argument has distinct upper and
     * lower halves, so a torn long, or an op and an argument from two commands, match no command.
     * {@link #applied} lists the commands applied, in order, as decimal digits (13 = command 1,
     * then command 3); 9 stands for a command that matches none (torn), or, when
     * {@code numbered}, one applied under another command's number.
     */
    static final class RecBlock extends ControlBlock {
        static final int[] OPS = {OP_NONE, OP_START, OP_START_AT, OP_CANCEL, OP_START};
        static final long[] ARGS = {0, 0x1111_1111_1111_1111L, 0x2222_2222_2222_2222L,
            0x3333_3333_3333_3333L, 0x4444_4444_4444_4444L};

        /** True when command k is the k-th command published on this block (a single writer). */
        private final boolean numbered;
        /** Applied commands as digits; drain-written. */
        int applied;
        /** Command numbers applied, as digits; drain-written. */
        int appliedNums;
        /** Commands applied while the refcount was zero (dead): must stay 0. */
        int deadApplies;
        /** Backend cancels made with the refcount at zero: the final cancel (onDead). */
        int finalCancels;

        RecBlock(final AsyncRuntime rt, final boolean numbered) {
            super(rt, new Object(), null);
            this.numbered = numbered;
            rt.live.increment(); // as install() does, so onDead's decrement balances
        }

        /** Publishes command {@code k} through the real hot path. */
        int publish(final int k) {
            return publish(OPS[k], ARGS[k], false);
        }

        static int identify(final int op, final long arg) {
            for (int k = 1; k < OPS.length; k++) {
                if (OPS[k] == op && ARGS[k] == arg) {
                    return k;
                }
            }
            return 9;
        }

        @Override
        void apply(final int op, final long arg, final long num) {
            int id = identify(op, arg);
            if (numbered && id != num) {
                id = 9;
            }
            applied = applied * 10 + id;
            appliedNums = appliedNums * 10 + (int) Math.min(num, 9);
            if ((state & COUNT_MASK) == 0) {
                deadApplies++;
            }
        }

        @Override
        long wheelDeadline() {
            return Long.MAX_VALUE;
        }

        @Override
        void settle(final boolean applied) {
        }

        @Override
        void cancelBackend() {
            if ((state & COUNT_MASK) == 0) {
                finalCancels++;
            }
        }

        @Override
        boolean isPendingOnBackend() {
            return false;
        }

        /** As the dispatcher does after polling the block: getAndSet PROCESSING, then drain it. */
        void drainAsDispatcher() {
            drainDequeued();
        }

        /** Pretends the block is queued (without queueing it): publishers then leave it alone. */
        void fakeQueued() {
            STATUS.setVolatile(this, QUEUED);
        }
    }
}
