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
 * Work runs: a start while the callback is running queues exactly one more run, starts while a
 * run is pending coalesce, and the callback never runs on two threads at once. The executor is a
 * stub that only counts submissions; actors call {@code WorkBlock.run()} as executor threads
 * would, and the arbiter runs whatever is still submitted.
 */
public class WorkStress {
    static final AsyncRuntime RT = StressSupport.hostDriven();

    /** Runs the submitted-but-not-run tasks, as the executor would, until none is pending. */
    static void flush(final WorkBlock b) {
        while (b.run == WorkBlock.W_PENDING) {
            b.run();
        }
    }

    @JCStressTest
    @Description("A run is pending. Executor thread: runs it. Host thread: notes whether the callback"
        + " had begun, starts the work, drains, and then acts as a second executor thread running"
        + " whatever is pending. r1 = callback had begun before the start, r2 = start status,"
        + " r3 = runs in all, r4 = submissions, r5 = most callbacks running at once.")
    @Outcome(id = "0, 0, 1, 1, 1", expect = ACCEPTABLE,
        desc = "The start was applied while the run was still pending: coalesced into it, one run.")
    @Outcome(id = "0, 0, 2, 2, 1", expect = ACCEPTABLE,
        desc = "The start was applied once the run had begun (RUNNING -> RUNNING_AGAIN) or ended:"
        + " exactly one more run, after it.")
    @Outcome(id = "1, 0, 2, 2, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "The start was published while the callback was running: exactly one more run, after it.")
    @Outcome(expect = FORBIDDEN,
        desc = "A start published after the callback began got no extra run; more than one extra run;"
        + " a submission without a run; or two runs at once.")
    @State
    public static class StartVsRun {
        final Owner owner = new Owner();
        final AsyncWork<Owner> w = new AsyncWork<>();
        final WorkBlock b;

        public StartVsRun() {
            w.init(RT, owner);
            w.setCallback(StressSupport.WORK_CB);
            w.start();
            b = (WorkBlock) w.block;
            StressSupport.quiesce(RT, b); // PENDING, submitted once
        }

        @Actor
        public void executor() {
            b.run();
        }

        @Actor
        public void host(final IIIII_Result r) {
            r.r1 = owner.started.get();
            r.r2 = w.start();
            RT.drain();
            flush(b);
        }

        @Arbiter
        public void arbiter(final IIIII_Result r) {
            StressSupport.quiesce(RT, b);
            flush(b);
            r.r3 = owner.started.get();
            r.r4 = owner.submitted.get();
            r.r5 = owner.maxInside;
            StressSupport.closeAndQuiesce(RT, w);
        }
    }

    @JCStressTest
    @Description("One run is pending and two executor threads both pick up a task of the block (a stale"
        + " duplicate task). r1 = runs, r2 = most callbacks running at once, r3 = run state after"
        + " (0 = idle).")
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "Exactly one task won PENDING -> RUNNING and ran.")
    @Outcome(expect = FORBIDDEN, desc = "Two runs, none, an overlap, or a wedged run state.")
    @State
    public static class TwoRunners {
        final Owner owner = new Owner();
        final AsyncWork<Owner> w = new AsyncWork<>();
        final WorkBlock b;

        public TwoRunners() {
            w.init(RT, owner);
            w.setCallback(StressSupport.WORK_CB);
            w.start();
            b = (WorkBlock) w.block;
            StressSupport.quiesce(RT, b);
        }

        @Actor
        public void executor1() {
            b.run();
        }

        @Actor
        public void executor2() {
            b.run();
        }

        @Arbiter
        public void arbiter(final III_Result r) {
            r.r1 = owner.started.get();
            r.r2 = owner.maxInside;
            r.r3 = b.run;
            StressSupport.closeAndQuiesce(RT, w);
        }
    }

    @JCStressTest
    @Description("A run is pending. Executor thread: runs it. Host thread: start, drain, cancelAsync,"
        + " drain (the cancel is the last command). r1, r2 = statuses, r3 = runs in all (after the"
        + " arbiter ran whatever was still pending), r4 = run state after (0 = idle), r5 = most"
        + " callbacks running at once.")
    @Outcome(id = "0, 0, 1, 0, 1", expect = ACCEPTABLE,
        desc = "The pending run ran; the extra run the start queued (if any) was dropped by the cancel.")
    @Outcome(id = "0, 0, 0, 0, 0", expect = ACCEPTABLE_INTERESTING,
        desc = "The cancel was applied before the run began: nothing ran at all.")
    @Outcome(expect = FORBIDDEN,
        desc = "Two runs: an extra run survived the later cancel (a runner's re-submission overwrote the"
        + " cancel's RUNNING_AGAIN -> RUNNING, design-review defect D2); or a wedged run state.")
    @State
    public static class StartCancelVsRun {
        final Owner owner = new Owner();
        final AsyncWork<Owner> w = new AsyncWork<>();
        final WorkBlock b;

        public StartCancelVsRun() {
            w.init(RT, owner);
            w.setCallback(StressSupport.WORK_CB);
            w.start();
            b = (WorkBlock) w.block;
            StressSupport.quiesce(RT, b);
        }

        @Actor
        public void executor() {
            b.run();
        }

        @Actor
        public void host(final IIIII_Result r) {
            r.r1 = w.start();
            RT.drain();
            r.r2 = w.cancelAsync();
            RT.drain();
        }

        @Arbiter
        public void arbiter(final IIIII_Result r) {
            StressSupport.quiesce(RT, b);
            flush(b);
            r.r3 = owner.started.get();
            r.r4 = b.run;
            r.r5 = owner.maxInside;
            StressSupport.closeAndQuiesce(RT, w);
        }
    }
}
