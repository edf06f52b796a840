package dev.latchwork;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport; // not a lock: the idle dispatcher's park, one unpark per sleep by the publisher that finds it asleep (never in steady state), and close()
import java.util.function.Consumer;

/**
 * The engine behind a set of cells: the queue of control blocks waiting for a drain, the
 * dispatcher that drains them, the timer backend and the error handler. Share one per process (or
 * per event-loop group); a cell costs no thread.
 * <p>
 * Thread safe. {@link #close()} is idempotent and callable from any thread, including a callback.
 *
 * <h2>Implementation notes</h2>
 * Control blocks with work to do are offered to an intrusive MPSC {@link BlockQueue} by the
 * publisher that moved them from IDLE to QUEUED (see {@link ControlBlock}). One consumer polls it:
 * the dispatcher thread (modes DEFERRED and INLINE, the latter for the commands its callers could
 * not apply themselves) or the user's thread through {@link #drain()} (HOST_DRIVEN). The
 * dispatcher idles with an {@link AsyncIdle.Strategy} fed the work count, so a busy runtime never
 * parks. Counters are {@link StatCounter}s updated off the hot path (the only hot-path one counts BUSY
 * answers, which are rare): the drainer (dispatcher, or {@link #drain()}'s caller) adds to a
 * single-writer field with a plain add and an opaque store, every other thread to a
 * {@link LongAdder}, so applying a command or firing a timer costs no atomic for its counts. A publisher that queues a block touches no runtime-wide counter: such a
 * counter is one more fenced read-modify-write per operation, on a line that the dispatcher's own
 * counters share, so it bounced between the two cores on every re-arm of a cold cell. The queue
 * length that {@link #stats()} reports is counted by walking the queue instead (see
 * {@link BlockQueue#estimateSize()}); tests that must see every offer and poll build their runtime
 * with {@code Builder.countQueueTraffic()}.
 * <p>
 * <b>Time.</b> With the built-in wheel ({@link WheelBackend}, the default) the thread that drains
 * owns the wheel: every dispatcher iteration runs a round of commands and advances the wheel if
 * its next bucket is due; a {@link #drain()} call does the same on the host's thread. The
 * dispatcher sleeps when idle. <b>Sleep protocol:</b> after polling for
 * {@link #POLL_BEFORE_SLEEP_NANOS} it raises {@code sleeping} (volatile), re-checks that the queue
 * is empty, and parks until the wheel's next due time (or indefinitely when nothing is armed). A
 * publisher offers its block (a full fence) and then reads {@code sleeping}; the one whose CAS takes
 * it from 1 to 0 unparks the dispatcher. Each side writes, then reads what the other writes, all
 * sequentially consistent: either the dispatcher sees the block, or the publisher sees the flag,
 * so no command waits for the next due bucket. In HOST_DRIVEN the same flag marks an idle host and
 * the publisher calls {@code hostWakeup} instead. See docs/DESIGN.md sections 6.5 to 6.8.
 */
public final class AsyncRuntime implements AutoCloseable {
    private static final AtomicInteger RUNTIME_IDS = new AtomicInteger();
    private static final VarHandle CLOSED;
    private static final VarHandle CONSUMER;
    private static final VarHandle SLEEPING;
    /** Blocks drained per dispatcher loop before the idle strategy is consulted. */
    private static final int DRAIN_LIMIT = 256;
    /** The default least time between two dispatcher rounds while commands keep coming: 20 µs. */
    static final long DEFAULT_DRAIN_INTERVAL_NANOS = 20_000;
    /**
     * How long an idle dispatcher keeps polling (with its idle strategy) before it sleeps: a
     * runtime with traffic at least this often never sleeps, so its publishers never unpark.
     */
    static final long POLL_BEFORE_SLEEP_NANOS = 1_000_000;
    /** The longest drain interval accepted: 10 ms (commands wait for it, and so do expiries handed over). */
    static final long MAX_DRAIN_INTERVAL_NANOS = 10_000_000;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            CLOSED = l.findVarHandle(AsyncRuntime.class, "closed", boolean.class);
            CONSUMER = l.findVarHandle(AsyncRuntime.class, "consumer", int.class);
            SLEEPING = l.findVarHandle(AsyncRuntime.class, "sleeping", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final DispatchMode mode;
    /** The runtime's name ({@link Builder#name}): thread names, JFR events, meters. */
    private final String name;
    /** The stuck-callback watchdog, or null when none was asked for. */
    final Watchdog watchdog;
    /** The JFR periodic hook ({@link Flight#register}), or null. */
    private final Object flightHook;
    /** Where every deadline computation reads the time (docs/DESIGN.md 6.11). */
    final TimeSource timeSource;
    /** {@link #timeSource} is {@link TimeSource#system()}: read the JDK clocks directly. */
    final boolean systemClock;
    /** The timer backend: {@link #wheel}, or an {@link ExecutorBackend}. */
    final TimerBackend timers;
    /** The built-in wheel, or null when timers go to a {@code ScheduledExecutorService}. */
    final WheelBackend wheel;
    final Executor workExecutor;
    private final ExecutorService ownedWorkPool;
    private final Consumer<Throwable> errorHandler;
    /** Sleeps when idle (wakeOnCommand and a parking idle strategy): publishers wake it. */
    private final boolean sleeps;
    private final Runnable hostWakeup;
    private final long closeTimeoutNanos;
    private final long drainIntervalNanos;
    private final BlockQueue queue = new BlockQueue();
    private final Thread dispatcher;
    private final AsyncIdle.Strategy idle;
    /** The idle strategy's longest park (0 for spin and yield). */
    private final long maxParkNanos;

    private volatile boolean closed;
    private volatile boolean terminated;
    private volatile boolean dispatcherRunning = true;
    /** 1 while a thread polls the queue. */
    @SuppressWarnings("unused")
    private volatile int consumer;
    /**
     * 1 while the dispatcher sleeps (or, in HOST_DRIVEN, while the host is idle): the publisher
     * that moves it from 1 to 0 wakes it (unpark, or the host's wake-up). See the sleep protocol in
     * the class notes. Kept off the dispatcher's busy line (see the padding): publishers read it on every offer; it changes
     * only when the dispatcher goes to sleep or wakes.
     */
    @SuppressWarnings("unused")
    private volatile int sleeping;
    /**
     * Padding, on purpose: HotSpot lays out a class's longs before its ints, so these sit between
     * {@link #consumer} (the first int, which the dispatcher CASes on every iteration) and the
     * fields every publish or offer reads ({@code closed}, {@code sleeping}, {@code queue}), keeping
     * them off the line the dispatcher keeps writing (JOL: consumer at 12, sleeping at 104).
     */
    @SuppressWarnings("unused")
    private long p01, p02, p03, p04, p05, p06, p07;
    /** The wheel's next due time (monotonic scale), published by its owner after each round. */
    private volatile long dueAt = Long.MAX_VALUE;
    /** Unparks of the dispatcher by publishers (tests and benchmarks: one per sleep at most). */
    final LongAdder wakeups = new LongAdder();

    /**
     * The thread that may update the counters below with plain adds: the dispatcher, or the thread
     * inside {@link #drain()} (see {@link StatCounter}). Every other thread counts through a
     * {@code LongAdder}.
     */
    final StatCounter.Writer counterWriter = new StatCounter.Writer();
    final LongAdder published = new StatCounter(counterWriter);
    final LongAdder superseded = new StatCounter(counterWriter);
    final LongAdder busy = new StatCounter(counterWriter);
    final LongAdder drains = new StatCounter(counterWriter);
    final LongAdder fired = new StatCounter(counterWriter);
    final LongAdder workRuns = new StatCounter(counterWriter);
    final LongAdder errors = new StatCounter(counterWriter);
    final LongAdder live = new StatCounter(counterWriter);
    final LongAdder armed = new StatCounter(counterWriter);
    /** Offers to the queue; null (not counted) unless built with {@code countQueueTraffic()}. */
    final LongAdder enqueued;
    /** Polls from the queue; null (not counted) unless built with {@code countQueueTraffic()}. */
    final LongAdder dequeued;
    final LongAdder dropped = new StatCounter(counterWriter);
    /** Stuck callbacks reported by the {@link #watchdog}. */
    final LongAdder stuck = new LongAdder();
    /**
     * When the last JFR {@code DispatcherBehind} event of this runtime was committed
     * ({@code nanoTime}): they are rate-limited (FlightJfr). Touched only by the thread
     * holding the consumer role, and only while the event is enabled.
     */
    long behindEventAt;
    final AtomicInteger activeCallbacks = new AtomicInteger();
    /**
     * Drains running now on any thread: the dispatcher's rounds, {@link #drain()} calls and INLINE
     * callers draining their own block. A close waits for them (but its own thread's).
     */
    final AtomicInteger activeDrains = new AtomicInteger();
    /** Threads in {@link #close()} waiting for callbacks and drains to end, or for another close. */
    private final Waiters closeWaiters = new Waiters();

    private AsyncRuntime(final Builder b) {
        final int id = RUNTIME_IDS.incrementAndGet();
        this.name = b.name != null ? b.name : "latchwork-" + id;
        final String threadPrefix = name;
        final ThreadFactory tf = b.threadFactory;
        this.mode = b.mode;
        this.timeSource = b.timeSource;
        this.systemClock = b.timeSource == SystemTimeSource.INSTANCE;
        this.errorHandler = b.errorHandler != null ? b.errorHandler : AsyncRuntime::defaultErrorHandler;
        this.hostWakeup = b.hostWakeup;
        // A host starts idle: the first command queued on a new runtime calls hostWakeup, so an
        // event loop need not drain once "just in case" before it is told anything.
        this.sleeping = (b.mode == DispatchMode.HOST_DRIVEN && b.hostWakeup != null) ? 1 : 0;
        this.closeTimeoutNanos = b.closeTimeoutNanos;
        this.drainIntervalNanos = b.drainIntervalNanos;
        this.enqueued = b.countQueueTraffic ? new LongAdder() : null;
        this.dequeued = b.countQueueTraffic ? new LongAdder() : null;
        if (b.scheduler != null) {
            this.wheel = null;
            this.timers = new ExecutorBackend(b.scheduler, false);
        } else {
            this.wheel = new WheelBackend(this, b.tickNanos, b.ticksPerWheel);
            this.timers = wheel;
        }
        if (b.workExecutor != null) {
            this.workExecutor = b.workExecutor;
            this.ownedWorkPool = null;
        } else if (b.threadFactory != null) {
            // Every thread the runtime owns comes from the user's factory (contract 2.1). A
            // ForkJoinPool can only run ForkJoinWorkerThreads, which a ThreadFactory does not make,
            // so the owned work pool is then a plain pool of the same size on the factory's threads.
            final int n = Math.max(2, Runtime.getRuntime().availableProcessors());
            final ThreadPoolExecutor pool = new ThreadPoolExecutor(n, n, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), b.threadFactory);
            pool.allowCoreThreadTimeOut(true);
            this.workExecutor = pool;
            this.ownedWorkPool = pool;
        } else {
            final ForkJoinPool pool = new ForkJoinPool(Math.max(2, Runtime.getRuntime().availableProcessors()),
                p -> {
                    final java.util.concurrent.ForkJoinWorkerThread t =
                        ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                    t.setDaemon(true);
                    t.setName(threadPrefix + "-work-" + t.getPoolIndex());
                    return t;
                }, null, true);
            this.workExecutor = pool;
            this.ownedWorkPool = pool;
        }
        final AsyncIdle idleKind = b.idle != null ? b.idle : AsyncIdle.backoff(100_000);
        this.idle = idleKind.newStrategy();
        this.maxParkNanos = idleKind.maxParkNanos();
        this.sleeps = b.wakeOnCommand && idleKind.parks();
        this.watchdog = b.stuckNanos > 0 ? new Watchdog(this, b.stuckNanos) : null;
        if (mode == DispatchMode.HOST_DRIVEN) {
            this.dispatcher = null;
        } else {
            this.dispatcher = ownedThread(tf, this::dispatchLoop, "dispatcher");
            this.dispatcher.start();
        }
        if (watchdog != null) {
            watchdog.start(ownedThread(tf, watchdog, "watchdog"));
        }
        Object hook = null;
        try {
            hook = Flight.SINK.register(this);
        } catch (final Throwable t) {
            // JFR refused (a SecurityException, an OutOfMemoryError): the runtime works without it
        }
        this.flightHook = hook;
    }

    /**
     * A thread the runtime owns: from the user's factory, or a daemon named after the runtime and
     * its role ({@code name-dispatcher}, {@code name-watchdog}).
     */
    private Thread ownedThread(final ThreadFactory tf, final Runnable r, final String role) {
        if (tf != null) {
            return tf.newThread(r);
        }
        final Thread t = new Thread(r, name + "-" + role);
        t.setDaemon(true);
        return t;
    }

    /**
     * Creates a runtime with the defaults (see {@link Builder}).
     *
     * @return a started runtime
     */
    public static AsyncRuntime create() {
        return builder().build();
    }

    /**
     * Starts configuring a runtime.
     *
     * @return a builder with the defaults
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Whether {@link #close()} has been called.
     *
     * @return true once {@link #close()} has been called
     */
    public boolean isClosed() {
        return closed;
    }

    /**
     * The clock this runtime reads: {@link TimeSource#system()} unless built with
     * {@link Builder#timeSource(TimeSource)}. {@link TimerClock#MONOTONIC} {@code startAt}
     * deadlines are on its {@link TimeSource#nanoTime()} scale, {@link TimerClock#REALTIME} ones on
     * its {@link TimeSource#epochNanos()}.
     *
     * @return the time source
     */
    public TimeSource timeSource() {
        return timeSource;
    }

    /** The monotonic time of {@link #timeSource}: {@link System#nanoTime()} on the default. */
    long nanoTime() {
        return systemClock ? System.nanoTime() : timeSource.nanoTime();
    }

    /** The wall-clock time of {@link #timeSource} in epoch nanoseconds (a lower bound). */
    long epochNanos() {
        return systemClock ? System.currentTimeMillis() * 1_000_000L : timeSource.epochNanos();
    }

    /**
     * The dispatch mode this runtime was built with.
     *
     * @return the dispatch mode
     */
    public DispatchMode dispatchMode() {
        return mode;
    }

    /**
     * Drains queued control blocks on the calling thread: the duty-cycle hook of
     * {@link DispatchMode#HOST_DRIVEN} (like Agrona's {@code AgentInvoker.invoke()}). In the other
     * modes the dispatcher thread owns the queue and this returns 0. Only one thread drains at a
     * time; a concurrent call returns 0 at once. Allocation-free unless the backend must be called.
     * <p>
     * One call is one round: it drains the blocks queued when it starts, at most 256. A block
     * queued meanwhile (by a publisher, or re-queued by its own drain because commands kept
     * coming), or one whose publisher is between its two queue steps, waits for the next call, so
     * call it from a duty cycle, not once. Calling it at most once per few microseconds while it
     * finds work lets re-arms of a hot cell coalesce (see {@link Builder#drainInterval}).
     *
     * @return the number of control blocks drained (0 when idle)
     */
    public int drain() {
        if (mode != DispatchMode.HOST_DRIVEN || closed) {
            return 0;
        }
        if (!CONSUMER.compareAndSet(this, 0, 1)) {
            return 0;
        }
        int n = 0;
        try {
            if (sleeping != 0) {
                SLEEPING.setVolatile(this, 0); // the host is awake: no wake-up call while it drains
            }
            final Frames f = enterDrain();
            if (f == null) {
                return 0;
            }
            final WheelBackend wb = wheel;
            if (wb != null) {
                wb.owner = Thread.currentThread();
                wb.ownerFrames = f;
            }
            counterWriter.thread = Thread.currentThread(); // the counters' single writer while we hold the role
            try {
                n = pollAndDrain(DRAIN_LIMIT);
                if (wb != null) {
                    n += wb.advance(nanoTime());
                }
            } finally {
                if (wb != null) {
                    if (closed) {
                        wb.clear(); // a callback closed the runtime: this drain owns the wheel, so it empties it
                    }
                    final long due = wb.wheel.nextDue();
                    if (dueAt != due) {
                        dueAt = due; // only when it changed: publishers read this line on every publish
                    }
                    wb.owner = null;
                    wb.ownerFrames = null;
                }
                counterWriter.thread = null; // before the role is given back (StatCounter)
                exitDrain(f);
            }
        } finally {
            CONSUMER.setVolatile(this, 0);
        }
        if (n == 0 && hostWakeup != null && !closed) {
            // The host is going idle: from now on the first publisher to queue a block calls
            // hostWakeup (sleep protocol, see the class notes). A block queued before the flag was
            // raised is seen by the re-check; then the host is told to drain again.
            SLEEPING.setVolatile(this, 1);
            if (!queue.looksEmpty() && SLEEPING.compareAndSet(this, 1, 0)) {
                return 1;
            }
        }
        return n;
    }

    /**
     * For a host that sleeps between {@link #drain()} calls (or anyone curious): how long until
     * there may be something to do. Racy, cheap, allocation-free.
     *
     * @return 0 when commands are queued or a timer is due; otherwise the nanoseconds until the
     *         earliest armed timer on the wheel may be due, as of the last drain;
     *         {@link Long#MAX_VALUE} when none is armed (always, on an executor backend, whose
     *         timers do not need the host) or the runtime is closed
     */
    public long nanosUntilDue() {
        if (closed) {
            return Long.MAX_VALUE;
        }
        if (!queue.looksEmpty()) {
            return 0;
        }
        final long due = dueAt;
        if (due == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        final long left = due - nanoTime();
        return left <= 0 ? 0 : left;
    }

    /**
     * Counts a drain in flight on this thread, then re-checks the runtime (Dekker with
     * {@link #close()}, which sets {@code closed} and then waits for {@link #activeDrains}): either
     * close sees this drain and waits for it, or this drain sees the close and does not start.
     *
     * @return the thread's frames to hand to {@link #exitDrain}, or null if the runtime is closed
     *         (nothing counted) or the frames cannot be made (an OutOfMemoryError: the drain is
     *         skipped and the block stays queued for a later one)
     */
    Frames enterDrain() {
        final Frames f;
        try {
            f = Frames.current();
        } catch (final Throwable oom) {
            return null;
        }
        activeDrains.incrementAndGet();
        if (closed || !f.push(this)) {
            activeDrains.decrementAndGet();
            wakeClosers();
            return null;
        }
        return f;
    }

    void exitDrain(final Frames f) {
        f.pop();
        activeDrains.decrementAndGet();
        wakeClosers();
    }

    /**
     * After a callback or a drain ended: a close may be waiting for it. One volatile read
     * otherwise.
     */
    void wakeClosers() {
        if (closed) {
            closeWaiters.wakeAll();
        }
    }

    /**
     * One round: drains the blocks queued when it starts, at most {@code limit}. Blocks queued
     * during the round, including a block its own drain re-queued because commands kept coming,
     * wait for the next round (the tail read first marks where this round ends), so a cell that is
     * re-armed without pause cannot keep a round, and the cores, busy with it.
     */
    private int pollAndDrain(final int limit) {
        final BlockQueue.Node last = queue.lvTail();
        // A tail that is the stub bounds the round at the stub: the blocks ahead of it were queued
        // before the round began; those behind it wait for the next round.
        final boolean toStub = queue.isStub(last);
        int n = 0;
        while (n < limit) {
            final ControlBlock b = (ControlBlock) (toStub ? queue.pollBeforeStub() : queue.poll());
            if (b == null) {
                break;
            }
            n++;
            countPoll();
            b.drainDequeued(); // QUEUED -> PROCESSING (getAndSet), then the passes
            if (b == last) {
                break;
            }
        }
        if (n == limit) {
            try {
                Flight.SINK.roundFull(this, n); // JFR DispatcherBehind: blocks are left for the next round
            } catch (final Throwable ignored) {
                // JFR must not cost the round
            }
        }
        return n;
    }

    /**
     * The dispatcher's loop. Rounds of polling are spaced by the drain interval while commands keep
     * coming: after a round that drained something (but did not hit {@link #DRAIN_LIMIT}), the next
     * one starts no sooner than {@code drainIntervalNanos} after it, the wait going through the
     * idle strategy. A block queued meanwhile stays QUEUED, and every command published to it in
     * the window only writes its latch (the publisher finds it queued and does nothing more): a
     * cell re-armed on every event costs one hand-off between the cores per interval instead of
     * one per command, where an eager dispatcher and the publisher would pull the block's lines
     * back and forth on every re-arm. A command published to an idle runtime is drained at the
     * dispatcher's next poll (no window after an empty round); a backlog is drained back to back.
     */
    private void dispatchLoop() {
        final WheelBackend wb = wheel;
        if (wb != null) {
            wb.owner = Thread.currentThread();
        }
        counterWriter.thread = Thread.currentThread(); // for good: the only drainer of this runtime (StatCounter)
        final AsyncIdle.Strategy idle = this.idle;
        final long interval = drainIntervalNanos;
        boolean spacing = false;
        long roundStart = 0;
        long idleSince = 0;
        try {
            while (dispatcherRunning) {
                int work = 0;
                // Nothing in one iteration may end the loop but close(): every step is guarded, and
                // reportError never throws (an OutOfMemoryError anywhere is reported when it can be).
                try {
                    final long now = nanoTime();
                    final boolean round = !spacing || now - roundStart >= interval;
                    if (CONSUMER.compareAndSet(this, 0, 1)) {
                        try {
                            final Frames f = enterDrain();
                            if (f != null) {
                                if (wb != null) {
                                    wb.ownerFrames = f; // the dispatcher's own frames, the same object every time
                                }
                                try {
                                    if (round) {
                                        roundStart = interval == 0 ? 0 : now;
                                        final int polled = pollAndDrain(DRAIN_LIMIT);
                                        spacing = interval > 0 && polled > 0 && polled < DRAIN_LIMIT;
                                        work += polled;
                                    }
                                    if (wb != null) {
                                        work += wb.advance(nanoTime()); // on time, even between spaced rounds
                                    }
                                } finally {
                                    exitDrain(f);
                                }
                            }
                        } finally {
                            CONSUMER.setVolatile(this, 0);
                        }
                    }
                } catch (final Throwable t) {
                    reportError(t);
                }
                if (Thread.interrupted()) {
                    // Only close() stops the dispatcher (by flag). A stray interrupt would make every
                    // park return at once and burn a core: clear it, and count and report it.
                    reportInterrupt();
                }
                try {
                    if (work > 0 || spacing) {
                        idleSince = 0;
                        idle.idle(work); // between spaced rounds: the strategy's short waits
                    } else {
                        if (idleSince == 0) {
                            idleSince = nanoTime() | 1;
                        }
                        idleSince = waitForWork(wb, idleSince);
                    }
                } catch (final Throwable t) {
                    reportError(t);
                }
            }
        } finally {
            if (wb != null) {
                try {
                    wb.clear(); // closed: the owner empties the wheel; nothing on it fires
                } catch (final Throwable t) {
                    reportError(t);
                }
            }
        }
    }

    /**
     * The dispatcher found nothing to do. Polls with the idle strategy for a short while (a busy
     * runtime keeps its dispatcher awake, so publishers never unpark it in steady state), never
     * past the wheel's next due time; then, if it may sleep, sleeps until that time or until a
     * publisher wakes it.
     *
     * @return the idle spell's start, or 0 when the dispatcher slept (a new spell begins)
     */
    private long waitForWork(final WheelBackend wb, final long idleSince) {
        final long due = wb != null ? wb.wheel.nextDue() : Long.MAX_VALUE;
        if (dueAt != due) {
            dueAt = due; // only when it changed: publishers read this line (closed, sleeping) on every offer
        }
        final long now = nanoTime();
        final long untilDue = due == Long.MAX_VALUE ? Long.MAX_VALUE : due - now;
        if (untilDue <= 0) {
            return idleSince;
        }
        if (!sleeps || now - idleSince < POLL_BEFORE_SLEEP_NANOS) {
            if (untilDue < maxParkNanos) {
                LockSupport.parkNanos(this, untilDue); // the strategy might park past the due time
            } else {
                idle.idle(0);
            }
            return idleSince;
        }
        // The sleep protocol (class notes): raise the flag, then look at the queue once more. A
        // publisher offers first and reads the flag second; both are volatile, so either we see
        // its block here or it sees the flag and unparks us.
        SLEEPING.setVolatile(this, 1);
        if (!queue.looksEmpty()) {
            SLEEPING.setVolatile(this, 0);
            return idleSince;
        }
        if (untilDue == Long.MAX_VALUE) {
            LockSupport.park(this);
        } else {
            LockSupport.parkNanos(this, untilDue);
        }
        SLEEPING.setVolatile(this, 0);
        idle.reset();
        return 0;
    }

    private void reportInterrupt() {
        Throwable t;
        try {
            t = new InterruptedException("latchwork dispatcher interrupted; ignored");
        } catch (final Throwable oom) {
            t = oom;
        }
        reportError(t);
    }

    /** Offers a block that just moved IDLE to QUEUED. Lock-free; unparks only if asked to. */
    void enqueue(final ControlBlock b) {
        if (closed) {
            return; // the runtime is gone: the block stays QUEUED and inert
        }
        final LongAdder counter = enqueued; // null unless a test asked (see the class notes)
        if (counter != null) {
            counter.increment();
        }
        queue.offer(b); // a full fence (getAndSet): the flag below is read after the block is in
        if (sleeping != 0 && SLEEPING.compareAndSet(this, 1, 0)) {
            wake(); // one publisher per sleep: the one whose CAS took the flag down
        }
    }

    /** Wakes the sleeping dispatcher, or tells an idle host. Never throws. */
    private void wake() {
        try {
            wakeups.increment();
        } catch (final Throwable ignored) {
            // a counter must not cost the wake-up
        }
        if (dispatcher != null) {
            LockSupport.unpark(dispatcher);
        } else if (hostWakeup != null) {
            try {
                hostWakeup.run();
            } catch (final Throwable t) {
                reportError(t);
            }
        }
    }

    private void countPoll() {
        final LongAdder counter = dequeued;
        if (counter != null) {
            counter.increment();
        }
    }

    void callbackError(final Throwable t) {
        reportError(t);
    }

    /** Counts and reports an error; never throws, whatever the handler does. */
    void reportError(final Throwable t) {
        try {
            errors.increment(); // may allocate a cell: inside the try (hardening #5)
        } catch (final Throwable ignored) {
            // a counter that cannot grow must not keep the error from the handler
        }
        try {
            Flight.SINK.error(this, t);
        } catch (final Throwable ignored) {
            // JFR must not keep the error from the handler
        }
        try {
            errorHandler.accept(t);
        } catch (final Throwable ignored) {
            // an error handler that throws (an OutOfMemoryError included) must not kill the
            // dispatcher or a timer thread
        }
    }

    /** Hands the watchdog's report to the error handler (counted in {@link #stuck}, not as an error). */
    void reportStuck(final StuckCallbackException e) {
        try {
            errorHandler.accept(e);
        } catch (final Throwable ignored) {
            // as in reportError
        }
    }

    /**
     * The default error handler: {@link System.Logger} {@code dev.latchwork}, level ERROR
     * (WARNING for a stuck-callback report: the callback may still return).
     */
    private static void defaultErrorHandler(final Throwable t) {
        if (t instanceof StuckCallbackException) {
            DefaultLog.LOGGER.log(System.Logger.Level.WARNING, "latchwork: stuck callback", t);
        } else {
            DefaultLog.LOGGER.log(System.Logger.Level.ERROR, "latchwork: callback or backend error", t);
        }
    }

    /** Holder: the logger is looked up on the first error, not when a runtime is built. */
    private static final class DefaultLog {
        static final System.Logger LOGGER = System.getLogger("dev.latchwork");
    }

    /**
     * Takes a snapshot of the counters (allocates). {@link AsyncStats#drainsPending()} is counted
     * by walking the queue: O(blocks queued), exact when no thread is publishing or draining.
     *
     * @return the snapshot
     */
    public AsyncStats stats() {
        final long pending = queue.estimateSize();
        return new AsyncStats(published.sum(), superseded.sum(), busy.sum(), drains.sum(), fired.sum(),
            workRuns.sum(), errors.sum(), live.sum(), armed.sum(), pending, dropped.sum());
    }

    // ------------------------------------------------------------------------------------------
    // counters one by one: each is a sum over a striped counter, allocation-free, lock-free

    /**
     * Commands published by {@code start}/{@code startAt}/{@code cancelAsync}/{@code cancel}, as
     * in {@link AsyncStats#commandsPublished()}. Allocation-free; a running estimate while traffic
     * runs (each counter is summed on its own, not in one atomic cut with the others).
     *
     * @return the count since the runtime was built
     */
    public long commandsPublished() {
        return published.sum();
    }

    /**
     * Commands coalesced before they took effect (a later one on the same cell won), as in
     * {@link AsyncStats#commandsSuperseded()}. Allocation-free.
     *
     * @return the count since the runtime was built
     */
    public long commandsSuperseded() {
        return superseded.sum();
    }

    /**
     * {@link AsyncStatus#BUSY} answers given to publishers, as in {@link AsyncStats#busy()}.
     * Allocation-free.
     *
     * @return the count since the runtime was built
     */
    public long busyAnswers() {
        return busy.sum();
    }

    /**
     * Drain passes run over control blocks, as in {@link AsyncStats#drains()}. Allocation-free.
     *
     * @return the count since the runtime was built
     */
    public long drains() {
        return drains.sum();
    }

    /**
     * Timer callbacks invoked, as in {@link AsyncStats#timersFired()}. Allocation-free.
     *
     * @return the count since the runtime was built
     */
    public long timersFired() {
        return fired.sum();
    }

    /**
     * Work callbacks invoked, as in {@link AsyncStats#workRuns()}. Allocation-free.
     *
     * @return the count since the runtime was built
     */
    public long workRuns() {
        return workRuns.sum();
    }

    /**
     * Errors handed to the error handler: callbacks that threw and backend failures, as in
     * {@link AsyncStats#callbackErrors()}. Stuck-callback reports are not counted here (see
     * {@link #stuckCallbacks()}). Allocation-free.
     *
     * @return the count since the runtime was built
     */
    public long callbackErrors() {
        return errors.sum();
    }

    /**
     * Control blocks initialized and not yet dead, as in {@link AsyncStats#controlBlocksLive()}.
     * A gauge. Allocation-free.
     *
     * @return the number now (racy)
     */
    public long controlBlocksLive() {
        return live.sum();
    }

    /**
     * Timers armed on the backend, as in {@link AsyncStats#timersArmed()}. A gauge.
     * Allocation-free.
     *
     * @return the number now (racy)
     */
    public long timersArmed() {
        return armed.sum();
    }

    /**
     * Control blocks queued for a drain, as in {@link AsyncStats#drainsPending()}: counted by
     * walking the queue, so O(blocks queued); exact only when no thread publishes or drains. A
     * gauge. Allocation-free.
     *
     * @return the number now (racy)
     */
    public long drainsPending() {
        return queue.estimateSize();
    }

    /**
     * Commands never applied because their block died or the runtime closed, as in
     * {@link AsyncStats#commandsDropped()}. Allocation-free.
     *
     * @return the count since the runtime was built
     */
    public long commandsDropped() {
        return dropped.sum();
    }

    /**
     * Callbacks reported stuck by the watchdog ({@link Builder#stuckCallbackThreshold}): each
     * invocation that ran past the threshold counts once. Always 0 without a watchdog. Not part of
     * {@link AsyncStats}. Allocation-free.
     *
     * @return the count since the runtime was built
     */
    public long stuckCallbacks() {
        return stuck.sum();
    }

    /**
     * The runtime's name: {@link Builder#name}, or {@code latchwork-N} by default (N counts the
     * runtimes built in this JVM). It names the threads the runtime makes (unless a
     * {@link Builder#threadFactory} makes them), and tags its JFR events and Micrometer meters.
     *
     * @return the name, never blank
     */
    public String name() {
        return name;
    }

    /**
     * Closes the runtime. Idempotent; callable from any thread, including a callback (it does not
     * wait for the callback it is called from). When it returns, no callback is running (but the
     * caller's own) and none will start; every cell answers {@link AsyncStatus#CLOSED}; owned
     * executors are shut down (user-supplied ones are left alone); pending commands are dropped
     * and counted. May block while other callbacks finish, for at most the close timeout
     * ({@link Builder#closeTimeout}, 30 s by default): a callback that never returns is reported to
     * the error handler and close returns anyway. Not for hot paths.
     */
    @Override
    public void close() {
        final Frames frames = Frames.currentOrNull();
        // What this thread is inside of, in this runtime: close never waits for those (contract
        // 3.9: a callback lower on our own stack cannot return while we wait).
        final int ownCallbacks = frames == null ? 0 : frames.callbacksOf(this);
        // ... of which activeCallbacks counts these (wheel fires are counted as drains instead)
        final int ownCounted = frames == null ? 0 : frames.countedCallbacksOf(this);
        final int ownDrains = frames == null ? 0 : frames.drainsOf(this);
        if (!CLOSED.compareAndSet(this, false, true)) {
            if (ownCallbacks == 0 && ownDrains == 0 && Thread.currentThread() != dispatcher) {
                closeWaiters.await(() -> terminated, Long.MAX_VALUE); // the first close finishes
            }
            return;
        }
        dispatcherRunning = false;
        if (watchdog != null) {
            watchdog.stop(); // no stuck report once close has begun
        }
        try {
            Flight.SINK.unregister(flightHook);
        } catch (final Throwable t) {
            reportError(t);
        }
        closeWaiters.wakeAll(); // nothing yet; for symmetry with the waits below
        final long deadline = System.nanoTime() + closeTimeoutNanos;
        if (dispatcher != null && Thread.currentThread() != dispatcher) {
            LockSupport.unpark(dispatcher);
            // Bounded: on the wheel, timer callbacks run on the dispatcher, and one that never
            // returns must not hang close (it is reported below, with the callbacks still running).
            boolean interrupted = false;
            long left;
            while (dispatcher.isAlive() && (left = deadline - System.nanoTime()) > 0) {
                try {
                    dispatcher.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (final InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        // Drains already running on other threads (a drain() caller, an INLINE publisher) may still
        // call the executors: wait for them before shutting those down (hardening #6). A drain that
        // starts now sees the runtime closed and does nothing (enterDrain).
        if (!closeWaiters.await(() -> activeDrains.get() <= ownDrains, Math.max(0, deadline - System.nanoTime()))) {
            reportError(new IllegalStateException("latchwork: " + (activeDrains.get() - ownDrains)
                + " drain(s) still running " + closeTimeoutNanos / 1_000_000 + " ms after close; not waiting longer"));
        }
        if (CONSUMER.compareAndSet(this, 0, 1)) { // count what will never be applied
            final WheelBackend wb = wheel;
            if (wb != null && (dispatcher == null || !dispatcher.isAlive())) {
                // no drain is running (we hold the consumer role): empty the wheel here
                wb.owner = Thread.currentThread();
                try {
                    wb.clear();
                } catch (final Throwable t) {
                    reportError(t);
                }
                wb.owner = null;
            }
            for (BlockQueue.Node n = queue.poll(); n != null; n = queue.poll()) {
                final ControlBlock b = (ControlBlock) n;
                countPoll();
                final long latest = ((long) ControlBlock.SEQ.getVolatile(b)) >>> 2;
                final long last = b.consumed;
                if (latest > last) {
                    published.add(latest - last);
                    dropped.add(latest - last);
                }
            }
        }
        // shutdown(), not shutdownNow(): never interrupt a running callback (it may be the caller).
        // Delayed wake-ups are dropped (policy set at construction); queued work runs find the
        // runtime closed and invoke nothing.
        final boolean wasInterrupted = Thread.currentThread().isInterrupted();
        timers.shutdown();
        if (ownedWorkPool != null) {
            ownedWorkPool.shutdown();
        }
        if (ownCallbacks > 0 && !wasInterrupted) {
            Thread.interrupted(); // JDK 17's ForkJoinPool.shutdown() may interrupt the calling worker
        }
        final long left = deadline - System.nanoTime();
        if (!closeWaiters.await(() -> activeCallbacks.get() <= ownCounted, Math.max(0, left))) {
            reportError(new IllegalStateException("latchwork: " + (activeCallbacks.get() - ownCounted)
                + " callback(s) still running " + closeTimeoutNanos / 1_000_000 + " ms after close; not waiting longer"));
        }
        terminated = true;
        closeWaiters.wakeAll();
    }

    @Override
    public String toString() {
        return "AsyncRuntime[" + name + ", " + mode + (closed ? ", closed]" : "]");
    }

    /**
     * Configures an {@link AsyncRuntime}. Defaults: {@link DispatchMode#DEFERRED}, one dispatcher
     * thread whose rounds are spaced by a {@link #drainInterval drain interval} of 20 µs under
     * traffic, which polls with {@link AsyncIdle#backoff(long) backoff(100 µs)} for a millisecond
     * when idle and then sleeps until the next timer is due or a publisher wakes it; the built-in
     * {@link #timerWheel timer wheel} (2^17 ns tick, 64 slots per level) as timer backend, timer
     * callbacks on the dispatcher; an owned {@link ForkJoinPool} for work callbacks; the name
     * {@code latchwork-N} and daemon threads named after it ({@code latchwork-N-dispatcher},
     * {@code latchwork-N-work-K}); no stuck-callback watchdog; errors logged at level ERROR to the
     * {@link System.Logger} named {@code dev.latchwork}. Not thread safe.
     */
    public static final class Builder {
        private DispatchMode mode = DispatchMode.DEFERRED;
        private ScheduledExecutorService scheduler;
        private AsyncIdle idle;
        private boolean wakeOnCommand = true;
        private long tickNanos = WheelBackend.DEFAULT_TICK_NANOS;
        private int ticksPerWheel = WheelBackend.DEFAULT_TICKS_PER_WHEEL;
        private Runnable hostWakeup;
        private Consumer<Throwable> errorHandler;
        private ThreadFactory threadFactory;
        private Executor workExecutor;
        private long closeTimeoutNanos = TimeUnit.SECONDS.toNanos(30);
        private long drainIntervalNanos = DEFAULT_DRAIN_INTERVAL_NANOS;
        private boolean countQueueTraffic;
        private String name;
        private long stuckNanos;
        private TimeSource timeSource = SystemTimeSource.INSTANCE;

        private Builder() {
        }

        /**
         * Names the runtime (default {@code latchwork-N}, N counting the runtimes built in this
         * JVM). The name prefixes the threads the runtime makes when no
         * {@link #threadFactory(ThreadFactory) thread factory} is given ({@code name-dispatcher},
         * {@code name-work-K}, {@code name-watchdog}), is the {@code runtime} field of its JFR
         * events and the {@code runtime} tag of its Micrometer meters, and is in its
         * {@link StuckCallbackException} messages. Names need not be unique, but meters of two
         * runtimes with one name are one meter to a registry.
         *
         * @param name the name; not blank
         * @return this builder
         * @throws NullPointerException     if {@code name} is null
         * @throws IllegalArgumentException if {@code name} is empty or only white space
         */
        public Builder name(final String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.name = name;
            return this;
        }

        /**
         * Turns on the stuck-callback watchdog (off by default): a callback that has been running
         * for longer than {@code threshold} is reported to the {@link #errorHandler error handler}
         * as a {@link StuckCallbackException} whose stack trace is the stuck thread's (the default
         * handler logs it at level {@code WARNING}), and as a
         * JFR {@code dev.latchwork.StuckCallback} event. Each invocation is reported at most once,
         * while it is still running, from the watchdog's thread (never from the stuck one); it is
         * counted by {@link AsyncRuntime#stuckCallbacks()}. Timer callbacks (on the dispatcher,
         * the {@code drain()} caller's thread or the scheduler's) and work callbacks are both
         * watched; a callback nested in another on one thread counts as part of the outer one.
         * <p>
         * The watchdog is one daemon thread (from the {@link #threadFactory thread factory}, if
         * any) that sleeps between passes, one every half threshold but no more often than once a
         * millisecond: a stuck callback is reported between one and about one and a half
         * thresholds after it started. It stops when the runtime closes. While it runs, each
         * callback costs a {@code System.nanoTime()} and a few ordered stores; without it,
         * nothing. Work callbacks may block by contract: choose a bound above the longest
         * legitimate work run, or give slow work its own runtime.
         *
         * @param threshold how long a callback may run before it is reported; {@link Duration#ZERO}
         *                  turns the watchdog off (the default)
         * @return this builder
         * @throws NullPointerException     if {@code threshold} is null
         * @throws IllegalArgumentException if {@code threshold} is negative
         */
        public Builder stuckCallbackThreshold(final Duration threshold) {
            Objects.requireNonNull(threshold, "threshold");
            if (threshold.isNegative()) {
                throw new IllegalArgumentException("threshold must not be negative, got " + threshold);
            }
            long nanos;
            try {
                nanos = threshold.toNanos();
            } catch (final ArithmeticException tooLong) {
                nanos = Long.MAX_VALUE; // longer than 292 years: never reported, but accepted
            }
            this.stuckNanos = nanos;
            return this;
        }

        /**
         * Where commands are applied (default {@link DispatchMode#DEFERRED}).
         *
         * @param mode see {@link DispatchMode}
         * @return this builder
         */
        public Builder dispatchMode(final DispatchMode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * Uses the built-in timer wheel (the default) with this geometry. Timer callbacks run on
         * the thread that drains the runtime: the dispatcher, or in
         * {@link DispatchMode#HOST_DRIVEN} the caller of {@link AsyncRuntime#drain()}. A timer
         * fires at most about one tick (plus the thread's wake-up latency) after its deadline,
         * never before. Levels of {@code ticksPerWheel} slots, each level's slot spanning the whole
         * lower level, cover every deadline up to {@link Long#MAX_VALUE}. The default, 2^17 ns
         * (131 µs) and 64, was chosen by measurement (docs/DESIGN.md).
         *
         * @param tickNanos     the resolution; rounded up to a power of two within [2^10, 2^30] ns
         * @param ticksPerWheel slots per level; rounded up to a power of two within [16, 4096]
         * @return this builder
         * @throws IllegalArgumentException if either is not positive
         */
        public Builder timerWheel(final long tickNanos, final int ticksPerWheel) {
            if (tickNanos <= 0) {
                throw new IllegalArgumentException("tickNanos must be positive, got " + tickNanos);
            }
            if (ticksPerWheel <= 0) {
                throw new IllegalArgumentException("ticksPerWheel must be positive, got " + ticksPerWheel);
            }
            this.tickNanos = tickNanos;
            this.ticksPerWheel = ticksPerWheel;
            this.scheduler = null;
            return this;
        }

        /**
         * Uses a caller-owned scheduler as the timer backend instead of the built-in wheel: it is
         * not shut down by {@link AsyncRuntime#close()}, and timer callbacks run on its threads.
         * Prefer a {@link ScheduledThreadPoolExecutor} with remove-on-cancel, or cancelled
         * wake-ups linger until their time. Costs a task object per scheduled wake-up; the wheel
         * costs none.
         *
         * @param scheduler the scheduler
         * @return this builder
         */
        public Builder timerScheduler(final ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * For {@link DispatchMode#HOST_DRIVEN}: called when a command is queued while the host is
         * idle (a new runtime's host is idle, and so is one whose last {@link AsyncRuntime#drain()}
         * found nothing to do), at most once per idle
         * spell, on the publisher's thread, so that an event loop schedules its drain only when
         * there is something to do. It must not block and should not throw (a throw is reported to
         * the error handler). Timers coming due need no command: the host asks
         * {@link AsyncRuntime#nanosUntilDue()} how long it may sleep.
         *
         * @param wakeup what to call
         * @return this builder
         */
        public Builder hostWakeup(final Runnable wakeup) {
            this.hostWakeup = Objects.requireNonNull(wakeup, "wakeup");
            return this;
        }

        /**
         * Uses a caller-owned executor for work callbacks: it is not shut down by
         * {@link AsyncRuntime#close()}. The default is an owned {@link ForkJoinPool} (async mode,
         * max(2, cores) threads). Work callbacks that block for long should get an executor sized
         * for blocking (a cached or fixed pool): blocking a ForkJoinPool worker outside
         * {@link ForkJoinPool#managedBlock} does not add threads. Timers never run on it.
         *
         * @param executor runs the work callbacks
         * @return this builder
         */
        public Builder workExecutor(final Executor executor) {
            this.workExecutor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * Bounds how long {@link AsyncRuntime#close()} waits for running callbacks (default 30 s).
         * A callback still running then is reported to the error handler and close returns.
         *
         * @param timeout the longest wait, 0 or more
         * @param unit    the unit of {@code timeout}
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder closeTimeout(final long timeout, final TimeUnit unit) {
            Objects.requireNonNull(unit, "unit");
            if (timeout < 0) {
                throw new IllegalArgumentException("timeout must be >= 0, got " + timeout);
            }
            this.closeTimeoutNanos = unit.toNanos(timeout);
            return this;
        }

        /**
         * Spaces the dispatcher's rounds while commands keep coming (default 20 µs; modes
         * DEFERRED and INLINE). After a round that applied something, the next starts no sooner
         * than this after it, so commands published meanwhile to the same cell coalesce in its
         * latch, and a cell re-armed on every event is handed between the publisher's core and
         * the dispatcher's once per interval instead of once per re-arm. The first command after
         * a quiet spell is applied at the dispatcher's next poll; a backlog is drained without
         * pauses. The cost: under sustained traffic a command waits up to about this long (plus
         * the idle strategy's granularity, up to its longest park) before it is applied. 0 drains
         * eagerly (lowest deferral latency, most cross-core traffic on hot cells).
         * {@link DispatchMode#HOST_DRIVEN} has no dispatcher: its duty cycle chooses when to call
         * {@link AsyncRuntime#drain()}, and the same reasoning applies to how often it does.
         *
         * @param interval the spacing, between 0 and 10 ms
         * @param unit     the unit of {@code interval}
         * @return this builder
         * @throws IllegalArgumentException if negative or above 10 ms
         */
        public Builder drainInterval(final long interval, final TimeUnit unit) {
            Objects.requireNonNull(unit, "unit");
            final long nanos = unit.toNanos(interval);
            if (interval < 0 || nanos > MAX_DRAIN_INTERVAL_NANOS) {
                throw new IllegalArgumentException("drain interval must be between 0 and 10 ms, got " + interval + " " + unit);
            }
            this.drainIntervalNanos = nanos;
            return this;
        }

        /**
         * How the dispatcher waits for work (default {@link AsyncIdle#backoff(long)
         * backoff(100 µs)}).
         *
         * @param idle the idle strategy
         * @return this builder
         */
        public Builder idle(final AsyncIdle idle) {
            this.idle = Objects.requireNonNull(idle, "idle");
            return this;
        }

        /**
         * Whether a publisher may wake a sleeping dispatcher (default true). With true and a
         * parking idle strategy ({@link AsyncIdle#backoff}), a dispatcher that found nothing to do
         * for a while sleeps until the wheel's next due time, and the first publisher to queue a
         * block meanwhile unparks it: one unpark per sleep, none while traffic keeps it awake.
         * With false, publishers never unpark; the dispatcher polls with its idle strategy, whose
         * longest park bounds the deferral of a command (and it never parks past a due timer).
         *
         * @param wake whether publishers may wake the dispatcher
         * @return this builder
         */
        public Builder wakeDispatcherOnCommand(final boolean wake) {
            this.wakeOnCommand = wake;
            return this;
        }

        /**
         * Where errors go: exceptions thrown by callbacks, and backend failures (a scheduler or
         * executor that rejects or throws). A backend failure drops what it was asked for: a
         * timer whose wake-up could not be scheduled is disarmed ({@link AsyncTimer#isArmed()}
         * false), a work run goes back to idle; the start that published it had already answered
         * {@code OK}, and the cell's next start tries the backend again. The default logs each
         * error with its stack trace at level {@code ERROR} to the {@link System.Logger} named
         * {@code dev.latchwork} (java.util.logging when the {@code java.logging} module is
         * present, otherwise the JDK's simple console logger; SLF4J/Log4j bridges plug in as a
         * {@code System.LoggerFinder}).
         *
         * @param handler called on the thread that saw the error; must not block
         * @return this builder
         */
        public Builder errorHandler(final Consumer<Throwable> handler) {
            this.errorHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Makes every thread the runtime owns: the dispatcher, the owned work pool's threads and
         * the {@link #stuckCallbackThreshold watchdog}. The factory names them: the runtime's
         * {@link #name(String) name} is then not in their names.
         *
         * @param factory the thread factory
         * @return this builder
         */
        public Builder threadFactory(final ThreadFactory factory) {
            this.threadFactory = Objects.requireNonNull(factory, "factory");
            return this;
        }

        /**
         * Reads the time from {@code source} instead of the system clocks (default
         * {@link TimeSource#system()}): relative starts, {@link TimerClock#MONOTONIC}
         * {@code startAt} deadlines ({@link TimeSource#nanoTime()} scale), {@link TimerClock#REALTIME}
         * {@code startAt} deadlines ({@link TimeSource#epochNanos()}), the wheel and
         * {@link AsyncRuntime#nanosUntilDue()}. Meant for tests, with a {@link ManualTimeSource}:
         * time moves only when the test advances it, and due timers fire in the test's own
         * {@link AsyncRuntime#drain()} calls, with no sleeps.
         * <p>
         * Any source but {@link TimeSource#system()} needs {@link DispatchMode#HOST_DRIVEN} and the
         * built-in wheel: a dispatcher thread sleeps, and a {@code ScheduledExecutorService} waits,
         * on real time, and neither would notice the test's clock move. {@link #build()} rejects
         * the other combinations. Real waits stay on real time (how long {@link AsyncRuntime#close()}
         * waits for callbacks, a synchronous cancel).
         *
         * @param source the clock to read
         * @return this builder
         */
        public Builder timeSource(final TimeSource source) {
            this.timeSource = Objects.requireNonNull(source, "source");
            return this;
        }

        /**
         * For tests (package-private): count every offer to and poll from the queue in
         * {@code enqueued} / {@code dequeued}, so that a test can check that each offer is polled
         * exactly once. Off by default: it adds a shared counter to the publisher's path.
         */
        Builder countQueueTraffic() {
            this.countQueueTraffic = true;
            return this;
        }

        /**
         * Builds and starts the runtime.
         *
         * @return a started runtime
         * @throws IllegalArgumentException if a {@link #timeSource(TimeSource) time source} other
         *                                  than the system one is combined with a mode other than
         *                                  {@link DispatchMode#HOST_DRIVEN} or with a
         *                                  {@link #timerScheduler(ScheduledExecutorService) timer scheduler}
         */
        public AsyncRuntime build() {
            if (timeSource != SystemTimeSource.INSTANCE) {
                if (mode != DispatchMode.HOST_DRIVEN) {
                    throw new IllegalArgumentException("a time source other than TimeSource.system() needs "
                        + "DispatchMode.HOST_DRIVEN (a dispatcher thread sleeps on real time), got " + mode);
                }
                if (scheduler != null) {
                    throw new IllegalArgumentException("a time source other than TimeSource.system() needs the "
                        + "built-in timer wheel: a timerScheduler waits on real time");
                }
            }
            return new AsyncRuntime(this);
        }
    }
}
