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
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.IIIII_Result;

import dev.latchwork.StressSupport.Owner;

/**
 * {@code init} races: two inits on one cell (exactly one installs its block), and an init against
 * the runtime's close (the kernel's publish-then-recheck of {@code map->usercnt}: no live timer
 * may be left behind). Statuses: OK 0, BUSY -1, NOT_INITIALIZED -2, CLOSED -5.
 */
public class InitStress {
    static final AsyncRuntime RT = StressSupport.hostDriven();

    @JCStressTest
    @Description("init vs init on one timer cell, each with its own owner. r1, r2 = statuses,"
        + " r3 = whose block is installed (1 or 2; 0 = none).")
    @Outcome(id = {"0, -1, 1", "-1, 0, 2"}, expect = ACCEPTABLE,
        desc = "Exactly one init won the CAS and its block is the one installed; the other got BUSY.")
    @Outcome(expect = FORBIDDEN,
        desc = "Both OK, both BUSY, or the installed block belongs to the loser.")
    @State
    public static class InitVsInit {
        final Owner owner1 = new Owner();
        final Owner owner2 = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();

        public InitVsInit() {
        }

        @Actor
        public void init1(final III_Result r) {
            r.r1 = t.init(RT, owner1, TimerClock.MONOTONIC);
        }

        @Actor
        public void init2(final III_Result r) {
            r.r2 = t.init(RT, owner2, TimerClock.MONOTONIC);
        }

        @Arbiter
        public void arbiter(final III_Result r) {
            final ControlBlock b = t.block;
            r.r3 = b == null ? 0 : b.owner == owner1 ? 1 : b.owner == owner2 ? 2 : -1;
            StressSupport.closeAndQuiesce(RT, t);
        }
    }

    @JCStressTest
    @Description("init vs AsyncRuntime.close() (one runtime per state: the actor closes it; HOST_DRIVEN"
        + " with stub backends, so it owns no thread). Afterwards the arbiter asks the cell."
        + " r1 = init status, r2 = setCallback status, r3 = startAt status, r4 = cell initialized,"
        + " r5 = blocks installed by a CAS (the live counter).")
    @Outcome(id = "0, -5, -5, 1, 1", expect = ACCEPTABLE,
        desc = "init won; the runtime closed after it: every operation on the cell answers CLOSED.")
    @Outcome(id = "-5, -2, -2, 0, 0", expect = ACCEPTABLE,
        desc = "init saw the runtime closed before publishing: the cell stays uninitialized.")
    @Outcome(id = "-5, -2, -2, 0, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "init published its block, then the re-check saw the runtime closed and undid the install"
        + " (the kernel's publish-then-recheck window): the cell is uninitialized.")
    @Outcome(expect = FORBIDDEN,
        desc = "A live cell on a closed runtime (an operation answered OK), or init OK with the cell"
        + " uninitialized, or init CLOSED with a block left installed.")
    @State
    public static class InitVsRuntimeClose {
        final AsyncRuntime rt = StressSupport.hostDriven();
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();

        public InitVsRuntimeClose() {
        }

        @Actor
        public void init(final IIIII_Result r) {
            r.r1 = t.init(rt, owner, TimerClock.MONOTONIC);
        }

        @Actor
        public void closeRuntime() {
            rt.close();
        }

        @Arbiter
        public void arbiter(final IIIII_Result r) {
            r.r2 = t.setCallback(StressSupport.TIMER_CB);
            r.r3 = t.startAt(StressSupport.FAR);
            r.r4 = t.isInitialized() ? 1 : 0;
            r.r5 = (int) rt.live.sum();
        }
    }
}
