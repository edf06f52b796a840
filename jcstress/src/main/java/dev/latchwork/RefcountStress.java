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
import org.openjdk.jcstress.infra.results.IIII_Result;

import dev.latchwork.StressSupport.RecBlock;

/**
 * The control block's refcount: increment-if-not-zero ({@code tryRetain}) against the release that
 * drops the last reference. Zero is terminal: once reached, no retain succeeds, nothing is
 * applied, and the final cancel ({@code onDead}) runs exactly once.
 */
public class RefcountStress {
    static final AsyncRuntime RT = StressSupport.hostDriven();

    @JCStressTest
    @Description("Count 1. One thread retains-if-not-zero (and releases if it got it), the other drops"
        + " the last reference. r1 = retained, r2 = a retain after both succeeds, r3 = final count,"
        + " r4 = final cancels run (onDead).")
    @Outcome(id = "1, 0, 0, 1", expect = ACCEPTABLE,
        desc = "Retained before the count reached zero; its own release was then the last.")
    @Outcome(id = "0, 0, 0, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "The count was already zero: the retain was refused (dead stays dead).")
    @Outcome(expect = FORBIDDEN,
        desc = "A dead block was retained again (count rose from zero), the count is off, or the final"
        + " cancel ran zero or two times.")
    @State
    public static class RetainVsLastRelease {
        final RecBlock b = new RecBlock(RT, true);

        public RetainVsLastRelease() {
        }

        @Actor
        public void retain(final IIII_Result r) {
            if (b.tryRetain()) {
                r.r1 = 1;
                b.release();
            }
        }

        @Actor
        public void lastRelease() {
            b.release();
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            StressSupport.quiesce(RT, b); // the last release queued the block: its drain runs onDead
            r.r2 = b.tryRetain() ? 1 : 0;
            r.r3 = b.state & ControlBlock.COUNT_MASK;
            r.r4 = b.finalCancels;
        }
    }

    @JCStressTest
    @Description("Command 1 is pending and the dispatcher drains the block while the cell closes it"
        + " (detach: DETACHED and the cell's reference dropped in one step). r1 = commands applied,"
        + " r2 = finalized (onDead ran), r3 = final cancels, r4 = commands applied with the count at zero.")
    @Outcome(id = "1, 1, 1, 0", expect = ACCEPTABLE,
        desc = "The drain retained the block and claimed command 1 before it saw the detach; the"
        + " last release then led to exactly one final cancel.")
    @Outcome(id = "0, 1, 1, 0", expect = ACCEPTABLE_INTERESTING,
        desc = "The drain saw the block detached (or already dead) and applied nothing.")
    @Outcome(expect = FORBIDDEN,
        desc = "A command applied on a dead block, no final cancel, or two of them.")
    @State
    public static class DrainVsDetach {
        final RecBlock b = new RecBlock(RT, true);

        public DrainVsDetach() {
            b.fakeQueued();
            b.publish(1);
        }

        @Actor
        public void drain() {
            b.drainAsDispatcher();
        }

        @Actor
        public void detach() {
            b.detach();
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            StressSupport.quiesce(RT, b);
            r.r1 = b.applied;
            r.r2 = b.finalized ? 1 : 0;
            r.r3 = b.finalCancels;
            r.r4 = b.deadApplies;
        }
    }
}
