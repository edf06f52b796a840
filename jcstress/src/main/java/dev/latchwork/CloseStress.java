package dev.latchwork;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.II_Result;

import dev.latchwork.StressSupport.Owner;

/**
 * A cell's {@code close()} (cancel-and-free) against what can slip in beside it: a start whose
 * drain arms the backend (kernel v6 pitfall b: an arm after the destroy-time cancel), an expiry,
 * a work run, and a {@code setCallback}. Statuses: OK 0, BUSY -1, NOT_INITIALIZED -2, NO_CALLBACK -3,
 * DEAD -4.
 */
public class CloseStress {
    static final AsyncRuntime RT = StressSupport.hostDriven();
    static final AsyncRuntime INLINE = StressSupport.inline();

    /** 1 if anything is still armed on the block or scheduled on the backend for it. */
    static int armed(final TimerBlock b, final Owner o) {
        return b.target != TimerBlock.NEVER || b.wake != null || o.liveWakeups() != 0 ? 1 : 0;
    }

    @JCStressTest
    @Description("HOST_DRIVEN: the host thread re-arms the timer (earlier, so the backend is called) and"
        + " drains at once, while another thread closes the cell. r1 = start status, r2 = close status,"
        + " r3 = armed after everything settled (target, wake-up, or a scheduled backend task), r4 = the"
        + " block died and ran its final cancel.")
    @Outcome(id = {"0, 0, 0, 1", "-4, 0, 0, 1", "-2, 0, 0, 1"}, expect = ACCEPTABLE,
        desc = "Start published before the detach (OK), refused by the dying block (DEAD) or after it"
        + " (NOT_INITIALIZED); in every case nothing is left armed and the block is finalized.")
    @Outcome(expect = FORBIDDEN,
        desc = "An arm survived the destroy-time cancel (r3 = 1), the block never died (r4 = 0), or the"
        + " start answered NO_CALLBACK (-3) for a callback only the close cleared (fixed in 18e086c).")
    @State
    public static class StartVsClose {
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();
        final TimerBlock b;

        public StartVsClose() {
            t.init(RT, owner, TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
            t.startAt(StressSupport.FAR_2);
            b = (TimerBlock) t.block;
            StressSupport.quiesce(RT, b); // armed at FAR_2, one wake-up scheduled
        }

        @Actor
        public void startAndDrain(final IIII_Result r) {
            r.r1 = t.startAt(StressSupport.FAR); // earlier: cancels the old wake-up, schedules a new one
            RT.drain();
        }

        @Actor
        public void close(final IIII_Result r) {
            r.r2 = t.close();
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            StressSupport.quiesce(RT, b);
            r.r3 = armed(b, owner);
            r.r4 = b.finalized && (b.state & ControlBlock.COUNT_MASK) == 0 ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("INLINE: the starting thread applies its own start (arming the backend) while another"
        + " thread closes the cell and applies the destroy-time cancel itself. r1..r4 as in StartVsClose.")
    @Outcome(id = {"0, 0, 0, 1", "-4, 0, 0, 1", "-2, 0, 0, 1"}, expect = ACCEPTABLE,
        desc = "Whatever the order, nothing is left armed and the block is finalized.")
    @Outcome(expect = FORBIDDEN,
        desc = "An arm survived the destroy-time cancel (r3 = 1), the block never died (r4 = 0), or"
        + " NO_CALLBACK (-3) for a callback only the close cleared.")
    @State
    public static class StartVsCloseInline {
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();
        final TimerBlock b;

        public StartVsCloseInline() {
            t.init(INLINE, owner, TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
            t.startAt(StressSupport.FAR_2); // applied inline
            b = (TimerBlock) t.block;
            StressSupport.quiesce(INLINE, b);
        }

        @Actor
        public void start(final IIII_Result r) {
            r.r1 = t.startAt(StressSupport.FAR);
        }

        @Actor
        public void close(final IIII_Result r) {
            r.r2 = t.close();
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            StressSupport.quiesce(INLINE, b);
            r.r3 = armed(b, owner);
            r.r4 = b.finalized && (b.state & ControlBlock.COUNT_MASK) == 0 ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("A due timer's wake-up runs (the scheduler thread) while the cell is closed."
        + " r1 = the expiry began after close() had returned, r2 = callbacks invoked.")
    @Outcome(id = {"0, 0", "0, 1"}, expect = ACCEPTABLE,
        desc = "The expiry began before close() returned: the callback may run (or be refused).")
    @Outcome(id = "1, 0", expect = ACCEPTABLE,
        desc = "The expiry began after close() returned and invoked nothing.")
    @Outcome(expect = FORBIDDEN,
        desc = "A callback was invoked by an expiry that began after close() returned.")
    @State
    public static class ExpiryVsClose {
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();
        final TimerBlock b;
        final ExecutorBackend.Wake wake;
        volatile int closed;

        public ExpiryVsClose() {
            t.init(RT, owner, TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
            t.start(0);
            b = (TimerBlock) t.block;
            StressSupport.quiesce(RT, b);
            wake = b.wake; // due at once
        }

        @Actor
        public void expiry(final II_Result r) {
            r.r1 = closed;
            wake.run();
        }

        @Actor
        public void close() {
            t.close();
            closed = 1;
        }

        @Arbiter
        public void arbiter(final II_Result r) {
            r.r2 = owner.started.get();
            StressSupport.quiesce(RT, b); // the detached block's final drain
        }
    }

    @JCStressTest
    @Description("A queued work run starts (the executor thread) while the cell is closed."
        + " r1 = the run began after close() had returned, r2 = callbacks invoked.")
    @Outcome(id = {"0, 0", "0, 1"}, expect = ACCEPTABLE,
        desc = "The run began before close() returned: the callback may run (or be refused).")
    @Outcome(id = "1, 0", expect = ACCEPTABLE,
        desc = "The run began after close() returned and invoked nothing.")
    @Outcome(expect = FORBIDDEN,
        desc = "A work callback was invoked by a run that began after close() returned.")
    @State
    public static class WorkRunVsClose {
        final Owner owner = new Owner();
        final AsyncWork<Owner> w = new AsyncWork<>();
        final WorkBlock b;
        volatile int closed;

        public WorkRunVsClose() {
            w.init(RT, owner);
            w.setCallback(StressSupport.WORK_CB);
            w.start();
            b = (WorkBlock) w.block;
            StressSupport.quiesce(RT, b); // PENDING, submitted to the stub executor
        }

        @Actor
        public void run(final II_Result r) {
            r.r1 = closed;
            b.run();
        }

        @Actor
        public void close() {
            w.close();
            closed = 1;
        }

        @Arbiter
        public void arbiter(final II_Result r) {
            r.r2 = owner.started.get();
            StressSupport.quiesce(RT, b); // the detached block's final drain
        }
    }

    @JCStressTest
    @Description("setCallback(cb2) vs close() on an armed, due timer; then the old block's wake-up"
        + " fires before any drain has processed the close. r1 = setCallback status, r2 = close"
        + " status, r3 = a callback is still set on the detached block, r4 = callbacks invoked by"
        + " that expiry.")
    @Outcome(id = "0, 0, 0, 0", expect = ACCEPTABLE,
        desc = "setCallback reached the block; the detach (or setCallback's own DETACHED check) cleared"
        + " it; the expiry invoked nothing.")
    @Outcome(id = "-2, 0, 0, 0", expect = ACCEPTABLE,
        desc = "setCallback came after the close: NOT_INITIALIZED; the expiry invoked nothing.")
    @Outcome(expect = FORBIDDEN,
        desc = "An expiry on the detached block invoked a callback, or a callback survived on the"
        + " detached block (r3 = 1: the DESIGN 11.1 window, closed by 18e086c).")
    @State
    public static class SetCallbackVsClose {
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();
        final TimerBlock b;
        final ExecutorBackend.Wake wake;

        public SetCallbackVsClose() {
            t.init(RT, owner, TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
            t.start(0);
            b = (TimerBlock) t.block;
            StressSupport.quiesce(RT, b);
            wake = b.wake;
        }

        @Actor
        public void setCallback(final IIII_Result r) {
            r.r1 = t.setCallback(StressSupport.TIMER_CB_2);
        }

        @Actor
        public void close(final IIII_Result r) {
            r.r2 = t.close();
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            r.r3 = b.callback != null ? 1 : 0;
            wake.run(); // HOST_DRIVEN: nobody drained the close yet, so the wake-up is still current
            r.r4 = owner.started.get();
            StressSupport.quiesce(RT, b);
        }
    }
}
