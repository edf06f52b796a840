package dev.latchwork;

import static org.jetbrains.lincheck.datastructures.ManagedStrategyGuaranteeKt.forClasses;

import java.util.Collections;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of a timer cell's public operations against a sequential
 * specification ({@link CellSpec}): {@code init}, {@code setCallback}, {@code startAt},
 * {@code cancelAsync}, {@code close}, and the host's {@code drain()} followed by a read of the
 * applied deadline. The runtime is {@code HOST_DRIVEN} with a stub scheduler that never runs
 * anything, so there is no background thread and every step is under Lincheck's control.
 * <p>
 * What the specification says, and the projections the operations make:
 * <ul>
 *   <li>A command is linearized when it is published; {@code drain()} applies the newest one
 *       published (last command wins) and shows the resulting deadline.</li>
 *   <li>{@code BUSY} is retried by the operation (it means "another command was being published
 *       at that instant"; the jcstress {@code WriterStress} tests cover the BUSY answer itself).</li>
 *   <li>{@code DEAD} is reported as {@code NOT_INITIALIZED}: it is what an operation answers when
 *       it read the cell's block just before a concurrent {@code close} detached it, i.e. the
 *       concurrent form of "the cell is closed".</li>
 *   <li>{@code drain()} runs on one thread (the host, with {@code close}) and repeats until the
 *       cell's block is idle and every offer to the queue has been polled. One
 *       {@code AsyncRuntime.drain()} call is not linearizable with publishes: it may miss a command
 *       whose publish has completed, when another thread has moved the block from IDLE to QUEUED
 *       but not yet offered it, or is between the two steps of its offer ({@code BlockQueue}); a
 *       later call applies it. See {@link LincheckDrainStatusTest} and docs/VERIFICATION.md.</li>
 * </ul>
 */
@Param(name = "deadline", gen = IntGen.class, conf = "1:2")
public class LincheckCellTest {
    static final long BASE = Long.MAX_VALUE / 2;
    static final TimerCallback<Object> CB = (o, t) -> { };

    private final AsyncRuntime rt = AsyncRuntime.builder()
        .dispatchMode(DispatchMode.HOST_DRIVEN)
        .timerScheduler(new StubScheduler())
        .workExecutor(NO_EXECUTOR)
        .countQueueTraffic() // every offer and poll counted: the tests compare them
        .build();
    private final Object owner = new Object();
    private final AsyncTimer<Object> t = new AsyncTimer<>();

    public LincheckCellTest() {
    }

    static int project(final int status) {
        return status == AsyncStatus.DEAD ? AsyncStatus.NOT_INITIALIZED : status;
    }

    @Operation
    public int init() {
        return t.init(rt, owner, TimerClock.MONOTONIC);
    }

    @Operation
    public int setCallback() {
        return project(t.setCallback(CB));
    }

    @Operation
    public int startAt(@Param(name = "deadline") final int k) {
        int s;
        do {
            s = t.startAt(BASE + k);
        } while (s == AsyncStatus.BUSY);
        return project(s);
    }

    @Operation
    public int cancelAsync() {
        int s;
        do {
            s = t.cancelAsync();
        } while (s == AsyncStatus.BUSY);
        return project(s);
    }

    @Operation(nonParallelGroup = "host")
    public int close() {
        return t.close();
    }

    /**
     * The host's duty cycle: drain until the cell's block is idle and every offer made so far has
     * been polled, then read the applied deadline.
     */
    @Operation(nonParallelGroup = "host")
    public int drain() {
        for (;;) {
            rt.drain();
            final ControlBlock b = t.block;
            if ((b == null || b.drainStatus == ControlBlock.IDLE) && rt.enqueued.sum() == rt.dequeued.sum()) {
                break;
            }
        }
        final long d = t.deadline();
        return d == Long.MAX_VALUE ? 0 : (int) (d - BASE);
    }

    @Test
    public void modelChecking() {
        new ModelCheckingOptions()
            .iterations(15)
            .invocationsPerIteration(400)
            .threads(3)
            .actorsPerThread(3)
            .actorsBefore(2)
            .actorsAfter(1)
            // the runtime's statistics counters are not under test: no thread switch inside them
            .addGuarantee(forClasses(LongAdder.class.getName(), "java.util.concurrent.atomic.Striped64")
                .allMethods().treatAsAtomic())
            .sequentialSpecification(CellSpec.class)
            .check(getClass());
    }

    /** The sequential specification of one timer cell on a host-driven runtime. */
    public static class CellSpec {
        private boolean initialized;
        private boolean callback;
        /** Newest published, unapplied command: -1 none, 0 cancel, k = startAt(BASE + k). */
        private int pending = -1;
        /** Applied deadline: 0 disarmed, k = armed at BASE + k. */
        private int applied;

        public CellSpec() {
        }

        public int init() {
            if (initialized) {
                return AsyncStatus.BUSY;
            }
            initialized = true;
            callback = false;
            pending = -1;
            applied = 0;
            return AsyncStatus.OK;
        }

        public int setCallback() {
            if (!initialized) {
                return AsyncStatus.NOT_INITIALIZED;
            }
            callback = true;
            return AsyncStatus.OK;
        }

        public int startAt(final int k) {
            if (!initialized) {
                return AsyncStatus.NOT_INITIALIZED;
            }
            if (!callback) {
                return AsyncStatus.NO_CALLBACK;
            }
            pending = k;
            return AsyncStatus.OK;
        }

        public int cancelAsync() {
            if (!initialized) {
                return AsyncStatus.NOT_INITIALIZED;
            }
            pending = 0;
            return AsyncStatus.OK;
        }

        public int close() {
            if (!initialized) {
                return AsyncStatus.NOT_INITIALIZED;
            }
            initialized = false;
            return AsyncStatus.OK;
        }

        public int drain() {
            if (!initialized) {
                return 0;
            }
            if (pending >= 0) {
                applied = pending;
                pending = -1;
            }
            return applied;
        }
    }

    static final Executor NO_EXECUTOR = r -> { };

    /** A scheduler that accepts wake-ups and never runs them (the cells here are never due). */
    static final class StubScheduler extends AbstractExecutorService implements ScheduledExecutorService {
        @Override
        public ScheduledFuture<?> schedule(final Runnable command, final long delay, final TimeUnit unit) {
            return new NeverFuture();
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

    static final class NeverFuture implements ScheduledFuture<Object> {
        private volatile boolean cancelled;

        @Override
        public boolean cancel(final boolean mayInterruptIfRunning) {
            cancelled = true;
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public boolean isDone() {
            return cancelled;
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
}
