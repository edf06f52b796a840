package dev.latchwork;

import java.lang.ref.WeakReference;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;

/**
 * The JFR sink: loaded only when {@code jdk.jfr} is present (see {@link Flight}). Defines the
 * events of docs/OBSERVABILITY.md with the JDK 17 {@code jdk.jfr} API.
 *
 * <h2>Implementation notes</h2>
 * <b>Nothing until Flight Recorder starts.</b> Loading an event class makes JFR generate its
 * handler and initialize its metadata (about a hundred classes and a third of a CPU second on this
 * project's machine), so the event classes are not loaded when a runtime is built: a listener
 * ({@link FlightRecorderListener#recorderInitialized}) loads them when Flight Recorder initializes,
 * which a recording's start does, however it is started. Until then every check below is one
 * read of a volatile boolean.
 * <p>
 * <b>Probes.</b> Each event class has one <em>probe</em> instance that is never committed: its
 * {@code isEnabled()} is JFR's instrumented check (a read of the event class's handler state,
 * false until a recording enables the event), so asking costs no allocation. An event object is
 * made only after the probe said yes. The probes are read without a lock from any thread, which
 * JFR allows for {@code isEnabled()} (it reads no instance state).
 * <p>
 * <b>Statistics.</b> One periodic hook serves every open runtime: a runtime adds itself to
 * {@link #OPEN} when built and removes itself when closed (a queue offer and an O(open runtimes)
 * removal, where a hook per runtime would cost JFR's registration per build).
 */
final class FlightJfr extends Flight {
    static final String CATEGORY = "latchwork";

    /** One fire: many per second on a busy runtime, so off unless a recording asks for it. */
    @Name("dev.latchwork.TimerFired")
    @Label("Timer Fired")
    @Category(CATEGORY)
    @Description("A timer's callback is about to run; how late after its deadline")
    @Enabled(false)
    @StackTrace(false)
    static final class TimerFired extends Event {
        @Label("Runtime")
        String runtime;
        @Label("Lateness")
        @Description("Time from the timer's deadline (on its clock) to the start of its callback")
        @Timespan(Timespan.NANOSECONDS)
        long lateness;
        @Label("Owner Class")
        Class<?> ownerClass;
        @Label("Clock")
        String clock;
    }

    /** A callback that returned after JFR's threshold (20 ms unless the recording says otherwise). */
    @Name("dev.latchwork.SlowCallback")
    @Label("Slow Callback")
    @Category(CATEGORY)
    @Description("A timer or work callback that ran longer than the event's threshold (its duration is the callback's)")
    @Threshold("20 ms")
    @StackTrace(false)
    static final class SlowCallback extends Event {
        @Label("Runtime")
        String runtime;
        @Label("Cell Kind")
        @Description("timer or work")
        String kind;
        @Label("Owner Class")
        Class<?> ownerClass;
    }

    /** The watchdog's report of a callback still running past the runtime's threshold. */
    @Name("dev.latchwork.StuckCallback")
    @Label("Stuck Callback")
    @Category(CATEGORY)
    @Description("The watchdog found a callback still running past the runtime's stuck-callback threshold")
    @StackTrace(false)
    static final class StuckCallback extends Event {
        @Label("Runtime")
        String runtime;
        @Label("Cell Kind")
        String kind;
        @Label("Owner Class")
        String ownerClass;
        @Label("Elapsed")
        @Description("How long the callback had been running when the watchdog sampled it")
        @Timespan(Timespan.NANOSECONDS)
        long elapsed;
        @Label("Stuck Thread")
        Thread stuckThread;
        @Label("Stack")
        @Description("The stuck thread's stack, innermost frame first (at most 32 frames)")
        String stack;
    }

    /** An error handed to the error handler: a callback's exception or a backend failure. */
    @Name("dev.latchwork.CallbackError")
    @Label("Callback Error")
    @Category(CATEGORY)
    @Description("A callback threw, or a backend (scheduler, executor) failed; the error handler was called")
    @StackTrace(false)
    static final class CallbackError extends Event {
        @Label("Runtime")
        String runtime;
        @Label("Exception Class")
        Class<?> exceptionClass;
        @Label("Message")
        String message;
    }

    /** A dispatcher round that fell behind. */
    @Name("dev.latchwork.DispatcherBehind")
    @Label("Dispatcher Behind")
    @Category(CATEGORY)
    @Description("A drain round fell behind: the wheel advanced late or hit its budget, or a round left queued cells for the next")
    @StackTrace(false)
    static final class DispatcherBehind extends Event {
        @Label("Runtime")
        String runtime;
        @Label("Lateness")
        @Description("How late the wheel advance started after its next bucket was due (0 for a full queue round)")
        @Timespan(Timespan.NANOSECONDS)
        long lateness;
        @Label("Handled")
        @Description("Cells handled by the advance, or drained by the round")
        int handled;
        @Label("Budget Hit")
        @Description("The advance stopped at its budget, or the round at its limit: work was left for the next")
        boolean budgetHit;
        @Label("Wheel")
        @Description("True for a wheel advance, false for a round of queued commands")
        boolean wheel;
    }

    /** The runtime's counters, every period. */
    @Name("dev.latchwork.RuntimeStatistics")
    @Label("Runtime Statistics")
    @Category(CATEGORY)
    @Description("A runtime's counters (cumulative since it was built) and gauges")
    @Period("1 s")
    @StackTrace(false)
    static final class RuntimeStatistics extends Event {
        @Label("Runtime")
        String runtime;
        @Label("Commands Published")
        long commandsPublished;
        @Label("Commands Superseded")
        long commandsSuperseded;
        @Label("Commands Dropped")
        long commandsDropped;
        @Label("Busy Answers")
        long busyAnswers;
        @Label("Drains")
        long drains;
        @Label("Timers Fired")
        long timersFired;
        @Label("Work Runs")
        long workRuns;
        @Label("Callback Errors")
        long callbackErrors;
        @Label("Stuck Callbacks")
        long stuckCallbacks;
        @Label("Control Blocks Live")
        long controlBlocksLive;
        @Label("Timers Armed")
        long timersArmed;
        @Label("Drains Pending")
        long drainsPending;
    }

    /** The lateness at which a wheel advance counts as behind: the contract's p99 bound. */
    static final long BEHIND_NANOS = 1_000_000;
    private static final int MAX_STACK_FRAMES = 32;

    /**
     * True once Flight Recorder has initialized in this JVM (a recording was started, in-process,
     * by {@code -XX:StartFlightRecording} or by {@code jcmd}). Until then no event can be enabled,
     * and no event class is loaded: see the class notes.
     */
    private static volatile boolean live;

    /**
     * The probes and the statistics hook, loaded when Flight Recorder initializes: loading an
     * event class makes JFR instrument it, which initializes JFR's metadata.
     */
    private static final class Live {
        static final TimerFired TIMER_FIRED = new TimerFired();
        static final SlowCallback SLOW = new SlowCallback();
        static final CallbackError ERROR = new CallbackError();
        static final DispatcherBehind BEHIND = new DispatcherBehind();
        static final StuckCallback STUCK = new StuckCallback();

        static {
            FlightRecorder.addPeriodicEvent(RuntimeStatistics.class, FlightJfr::emitStatistics);
        }

        private Live() {
        }
    }

    FlightJfr() {
    }

    @Override
    boolean available() {
        return FlightRecorder.isAvailable();
    }

    @Override
    boolean timerFiredOn() {
        return live && Live.TIMER_FIRED.isEnabled();
    }

    @Override
    void timerFired(final TimerBlock b, final long latenessNanos) {
        final TimerFired e = new TimerFired();
        e.runtime = b.runtime.name();
        e.lateness = latenessNanos;
        e.ownerClass = b.owner == null ? null : b.owner.getClass();
        e.clock = b.realtime ? "REALTIME" : "MONOTONIC";
        e.commit();
    }

    @Override
    Object slowBegin() {
        if (!live || !Live.SLOW.isEnabled()) {
            return null;
        }
        final SlowCallback e = new SlowCallback();
        e.begin();
        return e;
    }

    @Override
    void slowEnd(final Object event, final ControlBlock b) {
        final SlowCallback e = (SlowCallback) event;
        e.end();
        if (e.shouldCommit()) {
            e.runtime = b.runtime.name();
            e.kind = b instanceof TimerBlock ? "timer" : "work";
            e.ownerClass = b.owner == null ? null : b.owner.getClass();
            e.commit();
        }
    }

    @Override
    void error(final AsyncRuntime rt, final Throwable t) {
        if (!live || !Live.ERROR.isEnabled()) {
            return;
        }
        final CallbackError e = new CallbackError();
        e.runtime = rt.name();
        e.exceptionClass = t.getClass();
        e.message = t.getMessage();
        e.commit();
    }

    /**
     * Rate limit: a runtime that is behind stays behind for many rounds (a burst, an overloaded
     * machine), so at most one event per this interval per runtime; the next one reports the
     * state then.
     */
    static final long BEHIND_EVERY_NANOS = 100_000_000;

    /** @return true if {@code rt} may commit a DispatcherBehind event now (consumer role held) */
    private static boolean behindDue(final AsyncRuntime rt) {
        final long now = System.nanoTime();
        if (rt.behindEventAt != 0 && now - rt.behindEventAt < BEHIND_EVERY_NANOS) {
            return false;
        }
        rt.behindEventAt = now | 1;
        return true;
    }

    @Override
    void wheelAdvanced(final AsyncRuntime rt, final long latenessNanos, final int handled, final boolean budgetHit) {
        if ((budgetHit || latenessNanos >= BEHIND_NANOS) && live && Live.BEHIND.isEnabled() && behindDue(rt)) {
            final DispatcherBehind e = new DispatcherBehind();
            e.runtime = rt.name();
            e.lateness = latenessNanos;
            e.handled = handled;
            e.budgetHit = budgetHit;
            e.wheel = true;
            e.commit();
        }
    }

    @Override
    void roundFull(final AsyncRuntime rt, final int drained) {
        if (live && Live.BEHIND.isEnabled() && behindDue(rt)) {
            final DispatcherBehind e = new DispatcherBehind();
            e.runtime = rt.name();
            e.handled = drained;
            e.budgetHit = true;
            e.commit();
        }
    }

    @Override
    void stuck(final StuckCallbackException x, final Thread thread) {
        if (!live || !Live.STUCK.isEnabled()) {
            return;
        }
        final StuckCallback e = new StuckCallback();
        e.runtime = x.runtimeName();
        e.kind = x.cellKind();
        e.ownerClass = x.ownerClassName();
        e.elapsed = x.elapsedNanos();
        e.stuckThread = thread;
        final StackTraceElement[] st = x.getStackTrace();
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < st.length && i < MAX_STACK_FRAMES; i++) {
            sb.append(st[i]).append('\n');
        }
        e.stack = sb.toString();
        e.commit();
    }

    /**
     * Runtimes open in this JVM, for the statistics event. Weak: a runtime dropped without a close
     * is not kept alive by JFR (the periodic hook prunes it).
     */
    private static final ConcurrentLinkedQueue<WeakReference<AsyncRuntime>> OPEN = new ConcurrentLinkedQueue<>();

    static {
        // Told when Flight Recorder initializes (at once if it already has): only then are the
        // event classes loaded (Live) and the periodic hook added.
        FlightRecorder.addListener(new FlightRecorderListener() {
            @Override
            public void recorderInitialized(final FlightRecorder recorder) {
                try {
                    Live.TIMER_FIRED.getClass(); // loads and initializes Live
                    live = true;
                } catch (final Throwable t) {
                    // cannot register (a SecurityException, an OutOfMemoryError): stay off
                }
            }
        });
    }

    @Override
    Object register(final AsyncRuntime rt) {
        final WeakReference<AsyncRuntime> ref = new WeakReference<>(rt);
        OPEN.add(ref);
        return ref;
    }

    @Override
    void unregister(final Object ref) {
        if (ref != null) {
            OPEN.remove(ref); // identity: WeakReference does not override equals
        }
    }

    /** The periodic hook: one statistics event per open runtime. On JFR's periodic thread. */
    private static void emitStatistics() {
        for (final Iterator<WeakReference<AsyncRuntime>> it = OPEN.iterator(); it.hasNext();) {
            final AsyncRuntime rt = it.next().get();
            if (rt == null) {
                it.remove();
                continue;
            }
            final RuntimeStatistics e = new RuntimeStatistics();
            e.runtime = rt.name();
            e.commandsPublished = rt.commandsPublished();
            e.commandsSuperseded = rt.commandsSuperseded();
            e.commandsDropped = rt.commandsDropped();
            e.busyAnswers = rt.busyAnswers();
            e.drains = rt.drains();
            e.timersFired = rt.timersFired();
            e.workRuns = rt.workRuns();
            e.callbackErrors = rt.callbackErrors();
            e.stuckCallbacks = rt.stuckCallbacks();
            e.controlBlocksLive = rt.controlBlocksLive();
            e.timersArmed = rt.timersArmed();
            e.drainsPending = rt.drainsPending();
            e.commit();
        }
    }
}
