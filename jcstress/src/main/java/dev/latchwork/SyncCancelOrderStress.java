package dev.latchwork;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import dev.latchwork.StressSupport.Owner;

/**
 * Hardening #2, contract 3.4 (sync cancel is exact: after {@code cancel()} returns, the callback
 * will not run until {@code setCallback} + {@code start} are called again). On the original code a
 * sync canceller stores its command number in {@code syncCancel} after it released the latch
 * ({@code ControlBlock.publishCancelBlocking}), so an older canceller stalled between the two can
 * overwrite a newer canceller's number; a run queued by a start between the two cancels then
 * passes the gate {@code startNum > syncCancel} and runs a callback installed later by a bare
 * {@code setCallback}, after the newer cancel returned.
 * <p>
 * The window is the few instructions between the latch release and the store: the race needs
 * the older canceller to be descheduled exactly there while the other actor runs a whole
 * setCallback, start, drain and cancel. It is rare: one quick-mode run on 2 CPUs on the original
 * code showed the FORBIDDEN outcome once in about 18.4 million samples, so a pass of this test
 * on its own proves little; it states the rule for the fixed code. (A deterministic reproduction
 * needs a pause point between the latch release and the store, which the original code does not
 * have: see HardeningTest's notes for #2.)
 */
@JCStressTest
@Description("A work cell with a callback. Actor A: cancel(). Actor U: setCallback, start, drain, then"
    + " cancel() (canceller B; two actors, as jcstress schedules no more on 2 CPUs). The arbiter installs a second callback with setCallback only (no start), then runs"
    + " the executor's queued task without draining. r1 = runs of the second callback, r2 = the two"
    + " cancels' statuses were OK/WAS_PENDING (1).")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The queued run (if any) obeyed the last sync cancel.")
@Outcome(id = "1, 1", expect = FORBIDDEN,
    desc = "Hardening #2: after both sync cancels returned, a bare setCallback made a queued run invoke"
    + " the new callback (an older cancel's number overwrote the newer one).")
@Outcome(expect = FORBIDDEN, desc = "A sync cancel answered something else.")
@State
public class SyncCancelOrderStress {
    static final AsyncRuntime RT = StressSupport.hostDriven();

    final Owner owner = new Owner();
    final Owner second = new Owner();
    final AsyncWork<Owner> w = new AsyncWork<>();
    final WorkBlock b;
    volatile int statusA;
    volatile int statusB;

    public SyncCancelOrderStress() {
        w.init(RT, owner);
        w.setCallback(StressSupport.WORK_CB);
        b = (WorkBlock) w.block;
    }

    @Actor
    public void cancelA() {
        statusA = w.cancel();
    }

    @Actor
    public void userThenCancelB() {
        w.setCallback(StressSupport.WORK_CB);
        w.start();
        RT.drain();
        statusB = w.cancel();
    }

    @Arbiter
    public void arbiter(final II_Result r) {
        final int a = statusA;
        final int c = statusB;
        r.r2 = (a == AsyncStatus.OK || a == AsyncStatus.WAS_PENDING) && (c == AsyncStatus.OK || c == AsyncStatus.WAS_PENDING) ? 1 : 0;
        // Only a callback installed after both cancels returned, no start: a queued run must not call it.
        w.setCallback((o, wk) -> second.callback());
        if (b.run == WorkBlock.W_PENDING) {
            b.run(); // the executor's queued task, before any drain
        }
        r.r1 = second.started.get();
        StressSupport.quiesce(RT, b);
        while (b.run == WorkBlock.W_PENDING) {
            b.run();
        }
        StressSupport.closeAndQuiesce(RT, w);
    }
}
