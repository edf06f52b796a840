package dev.latchwork.reliability;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.AsyncWork;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerCallback;
import dev.latchwork.TimerClock;
import dev.latchwork.WorkCallback;

/**
 * One seed of the multi-threaded model test: several threads race random operations over a few
 * cells of two runtimes, and the run is checked against invariants rather than a sequential
 * model (the interleaving is not reproducible, the operation mix is).
 *
 * <h2>The two groups of cells</h2>
 * <b>Group A</b> (attributed cells): 3 timers (one on {@link TimerClock#REALTIME}) and 2 work
 * items, initialized once and never closed while the threads race, so that every {@code OK} start
 * is known to belong to the cell's one control block. Threads race starts, absolute starts,
 * async and sync cancels and callback swaps; callbacks re-arm themselves, cancel themselves,
 * throw, swap their own callback. <b>Group B</b> (churn cells): 2 timers and 1 work item that are
 * also initialized and closed concurrently with the starts, on a runtime that threads (and a timer
 * callback) close and replace while everything runs.
 *
 * <h2>Invariants, and why each check is exact</h2>
 * <ol>
 * <li><b>No callback after the runtime's close returned.</b> Every callback checks, at entry and
 *     at exit, a flag set right after its runtime's {@code close()} returned (the callback that
 *     closed its own runtime excepted). The runtime's close waits for running callbacks, so any
 *     callback code seen after the flag is a violation; there is no window.</li>
 * <li><b>No callback after a cell's close returned.</b> A cell's close does not wait for a
 *     callback already running, so the check needs a barrier: the B timers and work items run on
 *     single-threaded executors owned by the test; after {@code close()} returns, the closer submits
 *     a task to that thread that seals the owner. A callback that finds its owner sealed was
 *     started after close returned: a violation, exactly.</li>
 * <li><b>A work callback never runs twice at once</b>: a per-owner counter (A's work executor has
 *     two threads).</li>
 * <li><b>No fire before its deadline, each start fires at most once.</b> Which start a fire
 *     belongs to is not observable, so the check is Hall's condition for a matching: with the
 *     deadlines of all {@code OK} starts of a cell sorted ({@code start(d)} contributes "time read
 *     before the call + d", a lower bound of its real deadline) and the fire times sorted, the k-th
 *     fire must not come before the k-th deadline, and there are no more fires than starts. A
 *     fire before its own deadline, or two fires of one start, makes this fail for some k. Work
 *     runs are checked the same way against the times their starts began.</li>
 * <li><b>After quiescence the applied state is the last command's, and the last start fires
 *     exactly once.</b> When the racing threads have stopped, group A is brought to a quiet state
 *     (every {@code OK} command claimed: {@code stats().commandsPublished()} equals the number of
 *     {@code OK} publishes, counted before each publish; no work task in flight), then one final
 *     command is published per cell. The timers' final commands are published by a task on the
 *     single timer thread itself, which first reads the fire counts: a callback that ran before
 *     that task belongs to an older arm; one that runs after it was decided after the final
 *     command was published (an older arm's wake-up then defers to the pending command), so it
 *     can only be the final command's. Exactly one fire must follow for a final {@code start} or
 *     {@code startAt(past)}, none for a final {@code cancelAsync}, {@code startAt(far)} or sync
 *     {@code cancel()}; a work item started from the quiet state runs exactly once; then
 *     {@code isArmed()}/{@code deadline()}/{@code isPending()} must show the final command.</li>
 * <li><b>Failure isolation</b>: injected exceptions are all reported, counted exactly in
 *     {@code callbackErrors()}, and nothing else is reported.</li>
 * </ol>
 */
final class ConcurrentModel {
    static final long MS = 1_000_000L;
    static final long HOUR = TimeUnit.HOURS.toNanos(1);
    static final long[] DELAYS = {0, 20_000, 100_000, 500_000, MS, 2 * MS};
    static final int THREADS = 3;
    static final int OPS_PER_THREAD = 150;
    static final int TA = 3;
    static final int WA = 2;
    static final int TB = 2;
    static final int WB = 1;

    /** An exception a callback throws on purpose. */
    static final class Injected extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Injected(final String what) {
            super("injected by " + what, null, false, false);
        }
    }

    /** A runtime and the flag its callbacks check. */
    static final class Rt {
        final AsyncRuntime rt;
        final String name;
        final AtomicLong injected = new AtomicLong();
        volatile boolean closeReturned;

        Rt(final AsyncRuntime rt, final String name) {
            this.rt = rt;
            this.name = name;
        }
    }

    /** The owner of one control block. */
    static final class Owner {
        final String name;
        final Rt rt;
        final TimerClock clock;
        final int slot;
        final boolean groupA;
        final Queue<Long> starts;
        final Queue<Long> entries;
        final AtomicInteger count = new AtomicInteger();
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger budget = new AtomicInteger(3);
        volatile boolean sealed;
        volatile long lastEntry;
        volatile long lastEntryMono;

        Owner(final String name, final Rt rt, final TimerClock clock, final int slot, final boolean groupA,
              final Queue<Long> starts, final Queue<Long> entries) {
            this.name = name;
            this.rt = rt;
            this.clock = clock;
            this.slot = slot;
            this.groupA = groupA;
            this.starts = starts;
            this.entries = entries;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Counts submitted-but-unfinished tasks, so "no work run in flight" is exact. */
    static final class CountingExecutor implements java.util.concurrent.Executor {
        final ExecutorService delegate;
        final AtomicInteger inFlight = new AtomicInteger();

        CountingExecutor(final ExecutorService delegate) {
            this.delegate = delegate;
        }

        @Override
        public void execute(final Runnable r) {
            inFlight.incrementAndGet();
            try {
                delegate.execute(() -> {
                    try {
                        r.run();
                    } finally {
                        inFlight.decrementAndGet();
                    }
                });
            } catch (final RuntimeException e) {
                inFlight.decrementAndGet();
                throw e;
            }
        }
    }

    final long seed;
    final SplittableRandom rnd;
    final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    final Queue<Throwable> reported = new ConcurrentLinkedQueue<>();
    final ThreadLocal<Boolean> closingOwnRuntime = ThreadLocal.withInitial(() -> false);

    // group A
    final ScheduledThreadPoolExecutor schedA = newScheduler("A");
    final CountingExecutor workA = new CountingExecutor(new ThreadPoolExecutor(2, 2, 1, TimeUnit.MINUTES,
        new LinkedBlockingQueue<>(), daemon("lw-test-workA")));
    final Rt rtA;
    final AtomicLong okA = new AtomicLong();
    final List<AsyncTimer<Owner>> tA = new ArrayList<>();
    final List<Owner> oTA = new ArrayList<>();
    final List<AsyncWork<Owner>> wA = new ArrayList<>();
    final List<Owner> oWA = new ArrayList<>();

    // group B
    final ScheduledThreadPoolExecutor schedB = newScheduler("B");
    final ExecutorService workB = Executors.newSingleThreadExecutor(daemon("lw-test-workB"));
    final DispatchMode modeB;
    final List<Rt> runtimesB = Collections.synchronizedList(new ArrayList<>());
    volatile Rt rtB;
    /** Held by whoever closes a B runtime, across the close (a test lock; the library takes none). */
    final java.util.concurrent.locks.ReentrantLock rtLock = new java.util.concurrent.locks.ReentrantLock();
    final List<AsyncTimer<Owner>> tB = new ArrayList<>();
    final List<AsyncWork<Owner>> wB = new ArrayList<>();
    final Owner[] curTB = new Owner[TB];
    final Owner[] curWB = new Owner[WB];
    final Object[] lockTB = new Object[TB];
    final Object[] lockWB = new Object[WB];
    final List<Queue<Long>> startsTB = new ArrayList<>();
    final List<Queue<Long>> entriesTB = new ArrayList<>();
    final List<Queue<Long>> startsWB = new ArrayList<>();
    final List<Queue<Long>> entriesWB = new ArrayList<>();
    final AtomicInteger runtimeCloseBudget = new AtomicInteger(1);
    final AtomicInteger gens = new AtomicInteger();

    final List<TimerCallback<Owner>> tcb = new ArrayList<>();
    final List<WorkCallback<Owner>> wcb = new ArrayList<>();

    ConcurrentModel(final long seed) {
        this.seed = seed;
        this.rnd = new SplittableRandom(seed);
        for (int v = 0; v < 8; v++) {
            final int variant = v;
            tcb.add((o, t) -> onTimer(variant, o, t));
        }
        for (int v = 0; v < 6; v++) {
            final int variant = v;
            wcb.add((o, w) -> onWork(variant, o, w));
        }
        final DispatchMode modeA = rnd.nextBoolean() ? DispatchMode.DEFERRED : DispatchMode.INLINE;
        modeB = rnd.nextBoolean() ? DispatchMode.DEFERRED : DispatchMode.INLINE;
        rtA = new Rt(AsyncRuntime.builder().dispatchMode(modeA).timerScheduler(schedA).workExecutor(workA)
            .wakeDispatcherOnCommand(rnd.nextBoolean()).errorHandler(this::onError).build(), "A(" + modeA + ")");
        for (int i = 0; i < TA; i++) {
            final TimerClock clock = i == TA - 1 ? TimerClock.REALTIME : TimerClock.MONOTONIC;
            final Owner o = new Owner("TA" + i, rtA, clock, i, true, new ConcurrentLinkedQueue<>(), new ConcurrentLinkedQueue<>());
            final AsyncTimer<Owner> t = new AsyncTimer<>();
            expect(o + ".init", AsyncStatus.OK, t.init(rtA.rt, o, clock));
            expect(o + ".setCallback", AsyncStatus.OK, t.setCallback(tcb.get(0)));
            tA.add(t);
            oTA.add(o);
        }
        for (int i = 0; i < WA; i++) {
            final Owner o = new Owner("WA" + i, rtA, null, i, true, new ConcurrentLinkedQueue<>(), new ConcurrentLinkedQueue<>());
            final AsyncWork<Owner> w = new AsyncWork<>();
            expect(o + ".init", AsyncStatus.OK, w.init(rtA.rt, o));
            expect(o + ".setCallback", AsyncStatus.OK, w.setCallback(wcb.get(0)));
            wA.add(w);
            oWA.add(o);
        }
        rtB = newRuntimeB();
        for (int i = 0; i < TB; i++) {
            tB.add(new AsyncTimer<>());
            lockTB[i] = new Object();
            startsTB.add(new ConcurrentLinkedQueue<>());
            entriesTB.add(new ConcurrentLinkedQueue<>());
        }
        for (int i = 0; i < WB; i++) {
            wB.add(new AsyncWork<>());
            lockWB[i] = new Object();
            startsWB.add(new ConcurrentLinkedQueue<>());
            entriesWB.add(new ConcurrentLinkedQueue<>());
        }
    }

    static ScheduledThreadPoolExecutor newScheduler(final String name) {
        final ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, daemon("lw-test-sched" + name));
        s.setRemoveOnCancelPolicy(true);
        s.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return s;
    }

    static java.util.concurrent.ThreadFactory daemon(final String name) {
        return r -> {
            final Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    Rt newRuntimeB() {
        final Rt r = new Rt(AsyncRuntime.builder().dispatchMode(modeB).timerScheduler(schedB).workExecutor(workB)
            .errorHandler(this::onError).build(), "B#" + runtimesB.size() + "(" + modeB + ")");
        runtimesB.add(r);
        return r;
    }

    void onError(final Throwable t) {
        reported.add(t);
        if (!(t instanceof Injected)) {
            violation("unexpected error reported: " + t);
        }
    }

    void violation(final String what) {
        violations.add(what + " [thread " + Thread.currentThread().getName() + "]");
    }

    void expect(final String what, final int expected, final int actual) {
        if (expected != actual) {
            violation(what + " answered " + AsyncStatus.name(actual) + ", expected " + AsyncStatus.name(expected));
        }
    }

    void expectOneOf(final String what, final int actual, final int... allowed) {
        for (final int a : allowed) {
            if (a == actual) {
                return;
            }
        }
        violation(what + " answered " + AsyncStatus.name(actual));
    }

    static long now(final TimerClock c) {
        return c == TimerClock.REALTIME ? System.currentTimeMillis() * MS : System.nanoTime();
    }

    // ------------------------------------------------------------------------------------------
    // callbacks

    void enter(final Owner o, final long now, final boolean work) {
        o.entries.add(now);
        o.lastEntry = now;
        o.lastEntryMono = System.nanoTime();
        o.count.incrementAndGet();
        if (o.sealed) {
            violation(o + ": callback started after its cell's close() returned (sealed by a later task on its thread)");
        }
        if (o.rt.closeReturned) {
            violation(o + ": callback started after runtime " + o.rt.name + " close() returned");
        }
        if (work && o.running.incrementAndGet() != 1) {
            violation(o + ": work callback running twice at once");
        }
    }

    void exit(final Owner o, final boolean work) {
        if (work) {
            o.running.decrementAndGet();
        }
        if (o.rt.closeReturned && !closingOwnRuntime.get()) {
            violation(o + ": callback still running after runtime " + o.rt.name + " close() returned");
        }
        closingOwnRuntime.set(false);
    }

    void onTimer(final int v, final Owner o, final AsyncTimer<Owner> t) {
        enter(o, now(o.clock), false);
        try {
            switch (v) {
                case 1:
                    if (o.budget.decrementAndGet() >= 0) {
                        final long d = DELAYS[ThreadLocalRandom.current().nextInt(DELAYS.length)];
                        expectOneOf(o + ".start from its callback", start(o, t, d), AsyncStatus.OK, AsyncStatus.BUSY,
                            AsyncStatus.CLOSED, AsyncStatus.DEAD, AsyncStatus.NO_CALLBACK, AsyncStatus.NOT_INITIALIZED);
                    }
                    break;
                case 2:
                    o.rt.injected.incrementAndGet();
                    throw new Injected(o + " timer callback");
                case 3:
                    cancelAsync(o, t);
                    break;
                case 4:
                    t.setCallback(tcb.get(0));
                    break;
                case 5:
                    if (!o.groupA) {
                        closeB(o.slot, true, o);
                    }
                    break;
                case 6:
                    // Close the own runtime from a callback, only as its first closer: a second close()
                    // called from a callback returns at once (it must not wait for a closer that waits
                    // for it), so only the first closer's return means "no other callback runs".
                    if (!o.groupA && !o.rt.rt.isClosed() && rtLock.tryLock()) {
                        try {
                            if (!o.rt.rt.isClosed() && runtimeCloseBudget.decrementAndGet() >= 0) {
                                o.rt.rt.close();
                                o.rt.closeReturned = true;
                                closingOwnRuntime.set(true);
                            }
                        } finally {
                            rtLock.unlock();
                        }
                    }
                    break;
                case 7:
                    spin(200_000); // widens the window in which a close finds a callback running
                    break;
                default:
                    break;
            }
        } finally {
            exit(o, false);
        }
    }

    void onWork(final int v, final Owner o, final AsyncWork<Owner> w) {
        enter(o, System.nanoTime(), true);
        try {
            switch (v) {
                case 1:
                    if (o.budget.decrementAndGet() >= 0) {
                        expectOneOf(o + ".start from its callback", startWork(o, w), AsyncStatus.OK, AsyncStatus.BUSY,
                            AsyncStatus.CLOSED, AsyncStatus.DEAD, AsyncStatus.NO_CALLBACK, AsyncStatus.NOT_INITIALIZED);
                    }
                    break;
                case 2:
                    o.rt.injected.incrementAndGet();
                    throw new Injected(o + " work callback");
                case 3:
                    spin(200_000);
                    break;
                case 4:
                    cancelAsyncWork(o, w);
                    break;
                case 5:
                    if (!o.groupA) {
                        closeB(o.slot, false, o);
                    }
                    break;
                default:
                    break;
            }
        } finally {
            exit(o, true);
        }
    }

    static void spin(final long nanos) {
        final long until = System.nanoTime() + nanos;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    // ------------------------------------------------------------------------------------------
    // publishing with bookkeeping (group A counts OK publishes before publishing)

    int start(final Owner o, final AsyncTimer<Owner> t, final long d) {
        if (o.groupA) {
            okA.incrementAndGet();
        }
        // On a REALTIME cell a relative start runs on the monotonic clock (contract 2.2), while the
        // fire is stamped with the wall clock's millisecond floor: the bound allows that floor.
        final long lb = now(o.clock) + d - (o.clock == TimerClock.REALTIME ? MS : 0);
        final int r = t.start(d);
        afterPublish(o, r, lb);
        return r;
    }

    int startAt(final Owner o, final AsyncTimer<Owner> t, final long deadline) {
        if (o.groupA) {
            okA.incrementAndGet();
        }
        final int r = t.startAt(deadline);
        afterPublish(o, r, deadline);
        return r;
    }

    int startWork(final Owner o, final AsyncWork<Owner> w) {
        if (o.groupA) {
            okA.incrementAndGet();
        }
        final long lb = System.nanoTime();
        final int r = w.start();
        afterPublish(o, r, lb);
        return r;
    }

    private void afterPublish(final Owner o, final int r, final long lowerBound) {
        if (r == AsyncStatus.OK) {
            o.starts.add(lowerBound);
        } else if (o.groupA) {
            okA.decrementAndGet();
        }
    }

    int cancelAsync(final Owner o, final AsyncTimer<Owner> t) {
        if (o.groupA) {
            okA.incrementAndGet();
        }
        final int r = t.cancelAsync();
        if (r != AsyncStatus.OK && o.groupA) {
            okA.decrementAndGet();
        }
        return r;
    }

    int cancelAsyncWork(final Owner o, final AsyncWork<Owner> w) {
        if (o.groupA) {
            okA.incrementAndGet();
        }
        final int r = w.cancelAsync();
        if (r != AsyncStatus.OK && o.groupA) {
            okA.decrementAndGet();
        }
        return r;
    }

    /** Sync cancel on a group A cell: always publishes (the cell is never closed meanwhile). */
    int cancelSyncA(final AsyncCellOps c) {
        okA.incrementAndGet();
        final int r = c.cancel();
        if (r != AsyncStatus.OK && r != AsyncStatus.WAS_PENDING) {
            okA.decrementAndGet();
        }
        return r;
    }

    /** The two cell types' sync cancel. */
    interface AsyncCellOps {
        int cancel();
    }

    // ------------------------------------------------------------------------------------------
    // the racing threads

    void opA(final SplittableRandom r) {
        final int p = r.nextInt(100);
        if (p < 63) {
            final int i = r.nextInt(TA);
            final Owner o = oTA.get(i);
            final AsyncTimer<Owner> t = tA.get(i);
            if (p < 25) {
                expectOneOf(o + ".start", start(o, t, DELAYS[r.nextInt(DELAYS.length)]),
                    AsyncStatus.OK, AsyncStatus.BUSY, AsyncStatus.NO_CALLBACK);
            } else if (p < 42) {
                final long now = now(o.clock);
                final int k = r.nextInt(6);
                final long d = k == 0 ? now - MS : k == 1 ? now + HOUR : now + DELAYS[r.nextInt(DELAYS.length)];
                expectOneOf(o + ".startAt", startAt(o, t, d), AsyncStatus.OK, AsyncStatus.BUSY, AsyncStatus.NO_CALLBACK);
            } else if (p < 50) {
                expectOneOf(o + ".cancelAsync", cancelAsync(o, t), AsyncStatus.OK, AsyncStatus.BUSY);
            } else if (p < 53) {
                expectOneOf(o + ".cancel", cancelSyncA(t::cancel), AsyncStatus.OK, AsyncStatus.WAS_PENDING);
            } else {
                expect(o + ".setCallback", AsyncStatus.OK, t.setCallback(tcb.get(r.nextBoolean() ? 0 : pickA(r))));
            }
        } else if (p < 92) {
            final int i = r.nextInt(WA);
            final Owner o = oWA.get(i);
            final AsyncWork<Owner> w = wA.get(i);
            if (p < 78) {
                expectOneOf(o + ".start", startWork(o, w), AsyncStatus.OK, AsyncStatus.BUSY, AsyncStatus.NO_CALLBACK);
            } else if (p < 83) {
                expectOneOf(o + ".cancelAsync", cancelAsyncWork(o, w), AsyncStatus.OK, AsyncStatus.BUSY);
            } else if (p < 85) {
                expectOneOf(o + ".cancel", cancelSyncA(w::cancel), AsyncStatus.OK, AsyncStatus.WAS_PENDING);
            } else {
                expect(o + ".setCallback", AsyncStatus.OK, w.setCallback(wcb.get(r.nextBoolean() ? 0 : r.nextInt(5))));
            }
        } else {
            pause(r);
        }
    }

    /** A timer callback variant that group A uses (no close of the cell or of the runtime). */
    static int pickA(final SplittableRandom r) {
        final int v = r.nextInt(6);
        return v == 5 ? 7 : v;
    }

    void opB(final SplittableRandom r) {
        final int p = r.nextInt(1000);
        if (p < 5) {
            swapRuntimeB(null);
            return;
        }
        if (p < 700) {
            final int i = r.nextInt(TB);
            final AsyncTimer<Owner> t = tB.get(i);
            final Owner o = curTB[i]; // racy on purpose: the cell may be closed/re-initialized meanwhile
            if (p < 100) {
                initB(i, true, r);
                return;
            }
            if (p < 170) {
                closeB(i, true, null);
                return;
            }
            if (o == null) {
                expectOneOf("TB" + i + ".start (uninitialized)", t.start(1), AsyncStatus.NOT_INITIALIZED,
                    AsyncStatus.OK, AsyncStatus.BUSY, AsyncStatus.NO_CALLBACK, AsyncStatus.DEAD, AsyncStatus.CLOSED);
                return;
            }
            final int s;
            if (p < 400) {
                // records the start against the cell; the start may land on a newer block of the same cell
                final long d = DELAYS[r.nextInt(DELAYS.length)];
                s = start(o, t, d);
            } else if (p < 550) {
                s = startAt(o, t, now(o.clock) + DELAYS[r.nextInt(DELAYS.length)]);
            } else if (p < 620) {
                s = t.cancelAsync();
            } else {
                s = t.setCallback(tcb.get(r.nextInt(3) == 0 ? r.nextInt(8) : 0));
            }
            expectOneOf(o + " op", s, AsyncStatus.OK, AsyncStatus.BUSY, AsyncStatus.NO_CALLBACK, AsyncStatus.DEAD,
                AsyncStatus.CLOSED, AsyncStatus.NOT_INITIALIZED);
            if (s == AsyncStatus.CLOSED) {
                swapRuntimeB(o.rt);
                closeB(i, true, null);
                initB(i, true, r);
            }
        } else if (p < 950) {
            final int i = r.nextInt(WB);
            final AsyncWork<Owner> w = wB.get(i);
            final Owner o = curWB[i];
            if (p < 760) {
                initB(i, false, r);
                return;
            }
            if (p < 790) {
                closeB(i, false, null);
                return;
            }
            if (o == null) {
                return;
            }
            final int s;
            if (p < 900) {
                s = startWork(o, w);
            } else if (p < 920) {
                s = w.cancelAsync();
            } else {
                s = w.setCallback(wcb.get(r.nextInt(4) == 0 ? r.nextInt(6) : 0));
            }
            expectOneOf(o + " op", s, AsyncStatus.OK, AsyncStatus.BUSY, AsyncStatus.NO_CALLBACK, AsyncStatus.DEAD,
                AsyncStatus.CLOSED, AsyncStatus.NOT_INITIALIZED);
            if (s == AsyncStatus.CLOSED) {
                swapRuntimeB(o.rt);
                closeB(i, false, null);
                initB(i, false, r);
            }
        } else {
            pause(r);
        }
    }

    static void pause(final SplittableRandom r) {
        final int k = r.nextInt(10);
        if (k < 6) {
            for (int i = r.nextInt(200); i > 0; i--) {
                Thread.onSpinWait();
            }
        } else if (k < 9) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(50_000 + r.nextInt(1_000_000));
        }
    }

    void initB(final int i, final boolean timer, final SplittableRandom r) {
        final Object lock = timer ? lockTB[i] : lockWB[i];
        synchronized (lock) {
            final Owner cur = timer ? curTB[i] : curWB[i];
            final Rt rt = rtB;
            final Owner o = new Owner((timer ? "TB" : "WB") + i + "#" + gens.incrementAndGet() + "@" + rt.name, rt,
                timer ? TimerClock.MONOTONIC : null, i, false,
                timer ? startsTB.get(i) : startsWB.get(i), timer ? entriesTB.get(i) : entriesWB.get(i));
            final int s = timer ? tB.get(i).init(rt.rt, o, TimerClock.MONOTONIC) : wB.get(i).init(rt.rt, o);
            if (cur == null) {
                if (s == AsyncStatus.OK) {
                    if (timer) {
                        curTB[i] = o;
                        expectOneOf(o + ".setCallback", tB.get(i).setCallback(tcb.get(r.nextInt(3) == 0 ? r.nextInt(8) : 0)),
                            AsyncStatus.OK, AsyncStatus.CLOSED);
                    } else {
                        curWB[i] = o;
                        expectOneOf(o + ".setCallback", wB.get(i).setCallback(wcb.get(r.nextInt(3) == 0 ? r.nextInt(6) : 0)),
                            AsyncStatus.OK, AsyncStatus.CLOSED);
                    }
                } else if (s != AsyncStatus.CLOSED) {
                    violation(o + ".init of an empty cell answered " + AsyncStatus.name(s));
                }
            } else if (s != AsyncStatus.BUSY && s != AsyncStatus.CLOSED) {
                violation(o + ".init of an initialized cell answered " + AsyncStatus.name(s));
            }
        }
    }

    /** Closes a B cell (only if {@code expected} is its owner, when given) and seals the owner. */
    void closeB(final int i, final boolean timer, final Owner expected) {
        final Object lock = timer ? lockTB[i] : lockWB[i];
        synchronized (lock) {
            final Owner cur = timer ? curTB[i] : curWB[i];
            if (expected != null && cur != expected) {
                return; // a callback of an older block: the cell now belongs to someone else
            }
            final int s = timer ? tB.get(i).close() : wB.get(i).close();
            if (cur == null) {
                expect("B cell close (uninitialized)", AsyncStatus.NOT_INITIALIZED, s);
                return;
            }
            expectOneOf(cur + ".close", s, AsyncStatus.OK, AsyncStatus.CLOSED);
            if (timer) {
                curTB[i] = null;
            } else {
                curWB[i] = null;
            }
            try {
                (timer ? schedB : workB).execute(() -> cur.sealed = true);
            } catch (final java.util.concurrent.RejectedExecutionException e) {
                // test teardown: the executors are gone, nothing can run any more
            }
        }
    }

    void swapRuntimeB(final Rt seen) {
        rtLock.lock();
        try {
            final Rt cur = rtB;
            if (seen != null && seen != cur) {
                return; // someone already replaced it
            }
            cur.rt.close();
            cur.closeReturned = true;
            rtB = newRuntimeB();
        } finally {
            rtLock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------
    // the run

    void run() throws Exception {
        final Thread[] threads = new Thread[THREADS];
        final long[] threadSeeds = new long[THREADS];
        for (int k = 0; k < THREADS; k++) {
            threadSeeds[k] = rnd.nextLong();
        }
        final java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(THREADS);
        final Queue<Throwable> crashes = new ConcurrentLinkedQueue<>();
        for (int k = 0; k < THREADS; k++) {
            final SplittableRandom r = new SplittableRandom(threadSeeds[k]);
            threads[k] = new Thread(() -> {
                try {
                    go.await(10, TimeUnit.SECONDS);
                    for (int n = 0; n < OPS_PER_THREAD; n++) {
                        if (r.nextBoolean()) {
                            opA(r);
                        } else {
                            opB(r);
                        }
                    }
                } catch (final Throwable e) {
                    crashes.add(e);
                }
            }, "lw-test-op-" + k);
            threads[k].setDaemon(true);
            threads[k].start();
        }
        for (final Thread t : threads) {
            t.join(30_000);
            if (t.isAlive()) {
                violation("racing thread " + t.getName() + " did not finish in 30 s");
            }
        }
        for (final Throwable e : crashes) {
            violation("racing thread crashed: " + e);
        }
        swapRuntimeB(null); // closes B while its last timers may still be firing
        try {
            finalPhaseA();
        } finally {
            teardown();
        }
        checkMatching();
        checkErrors();
    }

    void finalPhaseA() throws Exception {
        for (final AsyncTimer<Owner> t : tA) {
            expect("final setCallback", AsyncStatus.OK, t.setCallback(tcb.get(0)));
        }
        for (final AsyncWork<Owner> w : wA) {
            expect("final setCallback", AsyncStatus.OK, w.setCallback(wcb.get(0)));
        }
        schedA.submit(() -> { }).get(10, TimeUnit.SECONDS); // no re-arming timer callback after this
        awaitQuietA("before the final commands");

        // The final timer commands are published from a task on the timer thread itself. Every
        // callback that ran before this task was decided before the final commands existed; every
        // callback that runs after it was decided after they were published, when a wake-up of an
        // older arm either finds the final command still unapplied (and defers to the drain) or
        // finds the final command's target. So the fires after this task are the final commands'.
        final int[] kind = new int[TA];
        final long[] lowerBound = new long[TA];
        final long[] far = new long[TA];
        final int[] atBarrier = new int[TA];
        for (int i = 0; i < TA; i++) {
            kind[i] = rnd.nextInt(5);
            far[i] = rnd.nextInt(1000);
        }
        final long[] delays = new long[TA];
        for (int i = 0; i < TA; i++) {
            delays[i] = DELAYS[rnd.nextInt(DELAYS.length)];
        }
        schedA.submit(() -> {
            for (int i = 0; i < TA; i++) {
                final Owner o = oTA.get(i);
                final AsyncTimer<Owner> t = tA.get(i);
                atBarrier[i] = o.count.get();
                final long now = now(o.clock);
                switch (kind[i]) {
                    case 0:
                        // a relative start is measured on the monotonic clock, on a REALTIME cell too (contract 2.2)
                        lowerBound[i] = System.nanoTime() + delays[i];
                        expect(o + " final start", AsyncStatus.OK, start(o, t, delays[i]));
                        break;
                    case 1:
                        lowerBound[i] = now - MS;
                        expect(o + " final startAt(past)", AsyncStatus.OK, startAt(o, t, now - MS));
                        break;
                    case 2:
                        far[i] += now + HOUR;
                        expect(o + " final startAt(far)", AsyncStatus.OK, startAt(o, t, far[i]));
                        break;
                    case 3:
                        expect(o + " final cancelAsync", AsyncStatus.OK, cancelAsync(o, t));
                        break;
                    default:
                        expectOneOf(o + " final cancel", cancelSyncA(t::cancel), AsyncStatus.OK, AsyncStatus.WAS_PENDING);
                        break;
                }
            }
        }).get(10, TimeUnit.SECONDS);
        final int[] workKind = new int[WA];
        final int[] runsBefore = new int[WA];
        final long[] workLowerBound = new long[WA];
        for (int i = 0; i < WA; i++) {
            final Owner o = oWA.get(i);
            runsBefore[i] = o.count.get(); // quiet: no run in flight, none pending
            workKind[i] = rnd.nextInt(3);
            workLowerBound[i] = System.nanoTime();
            if (workKind[i] == 0) {
                expect(o + " final start", AsyncStatus.OK, startWork(o, wA.get(i)));
            } else if (workKind[i] == 1) {
                expect(o + " final cancelAsync", AsyncStatus.OK, cancelAsyncWork(o, wA.get(i)));
            }
        }

        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (int i = 0; i < TA; i++) {
            if (kind[i] <= 1) {
                while (oTA.get(i).count.get() == atBarrier[i] && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(100_000);
                }
            }
        }
        for (int i = 0; i < WA; i++) {
            if (workKind[i] == 0) {
                while (oWA.get(i).count.get() == runsBefore[i] && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(100_000);
                }
            }
        }
        awaitQuietA("after the final commands");
        for (int i = 0; i < TA; i++) {
            final AsyncTimer<Owner> t = tA.get(i);
            final boolean armed = t.isArmed();
            final long dl = t.deadline();
            if (kind[i] == 2) {
                if (!armed || dl != far[i]) {
                    violation(oTA.get(i) + ": after a final startAt(far) isArmed()=" + armed + " deadline()=" + dl
                        + " (expected " + far[i] + ")");
                }
            } else if (armed || dl != Long.MAX_VALUE) {
                violation(oTA.get(i) + ": after final command kind " + kind[i] + " isArmed()=" + armed + " deadline()=" + dl);
            }
        }
        for (int i = 0; i < WA; i++) {
            if (wA.get(i).isPending()) {
                violation(oWA.get(i) + ": still pending after quiescence");
            }
        }
        rtA.rt.close();
        rtA.closeReturned = true;
        for (int i = 0; i < TA; i++) {
            final Owner o = oTA.get(i);
            final int after = o.count.get() - atBarrier[i];
            final int expected = kind[i] <= 1 ? 1 : 0;
            if (after != expected) {
                violation(o + ": " + after + " fire(s) after the final command (kind " + kind[i] + "), expected " + expected);
            }
            final long entry = kind[i] == 0 ? o.lastEntryMono : o.lastEntry;
            if (expected == 1 && entry < lowerBound[i]) {
                violation(o + ": final fire at " + entry + " before its deadline " + lowerBound[i]);
            }
        }
        for (int i = 0; i < WA; i++) {
            final Owner o = oWA.get(i);
            final int after = o.count.get() - runsBefore[i];
            final int expected = workKind[i] == 0 ? 1 : 0;
            if (after != expected) {
                violation(o + ": " + after + " run(s) after the final command (kind " + workKind[i] + "), expected " + expected);
            }
            if (expected == 1 && o.lastEntry < workLowerBound[i]) {
                violation(o + ": final run began before its start");
            }
        }
    }

    void awaitQuietA(final String when) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            final long published = rtA.rt.stats().commandsPublished();
            final long ok = okA.get();
            boolean pending = false;
            for (final AsyncWork<Owner> w : wA) {
                pending |= w.isPending();
            }
            if (published == ok && workA.inFlight.get() == 0 && !pending) {
                return;
            }
            if (System.nanoTime() > deadline) {
                violation("group A not quiet " + when + " after 10 s: commandsPublished=" + published + " okPublishes="
                    + ok + " workInFlight=" + workA.inFlight.get() + " workPending=" + pending + " " + rtA.rt.stats());
                return;
            }
            LockSupport.parkNanos(100_000);
        }
    }

    void teardown() throws InterruptedException {
        if (!rtA.closeReturned) {
            rtA.rt.close();
            rtA.closeReturned = true;
        }
        rtLock.lock();
        try {
            rtB.rt.close();
            rtB.closeReturned = true;
        } finally {
            rtLock.unlock();
        }
        for (final Rt r : runtimesB) {
            r.rt.close();
            r.closeReturned = true;
        }
        schedA.shutdownNow();
        schedB.shutdownNow();
        workA.delegate.shutdown();
        workB.shutdown();
        for (final ExecutorService e : new ExecutorService[] {schedA, schedB, workA.delegate, workB}) {
            if (!e.awaitTermination(10, TimeUnit.SECONDS)) {
                violation("test executor did not terminate");
            }
        }
    }

    void checkMatching() {
        for (int i = 0; i < TA; i++) {
            match(oTA.get(i).toString(), oTA.get(i).starts, oTA.get(i).entries, "fire", "deadline");
        }
        for (int i = 0; i < WA; i++) {
            match(oWA.get(i).toString(), oWA.get(i).starts, oWA.get(i).entries, "run", "start");
        }
        for (int i = 0; i < TB; i++) {
            match("TB" + i + " (all generations)", startsTB.get(i), entriesTB.get(i), "fire", "deadline");
        }
        for (int i = 0; i < WB; i++) {
            match("WB" + i + " (all generations)", startsWB.get(i), entriesWB.get(i), "run", "start");
        }
    }

    /** Hall's condition: the k-th event must not precede the k-th earliest start; no more events than starts. */
    void match(final String cell, final Queue<Long> starts, final Queue<Long> events, final String event, final String bound) {
        final List<Long> s = new ArrayList<>(starts);
        final List<Long> e = new ArrayList<>(events);
        Collections.sort(s);
        Collections.sort(e);
        if (e.size() > s.size()) {
            violation(cell + ": " + e.size() + " " + event + "s but only " + s.size() + " OK starts");
            return;
        }
        for (int k = 0; k < e.size(); k++) {
            if (e.get(k) < s.get(k)) {
                violation(cell + ": " + event + " #" + (k + 1) + " at " + e.get(k) + " precedes the " + (k + 1)
                    + "-th earliest " + bound + " " + s.get(k) + " (by " + (s.get(k) - e.get(k)) + " ns)");
                return;
            }
        }
    }

    void checkErrors() {
        long injected = rtA.injected.get();
        if (rtA.rt.stats().callbackErrors() != rtA.injected.get()) {
            violation(rtA.name + ": callbackErrors " + rtA.rt.stats().callbackErrors() + " but " + rtA.injected.get() + " injected");
        }
        for (final Rt r : runtimesB) {
            injected += r.injected.get();
            if (r.rt.stats().callbackErrors() != r.injected.get()) {
                violation(r.name + ": callbackErrors " + r.rt.stats().callbackErrors() + " but " + r.injected.get() + " injected");
            }
        }
        if (reported.size() != injected) {
            violation(reported.size() + " errors reported to the handlers but " + injected + " injected");
        }
    }

    /** @return a short description of what the seed exercised */
    String summary() {
        long fires = 0;
        long runs = 0;
        for (final Owner o : oTA) {
            fires += o.count.get();
        }
        for (final Owner o : oWA) {
            runs += o.count.get();
        }
        for (final Queue<Long> q : entriesTB) {
            fires += q.size();
        }
        for (final Queue<Long> q : entriesWB) {
            runs += q.size();
        }
        return fires + " fires, " + runs + " runs, " + runtimesB.size() + " B runtimes";
    }
}
