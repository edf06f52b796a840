package dev.latchwork;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.VarHandle;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

import dev.latchwork.StressSupport.RecBlock;

/**
 * <b>Negative control, expected to FAIL.</b> The same race as {@link LatchStress.AfterConsumed},
 * but the reader claims the way the kernel's v6 series did: by latch sequence, with no command
 * number. The writer is the real {@code ControlBlock.publish}; the reader below is a copy of the
 * drain's latch read with the v6 claim step. A reader that samples the odd sequence {@code 4k-3}
 * (the writer owns the latch and is writing slot 0) reads slot 1, which holds command
 * {@code k-1}; the sequence is newer than the last one claimed, so it claims it and re-applies a
 * command that was already consumed. This test exists to show that the race window is reachable
 * on the machine running the suite (so the passing {@code LatchStress.AfterConsumed} is not
 * vacuous) and that jcstress reports it. The default test selection excludes every class whose
 * name contains "Broken"; run it alone with {@code -t BrokenV6ClaimStress}, expecting a non-zero
 * exit.
 */
@JCStressTest
@Description("NEGATIVE CONTROL (expected to fail): v6 claim-by-sequence reader vs the real latch writer."
    + " Command 1 was consumed (at sequence 4); the writer publishes command 2. r1 = commands the"
    + " v6 reader applied.")
@Outcome(id = "0", expect = ACCEPTABLE, desc = "Read sequence 4: nothing newer than the last claim.")
@Outcome(id = "2", expect = ACCEPTABLE, desc = "Read command 2 (sequence 4k-2 or 4k).")
@Outcome(id = "1", expect = FORBIDDEN,
    desc = "The v6 bug: sampled the odd sequence 5, read slot 1 (command 1) and re-applied it.")
@Outcome(expect = FORBIDDEN, desc = "Torn command (9) or anything else.")
@State
public class BrokenV6ClaimStress {
    static final AsyncRuntime RT = StressSupport.hostDriven();

    final RecBlock b = new RecBlock(RT, false);
    /** v6: the sequence of the last command claimed (instead of a command number). */
    long claimedSeq;

    public BrokenV6ClaimStress() {
        b.fakeQueued(); // the writer never queues the block; only the reader below reads it
        b.publish(1);
        brokenPass();   // claims command 1 at sequence 4
        b.applied = 0;
    }

    /** The drain's latch read (copied from BlockDrain.passRetained) with kernel v6's claim. */
    void brokenPass() {
        long s = (long) ControlBlock.SEQ.getVolatile(b);
        int op;
        long arg;
        for (int i = 0; ; i++) {
            if (i > 0) {
                s = (long) ControlBlock.SEQ.getAcquire(b);
            }
            if ((s & 3) == 1) {
                op = (int) ControlBlock.OP1.getOpaque(b);
                arg = (long) ControlBlock.ARG1.getOpaque(b);
            } else {
                op = (int) ControlBlock.OP0.getOpaque(b);
                arg = (long) ControlBlock.ARG0.getOpaque(b);
            }
            VarHandle.loadLoadFence();
            if ((long) ControlBlock.SEQ.getOpaque(b) == s) {
                break;
            }
        }
        if (s > claimedSeq) { // BROKEN: a sequence, not the command's own number
            claimedSeq = s;
            b.apply(op, arg, 0);
        }
    }

    @Actor
    public void writer() {
        b.publish(2);
    }

    @Actor
    public void reader() {
        brokenPass();
    }

    @Arbiter
    public void arbiter(final I_Result r) {
        r.r1 = b.applied;
    }
}
