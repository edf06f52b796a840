package dev.latchwork;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.TimeUnit;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import dev.latchwork.StressSupport.Owner;

/**
 * Timers on the built-in wheel against the commands published beside the thread that owns it.
 * <p>
 * HOST_DRIVEN tests: each state has its own runtime (a wheel with a 1 µs tick, a stub work
 * executor, no thread), so one state's drain never fires another state's timer and
 * {@code stats().timersArmed()} is this state's. The timer's {@code start(0)} is queued when the
 * actors begin; the host's {@code drain()} applies it, files it on the wheel and, the deadline being
 * past, fires it in the same call, while the other actor publishes. The host reads the publisher's
 * "returned" flag just before it calls {@code drain()}: if it was set, the command returned before the
 * drain (and so the fire) began, and the fire must obey it. The arbiter drains until quiet.
 * <p>
 * INLINE tests: one shared INLINE runtime on the wheel, whose dispatcher owns the wheel; a caller
 * that applies its own start off the owner hands its block to the dispatcher, which files and fires
 * it. The arbiter waits (bounded) until the timer is disarmed, no callback runs and no command is
 * pending.
 */
public class WheelCommandStress {

    static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** A thread-free HOST_DRIVEN runtime on a 1 µs wheel. */
    static AsyncRuntime hostRuntime() {
        return AsyncRuntime.builder()
            .dispatchMode(DispatchMode.HOST_DRIVEN)
            .timerWheel(1L << 10, 16)
            .workExecutor(StressSupport.EXECUTOR)
            .errorHandler(SleepWakeStress::error)
            .build();
    }

    static final AsyncRuntime INLINE = AsyncRuntime.builder()
        .dispatchMode(DispatchMode.INLINE)
        .timerWheel(1L << 10, 16)
        .workExecutor(StressSupport.EXECUTOR)
        .idle(AsyncIdle.backoff(1_000_000))
        .errorHandler(SleepWakeStress::error)
        .build();

    /** HOST_DRIVEN: drains until nothing is queued, armed or due (bounded). */
    static void settleHost(final AsyncRuntime rt, final TimerBlock b) {
        final long end = System.nanoTime() + SETTLE_NANOS;
        while (rt.drain() != 0 || rt.stats().drainsPending() != 0 || b.drainStatus != ControlBlock.IDLE
            || b.commandPending() || b.target != TimerBlock.NEVER) {
            if (System.nanoTime() - end > 0) {
                return; // the outcome shows what was left
            }
            Thread.onSpinWait();
        }
    }

    /** INLINE: waits until the dispatcher and the callers are done with {@code b} (bounded). */
    static void settleInline(final TimerBlock b) {
        final long end = System.nanoTime() + SETTLE_NANOS;
        for (int i = 0; b.drainStatus != ControlBlock.IDLE || b.commandPending()
            || b.target != TimerBlock.NEVER || b.running() != 0; i++) {
            if (System.nanoTime() - end > 0) {
                return;
            }
            if (i < 256) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** A timer on a fresh HOST_DRIVEN runtime with start(0) queued and not yet drained. */
    abstract static class HostBase {
        final AsyncRuntime rt = hostRuntime();
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();
        final TimerBlock b;
        /** Set by the publisher once its command returned. */
        volatile int returned;

        HostBase() {
            t.init(rt, owner, TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
            if (t.start(0) != AsyncStatus.OK) {
                throw new IllegalStateException("start");
            }
            b = (TimerBlock) t.block;
        }

        void host(final IIII_Result r) {
            r.r1 = returned;
            rt.drain();
        }

        long armedCount() {
            return rt.stats().timersArmed();
        }
    }

    @JCStressTest
    @Description("HOST_DRIVEN wheel: the host's drain applies start(0) and fires it while another thread"
        + " calls cancelAsync(). r1 = cancelAsync had returned before the drain began, r2 = its status,"
        + " r3 = callbacks run (after the arbiter drained until quiet), r4 = timersArmed then.")
    @Outcome(id = {"0, 0, 0, 0", "0, 0, 1, 0"}, expect = ACCEPTABLE,
        desc = "The cancel raced the drain: the fire happened before it was published, or it obeyed it.")
    @Outcome(id = "1, 0, 0, 0", expect = ACCEPTABLE,
        desc = "The cancel returned before the drain: the start was superseded, nothing fired.")
    @Outcome(id = "1, 0, 1, 0", expect = FORBIDDEN,
        desc = "A fire that began after cancelAsync() returned OK ran the callback (contract 3.1).")
    @Outcome(expect = FORBIDDEN, desc = "Anything else: two fires, timersArmed not 0, a cancel not OK.")
    @State
    public static class FireVsCancelAsync extends HostBase {
        @Actor
        public void host(final IIII_Result r) {
            super.host(r);
        }

        @Actor
        public void cancel(final IIII_Result r) {
            r.r2 = t.cancelAsync();
            returned = 1;
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            settleHost(rt, b);
            r.r3 = owner.started.get();
            r.r4 = (int) armedCount();
        }
    }

    @JCStressTest
    @Description("HOST_DRIVEN wheel: the host's drain applies start(0) and fires it while another thread"
        + " closes the cell. r1 = close() had returned before the drain began, r2 = close status, r3 ="
        + " callbacks run, r4 = timersArmed after the arbiter drained until quiet, +10 if the block did"
        + " not die (refcount 0 and final pass run).")
    @Outcome(id = {"0, 0, 0, 0", "0, 0, 1, 0"}, expect = ACCEPTABLE,
        desc = "The close raced the drain: the callback ran before the detach, or did not run.")
    @Outcome(id = "1, 0, 0, 0", expect = ACCEPTABLE, desc = "Closed before the drain: nothing fired.")
    @Outcome(id = "1, 0, 1, 0", expect = FORBIDDEN,
        desc = "A fire that began after close() returned ran the callback (contract 3.2).")
    @Outcome(expect = FORBIDDEN, desc = "Anything else: an arm left behind, a block that never died.")
    @State
    public static class FireVsClose extends HostBase {
        @Actor
        public void host(final IIII_Result r) {
            super.host(r);
        }

        @Actor
        public void close(final IIII_Result r) {
            r.r2 = t.close();
            returned = 1;
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            settleHost(rt, b);
            r.r3 = owner.started.get();
            r.r4 = (int) armedCount()
                + (b.finalized && (b.state & ControlBlock.COUNT_MASK) == 0 ? 0 : 10);
        }
    }

    @JCStressTest
    @Description("HOST_DRIVEN wheel: the host's drain applies start(0) and fires it while another thread"
        + " re-arms with start(0). r1 = the re-arm had returned before the drain began, r2 = its status,"
        + " r3 = callbacks run, r4 = timersArmed after the arbiter drained until quiet.")
    @Outcome(id = "0, 0, 1, 0", expect = ACCEPTABLE,
        desc = "The re-arm superseded the first start (or was applied before the first fire): one fire.")
    @Outcome(id = "0, 0, 2, 0", expect = ACCEPTABLE_INTERESTING,
        desc = "The first start fired, then the re-arm was applied and fired too.")
    @Outcome(id = "1, 0, 1, 0", expect = ACCEPTABLE,
        desc = "The re-arm returned before the drain: last command wins, exactly one fire.")
    @Outcome(expect = FORBIDDEN,
        desc = "No fire for an OK start(0) (lost), two fires of a superseded start (1, 0, 2, ...), an arm left.")
    @State
    public static class FireVsReArm extends HostBase {
        @Actor
        public void host(final IIII_Result r) {
            super.host(r);
        }

        @Actor
        public void reArm(final IIII_Result r) {
            r.r2 = t.start(0);
            returned = 1;
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            settleHost(rt, b);
            r.r3 = owner.started.get();
            r.r4 = (int) armedCount();
        }
    }

    @JCStressTest
    @Description("HOST_DRIVEN wheel, nothing queued: the host drains while another thread calls start(0)"
        + " with no later command. r1 = start status, r2 = callbacks run after the arbiter drained until"
        + " quiet, r3 = timersArmed then, r4 = drains still pending.")
    @Outcome(id = "0, 1, 0, 0", expect = ACCEPTABLE, desc = "Fired exactly once; nothing left.")
    @Outcome(expect = FORBIDDEN, desc = "The OK start(0) never fired, fired twice, or left an arm or a queued block.")
    @State
    public static class StartZeroVsDrain {
        final AsyncRuntime rt = hostRuntime();
        final Owner owner = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();
        final TimerBlock b;

        public StartZeroVsDrain() {
            t.init(rt, owner, TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
            b = (TimerBlock) t.block;
        }

        @Actor
        public void host() {
            rt.drain();
        }

        @Actor
        public void start(final IIII_Result r) {
            r.r1 = t.start(0);
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            settleHost(rt, b);
            r.r2 = owner.started.get();
            r.r3 = (int) rt.stats().timersArmed();
            r.r4 = (int) rt.stats().drainsPending();
        }
    }

    @JCStressTest
    @Description("INLINE on the wheel: two callers each start(0) their own timer; each applies its start"
        + " itself (off the wheel's owner) and hands the block to the dispatcher, which files and fires it."
        + " r1, r2 = statuses, r3, r4 = callbacks run per timer once settled.")
    @Outcome(id = "0, 0, 1, 1", expect = ACCEPTABLE, desc = "Each OK start(0) fired exactly once.")
    @Outcome(expect = FORBIDDEN, desc = "A start lost in the hand-over (0 fires) or fired twice.")
    @State
    public static class InlineStarts {
        final Owner o1 = new Owner();
        final Owner o2 = new Owner();
        final AsyncTimer<Owner> t1 = new AsyncTimer<>();
        final AsyncTimer<Owner> t2 = new AsyncTimer<>();

        public InlineStarts() {
            t1.init(INLINE, o1, TimerClock.MONOTONIC);
            t1.setCallback(StressSupport.TIMER_CB);
            t2.init(INLINE, o2, TimerClock.MONOTONIC);
            t2.setCallback(StressSupport.TIMER_CB);
        }

        @Actor
        public void a1(final IIII_Result r) {
            r.r1 = t1.start(0);
        }

        @Actor
        public void a2(final IIII_Result r) {
            r.r2 = t2.start(0);
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            final TimerBlock b1 = (TimerBlock) t1.block;
            final TimerBlock b2 = (TimerBlock) t2.block;
            settleInline(b1);
            settleInline(b2);
            r.r3 = o1.started.get();
            r.r4 = o2.started.get();
            StressSupport.closeAndQuiesce(INLINE, t1);
            StressSupport.closeAndQuiesce(INLINE, t2);
        }
    }

    @JCStressTest
    @Description("INLINE on the wheel: two callers start(0) the same timer. r1, r2 = statuses, r3 ="
        + " callbacks run once settled, r4 = 1 if still armed then.")
    @Outcome(id = "0, 0, 1, 0", expect = ACCEPTABLE, desc = "The starts coalesced (or the second came"
        + " before the first fire was decided): one fire.")
    @Outcome(id = "0, 0, 2, 0", expect = ACCEPTABLE, desc = "The first fired before the second was applied.")
    @Outcome(id = {"-1, 0, 1, 0", "0, -1, 1, 0"}, expect = ACCEPTABLE_INTERESTING,
        desc = "BUSY for one (a writer preempted holding the latch): the other fired once.")
    @Outcome(expect = FORBIDDEN, desc = "No fire for an OK start(0), more fires than OK starts, an arm left.")
    @State
    public static class InlineStartVsStart {
        final Owner o = new Owner();
        final AsyncTimer<Owner> t = new AsyncTimer<>();

        public InlineStartVsStart() {
            t.init(INLINE, o, TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
        }

        @Actor
        public void a1(final IIII_Result r) {
            r.r1 = t.start(0);
        }

        @Actor
        public void a2(final IIII_Result r) {
            r.r2 = t.start(0);
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            final TimerBlock b = (TimerBlock) t.block;
            settleInline(b);
            r.r3 = o.started.get();
            r.r4 = b.target != TimerBlock.NEVER ? 1 : 0;
            StressSupport.closeAndQuiesce(INLINE, t);
        }
    }

}
