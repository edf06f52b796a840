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
import org.openjdk.jcstress.infra.results.IIIII_Result;

import dev.latchwork.StressSupport.RecBlock;

/**
 * The drain-status machine and the claim, end to end through the runtime's queue: publishers
 * ({@code ControlBlock.publish} then {@code scheduleDrain}) against the host's drain
 * ({@code AsyncRuntime.drain()}: poll, PROCESSING, passes, back to IDLE).
 * <p>
 * These states use <b>one runtime per state</b> (HOST_DRIVEN, stub backends: it owns no thread and
 * no executor, so it is a dozen small objects), because the assertion is about this block's own
 * queue traffic: every offer to the queue ({@code rt.enqueued}) must be matched by exactly one poll
 * ({@code rt.dequeued}); the runtime counts them only because {@code StressSupport} builds it with
 * {@code countQueueTraffic()} (production runtimes keep no counter on the publisher's path). A block offered while still queued would corrupt the intrusive queue
 * (a self-loop makes a poll return it again and again; an overwritten link loses blocks), which
 * shows up as polls != offers. Applied commands are digit strings (see {@link RecBlock}).
 */
public class DrainStress {

    /** Drains until the block is idle; returns nothing, the counters tell. */
    static void settle(final AsyncRuntime rt, final RecBlock b) {
        StressSupport.quiesce(rt, b);
    }

    @JCStressTest
    @Description("Command 1 is queued; the host drains while the writer publishes command 2."
        + " r1 = applied by the racing drain, r2 = applied in all, r3 = offers to the queue, r4 = polls.")
    @Outcome(id = {"12, 12, 1, 1", "2, 2, 1, 1"}, expect = ACCEPTABLE,
        desc = "The publish landed while the block was queued or being drained: the same drain applied"
        + " it (a second pass after PROCESSING_AGAIN, or command 1 superseded). One offer, one poll.")
    @Outcome(id = {"1, 12, 2, 2", "12, 12, 2, 2", "2, 2, 2, 2"}, expect = ACCEPTABLE_INTERESTING,
        desc = "The drain went idle first; the publisher re-offered the block (idle -> queued) and a"
        + " later poll drained it. Two offers, two polls.")
    @Outcome(expect = FORBIDDEN,
        desc = "Lost drain (command 2 never applied), a command applied twice or torn, or offers != polls"
        + " (the block was queued twice, or lost from the queue).")
    @State
    public static class PublishDuringDrain {
        final AsyncRuntime rt = StressSupport.hostDriven();
        final RecBlock b = new RecBlock(rt, true);

        public PublishDuringDrain() {
            b.publish(1); // idle -> queued: offered once
        }

        @Actor
        public void host(final IIII_Result r) {
            rt.drain();
            r.r1 = b.applied;
        }

        @Actor
        public void writer() {
            b.publish(2);
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            settle(rt, b);
            r.r2 = b.applied;
            r.r3 = (int) rt.enqueued.sum();
            r.r4 = (int) rt.dequeued.sum();
        }
    }

    @JCStressTest
    @Description("Two publishers on an idle block; the second is also the host and drains right after."
        + " r1, r2 = statuses (OK 0, BUSY -1), r3 = number of the last command applied,"
        + " r4 = offers to the queue, r5 = polls.")
    @Outcome(id = {"0, 0, 2, 1, 1", "0, 0, 2, 2, 2"}, expect = ACCEPTABLE,
        desc = "Both published; the last-numbered command was applied last. One or two offers (re-offered"
        + " after the drain went idle), each polled once.")
    @Outcome(id = {"0, -1, 1, 1, 1", "-1, 0, 1, 1, 1", "0, -1, 1, 2, 2", "-1, 0, 1, 2, 2"},
        expect = ACCEPTABLE_INTERESTING,
        desc = "One publisher answered BUSY (the latch was held for its whole spin); the other's command applied.")
    @Outcome(expect = FORBIDDEN,
        desc = "The newest command not applied last (lost drain), offers != polls (queued twice), or"
        + " an offer count a single idle -> queued transition per drain cannot produce.")
    @State
    public static class TwoPublishers {
        final AsyncRuntime rt = StressSupport.hostDriven();
        final RecBlock b = new RecBlock(rt, false);

        @Actor
        public void publisher(final IIIII_Result r) {
            r.r1 = b.publish(1);
        }

        @Actor
        public void publisherAndHost(final IIIII_Result r) {
            r.r2 = b.publish(2);
            rt.drain();
        }

        @Arbiter
        public void arbiter(final IIIII_Result r) {
            settle(rt, b);
            r.r3 = b.appliedNums % 10;
            r.r4 = (int) rt.enqueued.sum();
            r.r5 = (int) rt.dequeued.sum();
        }
    }
}
