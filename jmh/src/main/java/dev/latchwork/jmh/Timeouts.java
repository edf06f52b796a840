package dev.latchwork.jmh;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.latchwork.DispatchMode;

/**
 * The one harness every contender plugs into: {@code n} per-cell timeouts (one per connection,
 * session or request), each re-armed on every event or armed and cancelled again, plus what the
 * latency harness needs (arm at an absolute deadline, a fire listener).
 * <p>
 * A cell is addressed by its index; the harness, never the contender, decides which thread touches
 * which cell. Implementations are not thread safe per cell unless stated: two threads never drive
 * the same cell at once except in {@link SharedCellBench}, which only uses contenders that allow it.
 *
 * <h2>Workload</h2>
 * <ul>
 *   <li>{@link #rearm}: re-arm the cell's idle timeout to {@code now + IDLE_TIMEOUT_NANOS}. Peers do
 *       what their users do: cancel the previous handle/id and schedule a new one.</li>
 *   <li>{@link #armCancel}: arm then cancel at once (a request timeout that the response beats);
 *       nothing stays armed. Peers keep the handle or id in the cell between the two calls, as the
 *       request object would.</li>
 * </ul>
 * The timeout is long enough that nothing fires during a measurement fork; {@link #fired()} is
 * checked at tear-down.
 */
abstract class Timeouts {
    /** The idle timeout re-armed on every event: nothing fires within a benchmark fork. */
    static final long IDLE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** Every contender, in report order. */
    static final List<String> IMPLS = Arrays.asList(
        "floor-2cas",
        "latchwork-deferred", "latchwork-deferred-at",
        "latchwork-host", "latchwork-host-at",
        "latchwork-inline", "latchwork-inline-at",
        "latchwork-wheel", "latchwork-executor",
        "netty-hwt", "jdk-stpe", "jdk25-fjp", "agrona-wheel-lock");

    /** Receives expiries (latency harness). Called on the contender's timer thread. */
    interface FireListener {
        void fired(int cell);
    }

    private final AtomicInteger firedCount = new AtomicInteger();
    private volatile FireListener listener;

    static Timeouts create(final String impl) {
        switch (impl) {
            case "floor-2cas": return new FloorTimeouts();
            case "latchwork-deferred": return new LatchworkTimeouts(DispatchMode.DEFERRED, false);
            case "latchwork-deferred-at": return new LatchworkTimeouts(DispatchMode.DEFERRED, true);
            case "latchwork-host": return new LatchworkTimeouts(DispatchMode.HOST_DRIVEN, false);
            case "latchwork-host-at": return new LatchworkTimeouts(DispatchMode.HOST_DRIVEN, true);
            case "latchwork-inline": return new LatchworkTimeouts(DispatchMode.INLINE, false);
            case "latchwork-inline-at": return new LatchworkTimeouts(DispatchMode.INLINE, true);
            case "latchwork-wheel": return new LatchworkTimeouts(DispatchMode.DEFERRED, false, LatchworkTimeouts.Backend.DEFAULT);
            case "latchwork-executor":
                return new LatchworkTimeouts(DispatchMode.DEFERRED, false, LatchworkTimeouts.Backend.EXECUTOR);
            case "netty-hwt": return new NettyTimeouts();
            case "jdk-stpe": return new StpeTimeouts();
            case "jdk25-fjp": return new ForkJoinTimeouts();
            case "agrona-wheel-lock": return new AgronaTimeouts();
            default: throw new IllegalArgumentException("unknown impl " + impl + ", expected one of " + IMPLS);
        }
    }

    /** @return true if this contender can run on this JVM (JDK 25's ForkJoinPool.schedule cannot on 17) */
    boolean supported() {
        return true;
    }

    /** @return true if this contender is a timer (the floor is not: it cannot fire) */
    boolean isTimer() {
        return true;
    }

    final void listener(final FireListener l) {
        this.listener = l;
    }

    /** Contenders call this from their expiry callback. */
    final void onFire(final int cell) {
        firedCount.incrementAndGet();
        final FireListener l = listener;
        if (l != null) {
            l.fired(cell);
        }
    }

    /** @return how many expiries ran (none may during a benchmark) */
    final int fired() {
        return firedCount.get();
    }

    /** Creates the engine and {@code cells} initialized, unarmed cells. */
    abstract void open(int cells);

    /**
     * Re-arms the cell's idle timeout. Hot path.
     *
     * @param now a recent {@code System.nanoTime()} (a duty cycle's cached clock); contenders whose
     *            API takes a relative delay ignore it and read the clock themselves
     * @return 0 if accepted, non-zero (a latchwork status) otherwise
     */
    abstract int rearm(int cell, long now);

    /** Arms the cell's timeout and cancels it again. Hot path. @return 0 if both were accepted */
    abstract int armCancel(int cell, long now);

    /** Arms the cell at an absolute {@code System.nanoTime()} deadline (latency harness). @return 0 if accepted */
    abstract int armAt(int cell, long deadlineNanos);

    /** Waits until the cells {@code [from, to)}, armed before, are armed on the backend (deferred contenders). */
    void awaitArmed(final int from, final int to) {
    }

    /** Waits until background threads have applied everything issued so far (allocation check). */
    void quiesce() throws InterruptedException {
        Thread.sleep(100);
    }

    /** Stops the engine; prints nothing unless something is worth reporting. */
    abstract void close();

    /**
     * Closes the engine when the JVM exits (a JMH fork exits right after its trial). JMH runs
     * {@code @TearDown(Level.Trial)} inside the last measured iteration, so the gc profiler would
     * charge that iteration with whatever closing allocates (a shut-down
     * {@code ScheduledThreadPoolExecutor} returns a list of its 100 000 queued tasks): closing
     * must not happen there. Allocates the hook thread now, before measurement.
     */
    final void closeAtExit() {
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "close-" + getClass().getSimpleName()));
    }

    /** @return a one-line summary of the engine's counters, or an empty string */
    String stats() {
        return "";
    }

    static ThreadFactory daemonThreads(final String prefix) {
        final AtomicInteger n = new AtomicInteger();
        return r -> {
            final Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Spins (with onSpinWait) until {@code cond} holds, failing after {@code timeoutNanos}. */
    static void await(final java.util.function.BooleanSupplier cond, final long timeoutNanos, final String what) {
        final long end = System.nanoTime() + timeoutNanos;
        for (int i = 0; !cond.getAsBoolean(); i++) {
            if (System.nanoTime() - end > 0) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            if (i < 1000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
