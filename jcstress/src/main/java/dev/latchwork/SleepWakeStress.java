package dev.latchwork;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import dev.latchwork.StressSupport.Owner;

/**
 * The sleep/wake handshake of contract section 6, through the public API: a HOST_DRIVEN runtime on
 * the built-in wheel whose {@code hostWakeup} counts its calls. The host's {@code drain()} that finds
 * nothing raises the {@code sleeping} flag and re-checks the queue; a publisher offers its block to
 * the queue (full fence) and then takes the flag down (CAS 1 to 0) and calls {@code hostWakeup}.
 * Either the re-check sees the block (drain answers non-zero: the host drains again) or the publisher
 * sees the flag (hostWakeup runs): never neither, and never two wake-ups for one idle spell.
 * <p>
 * Each state has its own runtime (it counts this state's wake-ups and reads this runtime's queue);
 * with the wheel, a stub work executor and HOST_DRIVEN it owns no thread.
 * <p>
 * Results: r1 = what the racing {@code drain()} returned, r2 = the publisher's status (OK 0),
 * r3 = hostWakeup calls, r4 = 1 if a block was still queued when both actors were done
 * ({@code drainsPending > 0}), read after both actors.
 */
public class SleepWakeStress {

    /** A HOST_DRIVEN runtime on a small wheel (cheap per state), counting hostWakeup calls. */
    static AsyncRuntime hostRuntime(final AtomicInteger wakeups) {
        return AsyncRuntime.builder()
            .dispatchMode(DispatchMode.HOST_DRIVEN)
            .timerWheel(1L << 20, 16)
            .workExecutor(StressSupport.EXECUTOR)
            .hostWakeup(wakeups::incrementAndGet)
            .errorHandler(SleepWakeStress::error)
            .build();
    }

    /**
     * Brings a new host out of its initial idle state (a new HOST_DRIVEN runtime starts idle, so
     * that its first command calls hostWakeup): a dummy timer's start takes the flag down and wakes
     * it, a drain that applies it leaves the flag down, and the count starts again from 0.
     */
    static void wakeNewHost(final AsyncRuntime rt, final AtomicInteger wakeups) {
        final AsyncTimer<Owner> dummy = new AsyncTimer<>();
        dummy.init(rt, new Owner(), TimerClock.MONOTONIC);
        dummy.setCallback(StressSupport.TIMER_CB);
        dummy.start(StressSupport.FAR);
        if (rt.drain() == 0 || wakeups.get() != 1) {
            throw new IllegalStateException("expected a woken host that applied one command");
        }
        wakeups.set(0);
    }

    /**
     * 1 if the runtime still has a block queued (read before anything drains it again). Counted by
     * walking the queue ({@code drainsPending}, exact when nobody publishes or drains), not by
     * {@code nanosUntilDue() == 0}, which also answers 0 when a bucket of the wheel is due.
     */
    static int queued(final AsyncRuntime rt) {
        return rt.stats().drainsPending() > 0 ? 1 : 0;
    }

    static void error(final Throwable t) {
        System.err.println("latchwork error in a stress test: " + t);
        t.printStackTrace();
    }

    @JCStressTest
    @Description("Host awake (flag down), queue empty: the host's drain() finds nothing and goes idle while"
        + " a publisher starts a timer (queues its block). r1 = drain(), r2 = start status, r3 = hostWakeup"
        + " calls, r4 = a block still queued after both.")
    @Outcome(id = "1, 0, 0, 0", expect = ACCEPTABLE,
        desc = "The block was queued before the drain polled: the drain applied it.")
    @Outcome(id = "0, 0, 1, 1", expect = ACCEPTABLE,
        desc = "Queued after the host raised the flag: the publisher woke the host.")
    @Outcome(id = "1, 0, 0, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "Queued between the drain's poll and its flag: the re-check saw it, drain() answered 1 so"
        + " the host drains again.")
    @Outcome(id = "0, 0, 0, 1", expect = FORBIDDEN,
        desc = "LOST WAKE-UP: drain() said idle, hostWakeup never ran, and the block is still queued.")
    @Outcome(expect = FORBIDDEN, desc = "Anything else: two wake-ups for one idle spell, a start not OK,"
        + " a wake-up with nothing queued.")
    @State
    public static class TimerStartVsIdle {
        final AtomicInteger wakeups = new AtomicInteger();
        final AsyncRuntime rt = hostRuntime(wakeups);
        final AsyncTimer<Owner> t = new AsyncTimer<>();

        public TimerStartVsIdle() {
            t.init(rt, new Owner(), TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
            wakeNewHost(rt, wakeups);
        }

        @Actor
        public void host(final IIII_Result r) {
            r.r1 = rt.drain();
        }

        @Actor
        public void publisher(final IIII_Result r) {
            r.r2 = t.start(StressSupport.FAR);
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            r.r3 = wakeups.get();
            r.r4 = queued(rt);
        }
    }

    @JCStressTest
    @Description("As TimerStartVsIdle, with a work cell's start() as the publisher.")
    @Outcome(id = "1, 0, 0, 0", expect = ACCEPTABLE, desc = "The drain applied the queued start.")
    @Outcome(id = "0, 0, 1, 1", expect = ACCEPTABLE, desc = "The publisher woke the idle host.")
    @Outcome(id = "1, 0, 0, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "The drain's re-check saw the block and answered 1.")
    @Outcome(id = "0, 0, 0, 1", expect = FORBIDDEN,
        desc = "LOST WAKE-UP: drain() said idle, hostWakeup never ran, and the block is still queued.")
    @Outcome(expect = FORBIDDEN, desc = "Anything else.")
    @State
    public static class WorkStartVsIdle {
        final AtomicInteger wakeups = new AtomicInteger();
        final AsyncRuntime rt = hostRuntime(wakeups);
        final AsyncWork<Owner> w = new AsyncWork<>();

        public WorkStartVsIdle() {
            w.init(rt, new Owner());
            w.setCallback(StressSupport.WORK_CB);
            wakeNewHost(rt, wakeups);
        }

        @Actor
        public void host(final IIII_Result r) {
            r.r1 = rt.drain();
        }

        @Actor
        public void publisher(final IIII_Result r) {
            r.r2 = w.start();
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            r.r3 = wakeups.get();
            r.r4 = queued(rt);
        }
    }

    @JCStressTest
    @Description("Host already idle (an earlier drain() found nothing: flag up). It drains again while a"
        + " publisher starts a timer. r1..r4 as in TimerStartVsIdle.")
    @Outcome(id = "1, 0, 0, 0", expect = ACCEPTABLE,
        desc = "The drain took the flag down first and applied the block: no wake-up was needed.")
    @Outcome(id = "1, 0, 1, 0", expect = ACCEPTABLE,
        desc = "The publisher took the flag down first (woke the host), then the drain applied the block.")
    @Outcome(id = "0, 0, 1, 1", expect = ACCEPTABLE,
        desc = "The drain found nothing and went idle again; the publisher woke it.")
    @Outcome(id = "1, 0, 0, 1", expect = ACCEPTABLE_INTERESTING,
        desc = "The drain's re-check saw the block and answered 1.")
    @Outcome(id = {"0, 0, 0, 1"}, expect = FORBIDDEN,
        desc = "LOST WAKE-UP: drain() said idle, hostWakeup never ran, and the block is still queued.")
    @Outcome(expect = FORBIDDEN, desc = "Anything else (two wake-ups for one idle spell included).")
    @State
    public static class TimerStartVsIdleAgain {
        final AtomicInteger wakeups = new AtomicInteger();
        final AsyncRuntime rt = hostRuntime(wakeups);
        final AsyncTimer<Owner> t = new AsyncTimer<>();

        public TimerStartVsIdleAgain() {
            t.init(rt, new Owner(), TimerClock.MONOTONIC);
            t.setCallback(StressSupport.TIMER_CB);
            if (rt.drain() != 0) { // nothing queued: raises the flag
                throw new IllegalStateException("expected an idle drain");
            }
        }

        @Actor
        public void host(final IIII_Result r) {
            r.r1 = rt.drain();
        }

        @Actor
        public void publisher(final IIII_Result r) {
            r.r2 = t.start(StressSupport.FAR);
        }

        @Arbiter
        public void arbiter(final IIII_Result r) {
            r.r3 = wakeups.get();
            r.r4 = queued(rt);
        }
    }
}
