package dev.latchwork;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * <b>Negative controls, expected to FAIL.</b> Small models of the sleep/wake handshake that
 * {@link SleepWakeStress} checks on the real runtime, each with one deliberate mistake, on a real
 * {@link BlockQueue}. The idle side decides to sleep; the publisher offers a node and wakes the
 * sleeper if it finds the flag up. A lost wake-up is: the idle side slept, nobody woke it, and a
 * node is queued. They show that jcstress on this machine reaches the window that the correct
 * protocol closes, so a passing {@code SleepWakeStress} is not vacuous. Excluded from the normal
 * selection (the name contains "Broken"); run by {@code -Pjcstress-negative}, alone with
 * {@code -Djcstress.negative.tests=BrokenSleepHandshakeStress}, expecting jcstress to exit 1.
 * <p>
 * Results: r1 = the idle side went to sleep, r2 = the publisher woke it, r3 = a node is queued
 * after both.
 */
public class BrokenSleepHandshakeStress {

    static final class N extends BlockQueue.Node {
    }

    @JCStressTest
    @Description("NEGATIVE CONTROL (expected to fail): the idle side checks the queue BEFORE raising the"
        + " flag (volatile flag, wrong order).")
    @Outcome(id = {"0, 0, 1", "1, 1, 1"}, expect = ACCEPTABLE,
        desc = "The idle side saw the node and stayed awake, or the publisher saw the flag and woke it.")
    @Outcome(id = "1, 0, 1", expect = FORBIDDEN,
        desc = "LOST WAKE-UP: the idle side checked an empty queue, the publisher offered and read the"
        + " flag still down, then the idle side raised it and slept.")
    @Outcome(expect = FORBIDDEN, desc = "Anything else.")
    @State
    public static class CheckThenFlag {
        final BlockQueue q = new BlockQueue();
        final N node = new N();
        volatile int sleeping;
        int slept;
        int woke;

        @Actor
        public void idle() {
            if (q.looksEmpty()) {   // BROKEN: the re-check must come after the flag is raised
                sleeping = 1;
                slept = 1;
            }
        }

        @Actor
        public void publisher() {
            q.offer(node);
            if (sleeping == 1) {
                sleeping = 0;
                woke = 1;
            }
        }

        @Arbiter
        public void arbiter(final III_Result r) {
            r.r1 = slept;
            r.r2 = woke;
            r.r3 = q.looksEmpty() ? 0 : 1;
        }
    }

    @JCStressTest
    @Description("NEGATIVE CONTROL (expected to fail): the right order (raise the flag, then re-check the"
        + " queue), but a plain flag: the store can pass the queue's loads (store buffer, x86 included).")
    @Outcome(id = {"0, 0, 1", "0, 1, 1", "1, 1, 1"}, expect = ACCEPTABLE,
        desc = "The re-check saw the node (the idle side stayed awake), or the publisher saw the flag.")
    @Outcome(id = "1, 0, 1", expect = FORBIDDEN,
        desc = "LOST WAKE-UP: the flag store was still buffered when the publisher read it, and the"
        + " re-check read the queue before the offer.")
    @Outcome(expect = FORBIDDEN, desc = "Anything else.")
    @State
    public static class PlainFlag {
        final BlockQueue q = new BlockQueue();
        final N node = new N();
        int sleeping;             // BROKEN: must be volatile (a store-load fence after raising it)
        int slept;
        int woke;

        @Actor
        public void idle() {
            sleeping = 1;
            if (q.looksEmpty()) {
                slept = 1;
            } else {
                sleeping = 0;
            }
        }

        @Actor
        public void publisher() {
            q.offer(node);        // a full fence, as in the real publisher
            if (sleeping == 1) {
                sleeping = 0;
                woke = 1;
            }
        }

        @Arbiter
        public void arbiter(final III_Result r) {
            r.r1 = slept;
            r.r2 = woke;
            r.r3 = q.looksEmpty() ? 0 : 1;
        }
    }
}
