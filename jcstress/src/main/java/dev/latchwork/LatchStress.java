package dev.latchwork;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import dev.latchwork.StressSupport.RecBlock;

/**
 * The command latch: one writer ({@code ControlBlock.publish}) against the reader (the drain pass
 * of {@code BlockDrainStatus.drainLoop}, called as the dispatcher calls it after polling the block).
 * The backend is a {@link RecBlock}: it records which commands were applied, so a torn read
 * (an op, argument or number from two different writes) and a re-applied command are visible.
 * Results are digit strings of the commands applied, in order.
 */
public class LatchStress {
    static final AsyncRuntime RT = StressSupport.hostDriven();

    @JCStressTest
    @Description("Writer publishes commands 2 and 3 while the drain reads the latch (command 1 unconsumed)."
        + " r1 = commands applied by the racing drain, r2 = all commands applied once the block is idle.")
    @Outcome(id = {"1, 13", "3, 3", "13, 13"}, expect = ACCEPTABLE,
        desc = "The drain read a whole command each time; the last one (3) was applied exactly once.")
    @Outcome(id = {"2, 23", "12, 123", "23, 23", "123, 123"}, expect = ACCEPTABLE_INTERESTING,
        desc = "The drain saw command 2 between the writer's two publishes; still whole, in order, once each.")
    @Outcome(expect = FORBIDDEN,
        desc = "Torn command (9), a command applied twice or out of order, or command 3 never applied.")
    @State
    public static class TwoWrites {
        final RecBlock b = new RecBlock(RT, true);

        public TwoWrites() {
            b.fakeQueued(); // as if the dispatcher had it queued: the actor below plays the poll
            b.publish(1);
        }

        @Actor
        public void writer() {
            b.publish(2);
            b.publish(3);
        }

        @Actor
        public void drain(final II_Result r) {
            b.drainAsDispatcher();
            r.r1 = b.applied;
        }

        @Arbiter
        public void arbiter(final II_Result r) {
            StressSupport.quiesce(RT, b);
            r.r2 = b.applied;
        }
    }

    @JCStressTest
    @Description("Command 1 was applied; the writer publishes command 2 while the drain reads the latch."
        + " A drain that samples the sequence mid-write reads slot 1, which still holds command 1:"
        + " the command number must stop it from re-running it (kernel v6 pitfall a)."
        + " r1 = applied by the racing drain, r2 = all applied once idle. BrokenV6ClaimStress is the"
        + " same race against the v6 claim.")
    @Outcome(id = "2, 2", expect = ACCEPTABLE,
        desc = "The drain read command 2 (directly or in a second pass forced by the writer).")
    @Outcome(id = "0, 2", expect = ACCEPTABLE_INTERESTING,
        desc = "The drain found nothing new (before the write, or mid-write: stale slot ignored); the"
        + " writer re-queued the block and the next drain applied 2.")
    @Outcome(expect = FORBIDDEN,
        desc = "Command 1 applied again, a torn command (9), or command 2 lost (no drain after it).")
    @State
    public static class AfterConsumed {
        final RecBlock b = new RecBlock(RT, true);

        public AfterConsumed() {
            b.fakeQueued();
            b.publish(1);
            b.drainAsDispatcher(); // applies 1 and goes idle
            b.applied = 0;
            b.fakeQueued();
        }

        @Actor
        public void writer() {
            b.publish(2);
        }

        @Actor
        public void drain(final II_Result r) {
            b.drainAsDispatcher();
            r.r1 = b.applied;
        }

        @Arbiter
        public void arbiter(final II_Result r) {
            StressSupport.quiesce(RT, b);
            r.r2 = b.applied;
        }
    }
}
