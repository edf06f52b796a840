package dev.latchwork;

import static org.jetbrains.lincheck.datastructures.ManagedStrategyGuaranteeKt.forClasses;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of one control block's latch, claim and drain-status machine, through
 * the runtime's real queue: publishers ({@code ControlBlock.publish}, then {@code scheduleDrain})
 * and drain requests without a command (what a wake-up's hand-over or a last release does), against
 * the host's {@code AsyncRuntime.drain()} (poll, PROCESSING, passes, back to IDLE).
 * <p>
 * Sequential specification ({@link Spec}): {@code publish(k)} makes {@code k} the newest command;
 * {@code drain()} applies the newest command published and answers the last applied argument
 * (0 before any). So a drain that starts after a publish completed must show that command or a
 * newer one: a lost drain (a command published while a pass runs, never applied) is a
 * linearizability failure. The block's backend also fails the run if a command is applied twice or
 * out of order, and {@link #validate()} checks, after each scenario and a final drain, that every
 * offer to the queue was polled exactly once (a block queued twice would corrupt the intrusive
 * queue), that the block went back to IDLE, and that the newest command published was claimed.
 * <p>
 * Scope: {@code HOST_DRIVEN} only. In {@code INLINE} and {@code DEFERRED} modes the runtime owns a
 * dispatcher thread, which Lincheck does not control; the jcstress {@code CloseStress.StartVsCloseInline}
 * test covers the inline path. BUSY is retried by the publisher (jcstress {@code WriterStress} covers it).
 */
@Param(name = "k", gen = IntGen.class, conf = "1:3")
public class LincheckDrainStatusTest {
    private static final Executor NO_EXECUTOR = r -> { };

    private final AsyncRuntime rt = AsyncRuntime.builder()
        .dispatchMode(DispatchMode.HOST_DRIVEN)
        .workExecutor(NO_EXECUTOR)
        .errorHandler(t -> { throw new AssertionError(t); })
        .countQueueTraffic() // every offer and poll counted: the tests compare them
        .build();
    private final Block b = new Block(rt);

    public LincheckDrainStatusTest() {
    }

    /** A block whose backend records the applied commands and flags re-application. */
    static final class Block extends ControlBlock {
        volatile int lastApplied;
        long lastNum;
        volatile String error;

        Block(final AsyncRuntime rt) {
            super(rt, new Object(), null);
        }

        @Override
        void apply(final int op, final long arg, final long num) {
            if (num <= lastNum) {
                error = "command " + num + " applied after command " + lastNum;
            }
            lastNum = num;
            lastApplied = (int) arg;
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
        }

        @Override
        boolean isPendingOnBackend() {
            return false;
        }
    }

    @Operation
    public int publish(@Param(name = "k") final int k) {
        int s;
        do {
            s = b.publish(ControlBlock.OP_START_AT, k, false);
        } while (s == AsyncStatus.BUSY);
        return s;
    }

    /** A drain request without a command (a wake-up handing over, a last release). */
    @Operation
    public void request() {
        b.requestDrain();
    }

    /**
     * The host's duty cycle: drain until the block is idle and every offer made so far has been
     * polled. One {@code rt.drain()} is not enough: a publisher that finds the block QUEUED returns
     * at once, trusting the thread that moved it IDLE to QUEUED to offer it; until that thread
     * does, a drain finds the queue empty (Lincheck found this interleaving: publish(2) completes,
     * a drain() that starts after it still answers 0). The command is not lost (the next drain
     * applies it), but a single drain() call is not linearizable with publishes.
     */
    @Operation(nonParallelGroup = "host")
    public int drain() {
        do {
            rt.drain();
        } while (b.drainStatus != ControlBlock.IDLE || rt.enqueued.sum() != rt.dequeued.sum());
        final String e = b.error;
        if (e != null) {
            throw new AssertionError(e);
        }
        return b.lastApplied;
    }

    @Validate
    public void validate() {
        drain();
        assertEquals(rt.enqueued.sum(), rt.dequeued.sum(), "every offer polled exactly once");
        assertEquals(ControlBlock.IDLE, b.drainStatus, "drain status back to IDLE");
        assertEquals(b.seq >>> 2, b.consumed, "the newest command published was claimed (no lost drain)");
    }

    @Test
    public void modelChecking() {
        new ModelCheckingOptions()
            .iterations(10)
            .invocationsPerIteration(250)
            .threads(2)
            .actorsPerThread(4)
            .actorsBefore(1)
            .actorsAfter(0)
            // the runtime's statistics counters are not under test: no thread switch inside them
            .addGuarantee(forClasses(LongAdder.class.getName(), "java.util.concurrent.atomic.Striped64")
                .allMethods().treatAsAtomic())
            .sequentialSpecification(Spec.class)
            .check(getClass());
    }

    /** Sequential specification: the newest command wins; a drain applies it. */
    public static class Spec {
        private int latest;
        private int applied;

        public Spec() {
        }

        public int publish(final int k) {
            latest = k;
            return AsyncStatus.OK;
        }

        public void request() {
        }

        public int drain() {
            applied = latest;
            return applied;
        }
    }
}
