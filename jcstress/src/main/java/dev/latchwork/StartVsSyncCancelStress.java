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
 * Hardening #4, contract 2.2 ({@code cancel()} "clears the callback (a following start answers
 * NO_CALLBACK until setCallback), cancels a pending expiry") with 3.1 (last command wins): a
 * {@code start} racing a synchronous {@code cancel()} must never leave the timer armed with no
 * callback. On the original code {@code publish} checks the callback before it wins the latch
 * and {@code cancelSync} clears the callback before it takes the latch: a start that checked,
 * then spun on the latch the cancel held, publishes after the cancel and is applied. The timer is
 * then armed ({@code isArmed()}, counted in {@code timersArmed}, the next {@code cancel()} says
 * WAS_PENDING) with a null callback. Statuses: OK 0, WAS_PENDING 1, BUSY -1, NO_CALLBACK -3.
 */
@JCStressTest
@Description("A timer with a callback, not armed. Actor 1: start(FAR). Actor 2: cancel(). The arbiter"
    + " drains the HOST_DRIVEN runtime. r1 = start status, r2 = cancel status, r3 = after the drain:"
    + " 1 if armed, + 2 if a callback is installed.")
@Outcome(id = {"0, 1, 0", "-1, 0, 0", "-1, 1, 0"}, expect = ACCEPTABLE,
    desc = "The start was published first (or answered BUSY): the cancel superseded it; nothing armed.")
@Outcome(id = "-3, 0, 0", expect = ACCEPTABLE,
    desc = "The cancel cleared the callback first: the start answered NO_CALLBACK; nothing armed.")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE_INTERESTING,
    desc = "Both answered OK and nothing is armed (a fixed implementation may order it so).")
@Outcome(id = {"0, 0, 1", "0, 1, 1"}, expect = FORBIDDEN,
    desc = "Hardening #4: the start answered OK, the cancel returned, and after the drain the timer"
    + " is armed with no callback (the start checked the callback before the cancel cleared it and"
    + " published after the cancel).")
@Outcome(expect = FORBIDDEN, desc = "Anything else: armed with no callback, or a callback that survived the cancel.")
@State
public class StartVsSyncCancelStress {
    static final AsyncRuntime RT = StressSupport.hostDriven();

    final Owner owner = new Owner();
    final AsyncTimer<Owner> t = new AsyncTimer<>();
    final TimerBlock b;

    public StartVsSyncCancelStress() {
        t.init(RT, owner, TimerClock.MONOTONIC);
        t.setCallback(StressSupport.TIMER_CB);
        b = (TimerBlock) t.block;
    }

    @Actor
    public void start(final III_Result r) {
        r.r1 = t.start(StressSupport.FAR);
    }

    @Actor
    public void cancel(final III_Result r) {
        r.r2 = t.cancel(); // nothing runs: it returns without a drain
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        StressSupport.quiesce(RT, b);
        r.r3 = (t.isArmed() ? 1 : 0) + (b.callback != null ? 2 : 0);
        StressSupport.closeAndQuiesce(RT, t);
    }
}
