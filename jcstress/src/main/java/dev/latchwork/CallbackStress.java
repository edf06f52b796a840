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
import org.openjdk.jcstress.infra.results.III_Result;

import dev.latchwork.StressSupport.Owner;

/**
 * The callback slot and the expiry: concurrent {@code setCallback}s converge to one of them; a
 * synchronous {@code cancel()} that answers WAS_PENDING means the callback does not run, and when
 * it returns no callback is running or will start; an expiry that begins after
 * {@code cancelAsync()} returned invokes nothing. The expiry is played by an actor calling the
 * timer's scheduled wake-up ({@code Wake.run()}, what the scheduler thread would do).
 * Statuses: OK 0, WAS_PENDING 1.
 */
public class CallbackStress {
    static final AsyncRuntime RT = StressSupport.hostDriven();

    @JCStressTest
    @Description("setCallback(cb1) vs setCallback(cb2). r1, r2 = statuses, r3 = installed (1, 2; 0 = none).")
    @Outcome(id = {"0, 0, 1", "0, 0, 2"}, expect = ACCEPTABLE, desc = "Converged to one of the two.")
    @Outcome(expect = FORBIDDEN, desc = "No callback, or one that neither set.")
    @State
    public static class SetVsSet {
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();

        public SetVsSet() {
            t.init(RT, owner, TimerClock.MONOTONIC);
        }

        @Actor
        public void set1(final III_Result r) {
            r.r1 = t.setCallback(StressSupport.TIMER_CB);
        }

        @Actor
        public void set2(final III_Result r) {
            r.r2 = t.setCallback(StressSupport.TIMER_CB_2);
        }

        @Arbiter
        public void arbiter(final III_Result r) {
            final Object cb = t.block.callback;
            r.r3 = cb == StressSupport.TIMER_CB ? 1 : cb == StressSupport.TIMER_CB_2 ? 2 : 0;
            StressSupport.closeAndQuiesce(RT, t);
        }
    }

    /** An armed timer whose wake-up is due: the expiry actors run {@link #wake}. */
    abstract static class DueTimer {
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();
        final TimerBlock b;
        final ExecutorBackend.Wake wake;

        DueTimer() {
            t.init(RT, owner, TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
            t.start(0);
            b = (TimerBlock) t.block;
            StressSupport.quiesce(RT, b); // armed at "now", wake-up scheduled on the stub
            wake = b.wake;
        }
    }

    @JCStressTest
    @Description("Synchronous cancel() vs the expiry of a due timer. r1 = cancel status, r2 = callbacks"
        + " invoked in all, r3 = callbacks running when cancel() returned, r4 = callbacks begun after"
        + " cancel() returned.")
    @Outcome(id = "1, 0, 0, 0", expect = ACCEPTABLE,
        desc = "WAS_PENDING: the cancel came first (the expiry handed over to the drain, or found the"
        + " callback cleared); the callback did not run.")
    @Outcome(id = "0, 1, 0, 0", expect = ACCEPTABLE,
        desc = "The expiry came first and ran the callback; cancel() answered OK after waiting for it.")
    @Outcome(id = "0, 0, 0, 0", expect = ACCEPTABLE_INTERESTING,
        desc = "The expiry consumed the arm, then found the callback already cleared by the cancel: OK,"
        + " nothing ran.")
    @Outcome(expect = FORBIDDEN,
        desc = "WAS_PENDING and the callback ran; or a callback running when cancel() returned, or"
        + " begun after it.")
    @State
    public static class SyncCancelVsExpiry extends DueTimer {
        public SyncCancelVsExpiry() {
        }

        @Actor
        public void expiry() {
            wake.run();
        }

        @Actor
        public void cancel(final IIII_Result r) {
            r.r1 = t.cancel();
            final int f = owner.finished.get();
            final int s = owner.started.get();
            r.r3 = s - f;
            r.r4 = s; // minus s below
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            final int all = owner.started.get();
            r.r4 = all - r.r4;
            r.r2 = all;
            StressSupport.quiesce(RT, b);
            StressSupport.closeAndQuiesce(RT, t);
        }
    }

    @JCStressTest
    @Description("cancelAsync() vs the expiry of a due timer. r1 = the expiry began after cancelAsync()"
        + " had returned, r2 = callbacks invoked, r3 = cancelAsync status.")
    @Outcome(id = {"0, 0, 0", "0, 1, 0"}, expect = ACCEPTABLE,
        desc = "The expiry began before cancelAsync() returned: it may have fired (OK means published,"
        + " not cancelled) or handed over to the drain.")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE,
        desc = "The expiry began after the cancel was published: it saw the command pending, handed over"
        + " to the drain, and nothing ran (last command wins against the expiry).")
    @Outcome(expect = FORBIDDEN,
        desc = "An expiry that began after the cancel was published ran the callback.")
    @State
    public static class AsyncCancelVsExpiry extends DueTimer {
        volatile int cancelled;

        public AsyncCancelVsExpiry() {
        }

        @Actor
        public void expiry(final III_Result r) {
            r.r1 = cancelled;
            wake.run();
        }

        @Actor
        public void cancelAsync(final III_Result r) {
            r.r3 = t.cancelAsync();
            cancelled = 1;
        }

        @Arbiter
        public void arbiter(final III_Result r) {
            r.r2 = owner.started.get();
            StressSupport.quiesce(RT, b);
            StressSupport.closeAndQuiesce(RT, t);
        }
    }
}
