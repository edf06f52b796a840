package dev.latchwork.jmh;

import java.util.concurrent.TimeUnit;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStats;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerCallback;
import dev.latchwork.TimerClock;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

/**
 * latchwork: one {@link AsyncTimer} per cell on one shared {@link AsyncRuntime}, with its default
 * backend (since issue 12 the built-in timer wheel) or, for {@code latchwork-executor}, an owned
 * single-thread {@code ScheduledThreadPoolExecutor} with remove-on-cancel given to
 * {@code timerScheduler}. Re-arm is {@code start} (or
 * {@code startAt} with the caller's cached clock); arm-then-cancel is {@code start} +
 * {@code cancelAsync}. In {@link DispatchMode#HOST_DRIVEN} a background thread plays the user's
 * duty cycle: it loops {@link AsyncRuntime#drain()} with the same backoff idle strategy as the
 * default dispatcher (spin 64, yield 16, park 1 µs..100 µs).
 */
final class LatchworkTimeouts extends Timeouts {
    /**
     * The drain interval under traffic, of the dispatcher and of the host duty cycle alike: the
     * runtime's default (20 µs) unless {@code -Dlatchwork.bench.drainIntervalNanos=N} (0 = eager)
     * asks for another, to study its effect (pass it to the forks with {@code -jvmArgsAppend}).
     */
    static final long DRAIN_INTERVAL_NANOS = Long.getLong("latchwork.bench.drainIntervalNanos", 20_000);

    /**
     * The wheel's geometry for the wheel contenders: the runtime's default (2^17 ns x 64) unless
     * {@code -Dlatchwork.bench.tickNanos=N} / {@code -Dlatchwork.bench.ticksPerWheel=N} ask for
     * another (geometry study, issue 12).
     */
    static final long TICK_NANOS = Long.getLong("latchwork.bench.tickNanos", 0);
    static final int TICKS_PER_WHEEL = Integer.getInteger("latchwork.bench.ticksPerWheel", 0);

    /** Which timer backend the runtime uses. */
    enum Backend {
        /** Whatever {@code AsyncRuntime.builder()} gives (since issue 12: the built-in wheel). */
        DEFAULT,
        /** {@code timerScheduler}: an owned single-thread STPE with remove-on-cancel (the pre-wheel backend). */
        EXECUTOR
    }

    private final DispatchMode mode;
    private final boolean absolute;
    private final Backend backend;
    private java.util.concurrent.ScheduledThreadPoolExecutor scheduler;
    AsyncRuntime runtime;
    private AsyncTimer<Cell>[] timers;
    private Thread host;
    private volatile boolean hostRunning;

    /** The owner of one timer: what a connection object would be. */
    static final class Cell {
        final int index;

        Cell(final int index) {
            this.index = index;
        }
    }

    LatchworkTimeouts(final DispatchMode mode, final boolean absolute) {
        this(mode, absolute, Backend.DEFAULT);
    }

    LatchworkTimeouts(final DispatchMode mode, final boolean absolute, final Backend backend) {
        this.mode = mode;
        this.absolute = absolute;
        this.backend = backend;
    }

    /** @return the builder this contender's runtime is made from (backend and geometry applied) */
    AsyncRuntime.Builder builder() {
        final AsyncRuntime.Builder b = AsyncRuntime.builder().dispatchMode(mode)
            .threadFactory(daemonThreads("latchwork-" + mode + "-" + backend))
            .drainInterval(DRAIN_INTERVAL_NANOS, TimeUnit.NANOSECONDS);
        if (backend == Backend.EXECUTOR) {
            scheduler = new java.util.concurrent.ScheduledThreadPoolExecutor(1, daemonThreads("latchwork-stpe"));
            scheduler.setRemoveOnCancelPolicy(true);
            scheduler.prestartAllCoreThreads();
            b.timerScheduler(scheduler);
        } else if (TICK_NANOS > 0 || TICKS_PER_WHEEL > 0) {
            b.timerWheel(TICK_NANOS > 0 ? TICK_NANOS : 1L << 17, TICKS_PER_WHEEL > 0 ? TICKS_PER_WHEEL : 64);
        }
        return b;
    }

    @Override
    @SuppressWarnings("unchecked")
    void open(final int cells) {
        runtime = builder().build();
        if (mode == DispatchMode.HOST_DRIVEN) {
            hostRunning = true;
            host = new Thread(this::hostLoop, "latchwork-host-duty-cycle");
            host.setDaemon(true);
            host.start();
        }
        final TimerCallback<Cell> callback = (owner, timer) -> onFire(owner.index);
        timers = new AsyncTimer[cells];
        for (int i = 0; i < cells; i++) {
            final AsyncTimer<Cell> t = new AsyncTimer<>();
            check(t.init(runtime, new Cell(i), TimerClock.MONOTONIC), "init");
            check(t.setCallback(callback), "setCallback");
            timers[i] = t;
        }
    }

    /**
     * The user's duty cycle: the same pattern as the default dispatcher (the drain interval
     * under traffic, then the backoff idle strategy), so that both modes coalesce a hot cell the
     * same way (see {@code AsyncRuntime.Builder.drainInterval}).
     */
    private void hostLoop() {
        final IdleStrategy idle = new BackoffIdleStrategy(64, 16, 1_000, 100_000);
        final AsyncRuntime rt = runtime;
        long roundStart = 0;
        boolean spacing = false;
        while (hostRunning) {
            int work = 0;
            if (!spacing || System.nanoTime() - roundStart >= DRAIN_INTERVAL_NANOS) {
                roundStart = System.nanoTime();
                work = rt.drain();
                spacing = work > 0 && work < 256; // 256 = drain()'s batch: a backlog drains without pauses
            }
            idle.idle(work);
        }
    }

    private static void check(final int status, final String what) {
        if (status != AsyncStatus.OK) {
            throw new IllegalStateException(what + " answered " + AsyncStatus.name(status));
        }
    }

    @Override
    int rearm(final int cell, final long now) {
        final AsyncTimer<Cell> t = timers[cell];
        return absolute ? t.startAt(now + IDLE_TIMEOUT_NANOS) : t.start(IDLE_TIMEOUT_NANOS);
    }

    @Override
    int armCancel(final int cell, final long now) {
        final AsyncTimer<Cell> t = timers[cell];
        final int armed = absolute ? t.startAt(now + IDLE_TIMEOUT_NANOS) : t.start(IDLE_TIMEOUT_NANOS);
        return armed | t.cancelAsync();
    }

    @Override
    int armAt(final int cell, final long deadlineNanos) {
        return timers[cell].startAt(deadlineNanos);
    }

    @Override
    void awaitArmed(final int from, final int to) {
        for (int i = from; i < to; i++) {
            final AsyncTimer<Cell> t = timers[i];
            if (!t.isArmed()) {
                await(t::isArmed, TimeUnit.SECONDS.toNanos(60), "latchwork commands to be applied");
            }
        }
    }

    @Override
    void quiesce() throws InterruptedException {
        final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (runtime.stats().drainsPending() != 0 && System.nanoTime() - end < 0) {
            Thread.sleep(10);
        }
        Thread.sleep(100);
    }

    @Override
    void close() {
        hostRunning = false;
        if (host != null) {
            try {
                host.join(10_000);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (runtime != null) {
            runtime.close();
        }
        if (scheduler != null) {
            scheduler.shutdownNow(); // caller-owned: the runtime leaves it running
        }
    }

    /** @return the timer of a cell (harness use) */
    AsyncTimer<Cell> timer(final int cell) {
        return timers[cell];
    }

    @Override
    String stats() {
        if (runtime == null) {
            return "";
        }
        final AsyncStats s = runtime.stats();
        return "latchwork " + mode + ": published=" + s.commandsPublished() + " superseded=" + s.commandsSuperseded()
            + " busy=" + s.busy() + " drains=" + s.drains() + " fired=" + s.timersFired() + " armed=" + s.timersArmed()
            + " pendingDrains=" + s.drainsPending() + " dropped=" + s.commandsDropped();
    }
}
