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

import dev.latchwork.StressSupport.Owner;

/**
 * Two writers on one timer cell: the latch's single-writer flag lets one publish at a time; the
 * other waits a bounded spin and then answers BUSY (its command is treated as superseded). The
 * applied state, read after a drain, must be exactly one writer's command. Real {@link AsyncTimer}
 * on a shared HOST_DRIVEN runtime with a stub scheduler; the arbiter drains. Statuses: OK = 0,
 * BUSY = -1. r3: 1 = writer 1's deadline applied, 2 = writer 2's, 0 = disarmed, -1 = anything else.
 */
public class WriterStress {
    static final AsyncRuntime RT = StressSupport.hostDriven();

    static int applied(final AsyncTimer<Owner> t, final long d1, final long d2) {
        final long d = t.deadline();
        return d == d1 ? 1 : d == d2 ? 2 : d == TimerBlock.NEVER ? 0 : -1;
    }

    @JCStressTest
    @Description("startAt(D1) vs startAt(D2) on one armed-never cell; r1, r2 = statuses, r3 = deadline applied.")
    @Outcome(id = {"0, 0, 1", "0, 0, 2"}, expect = ACCEPTABLE,
        desc = "Both published; the later one won (last command wins).")
    @Outcome(id = {"0, -1, 1", "-1, 0, 2"}, expect = ACCEPTABLE_INTERESTING,
        desc = "One writer found the latch held for the whole bounded spin and answered BUSY; the other's command applied.")
    @Outcome(expect = FORBIDDEN,
        desc = "Both BUSY, a BUSY writer's command applied, nothing applied, or a deadline neither wrote (torn).")
    @State
    public static class StartAtVsStartAt {
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();

        public StartAtVsStartAt() {
            t.init(RT, owner, TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
        }

        @Actor
        public void writer1(final III_Result r) {
            r.r1 = t.startAt(StressSupport.FAR);
        }

        @Actor
        public void writer2(final III_Result r) {
            r.r2 = t.startAt(StressSupport.FAR_2);
        }

        @Arbiter
        public void arbiter(final III_Result r) {
            StressSupport.quiesce(RT, t.block);
            r.r3 = applied(t, StressSupport.FAR, StressSupport.FAR_2);
            StressSupport.closeAndQuiesce(RT, t);
        }
    }

    @JCStressTest
    @Description("startAt(D1) vs cancelAsync() on a cell armed at D2; r1, r2 = statuses, r3 = state applied"
        + " (1 = D1, 0 = cancelled, 2 = still D2).")
    @Outcome(id = {"0, 0, 1", "0, 0, 0"}, expect = ACCEPTABLE,
        desc = "Both published; the later one won: armed at D1, or cancelled.")
    @Outcome(id = {"0, -1, 1", "-1, 0, 0"}, expect = ACCEPTABLE_INTERESTING,
        desc = "One writer answered BUSY; the other's command applied.")
    @Outcome(expect = FORBIDDEN,
        desc = "The old arm (2) survived a published command, a BUSY command applied, or a torn command"
        + " (a start with the cancel's argument, -1).")
    @State
    public static class StartAtVsCancel {
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();

        public StartAtVsCancel() {
            t.init(RT, owner, TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
            t.startAt(StressSupport.FAR_2);
            StressSupport.quiesce(RT, t.block);
        }

        @Actor
        public void starter(final III_Result r) {
            r.r1 = t.startAt(StressSupport.FAR);
        }

        @Actor
        public void canceller(final III_Result r) {
            r.r2 = t.cancelAsync();
        }

        @Arbiter
        public void arbiter(final III_Result r) {
            StressSupport.quiesce(RT, t.block);
            r.r3 = applied(t, StressSupport.FAR, StressSupport.FAR_2);
            StressSupport.closeAndQuiesce(RT, t);
        }
    }
}
