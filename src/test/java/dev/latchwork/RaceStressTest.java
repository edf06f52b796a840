package dev.latchwork;

import static dev.latchwork.AsyncStatus.BUSY;
import static dev.latchwork.AsyncStatus.DEAD;
import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.NO_CALLBACK;
import static dev.latchwork.AsyncStatus.OK;
import static dev.latchwork.AsyncStatus.WAS_PENDING;
import static dev.latchwork.TimerStatusTest.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * A bounded random race on ONE shared cell: four threads issue random {@code start},
 * {@code startAt}, {@code cancelAsync}, {@code cancel}, {@code close}, {@code init} and
 * {@code setCallback} for a fixed time. Every answer must be a documented status for its
 * operation, nothing may throw, and after the final {@code close()} no callback may start (judged
 * with a {@link Modes.TrackingScheduler}, see {@link TimerCloseTest}). Afterwards the cell must still
 * work. The seed is printed; rerun one with {@code -Dlatchwork.race.seed=N}.
 */
@Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class RaceStressTest {
    private static final int THREADS = 4;
    private static final long TIMER_MILLIS = 600;
    private static final long WORK_MILLIS = 300;

    private static final Set<Integer> START = Set.of(OK, BUSY, NOT_INITIALIZED, NO_CALLBACK, DEAD);
    private static final Set<Integer> CANCEL_ASYNC = Set.of(OK, BUSY, NOT_INITIALIZED, DEAD);
    private static final Set<Integer> CANCEL = Set.of(OK, WAS_PENDING, NOT_INITIALIZED);
    private static final Set<Integer> CLOSE = Set.of(OK, NOT_INITIALIZED);
    private static final Set<Integer> INIT = Set.of(OK, BUSY);
    private static final Set<Integer> SET_CALLBACK = Set.of(OK, NOT_INITIALIZED);

    private static long seed(final String test, final DispatchMode mode) {
        final long seed = Long.getLong("latchwork.race.seed", System.nanoTime());
        System.out.println("RaceStressTest." + test + " " + mode + " seed=" + seed);
        return seed;
    }

    /** Collects the first few unexpected answers and throwables. */
    static final class Problems {
        final Map<String, Set<String>> seen = new ConcurrentHashMap<>();
        final List<String> bad = java.util.Collections.synchronizedList(new ArrayList<>());

        void check(final String op, final int status, final Set<Integer> allowed) {
            seen.computeIfAbsent(op, k -> ConcurrentHashMap.newKeySet()).add(AsyncStatus.name(status));
            if (!allowed.contains(status) && bad.size() < 20) {
                bad.add(op + " -> " + AsyncStatus.name(status));
            }
        }

        void thrown(final Throwable t) {
            bad.add("threw " + t);
        }
    }

    /** Runs {@code body} on {@link #THREADS} threads with per-thread randoms until the deadline. */
    private static void race(final long seed, final long millis, final Problems p, final RaceBody body)
        throws InterruptedException {
        final CyclicBarrier go = new CyclicBarrier(THREADS);
        final List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            final SplittableRandom rnd = new SplittableRandom(seed + 0x9E3779B97F4A7C15L * (i + 1));
            final Thread th = new Thread(() -> {
                try {
                    go.await(Modes.WAIT_SECONDS, TimeUnit.SECONDS);
                    final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
                    while (System.nanoTime() - end < 0) {
                        for (int k = 0; k < 64; k++) {
                            body.step(rnd);
                        }
                    }
                } catch (final Throwable t) {
                    p.thrown(t);
                }
            }, "race-" + i);
            th.start();
            ts.add(th);
        }
        for (final Thread th : ts) {
            th.join();
        }
    }

    interface RaceBody {
        void step(SplittableRandom rnd) throws Exception;
    }

    @Modes.AllModes
    void randomOperationsOnOneTimerCell(final DispatchMode mode) throws Exception {
        final long seed = seed("timer", mode);
        final Modes.TrackingScheduler sched = new Modes.TrackingScheduler();
        try (Modes.Harness h = Modes.open(mode, b -> b.timerScheduler(sched))) {
            h.own(sched);
            final AsyncTimer<Object> t = new AsyncTimer<>();
            final AtomicLong closedAtTask = new AtomicLong(Long.MAX_VALUE);
            final AtomicInteger late = new AtomicInteger();
            final AtomicInteger fired = new AtomicInteger();
            final Problems p = new Problems();
            final TimerCallback<Object> cb = (o, tm) -> {
                if (Modes.TrackingScheduler.currentTask() > closedAtTask.get()) {
                    late.incrementAndGet();
                }
                final int n = fired.incrementAndGet();
                if (n % 4 == 0) {
                    p.check("callback start", tm.start(n % 3 * 100_000L), START);
                } else if (n % 11 == 0) {
                    p.check("callback cancelAsync", tm.cancelAsync(), CANCEL_ASYNC);
                }
            };
            race(seed, TIMER_MILLIS, p, rnd -> {
                final int op = rnd.nextInt(100);
                if (op < 30) {
                    p.check("start", t.start(rnd.nextLong(2_000_000)), START);
                } else if (op < 38) {
                    p.check("start(unit)", t.start(rnd.nextInt(3), TimeUnit.MILLISECONDS), START);
                } else if (op < 46) {
                    p.check("startAt", t.startAt(System.nanoTime() + rnd.nextLong(-1_000_000, 2_000_000)), START);
                } else if (op < 60) {
                    p.check("cancelAsync", t.cancelAsync(), CANCEL_ASYNC);
                } else if (op < 63) {
                    p.check("cancel", t.cancel(), CANCEL);
                } else if (op < 73) {
                    p.check("close", t.close(), CLOSE);
                } else if (op < 85) {
                    final TimerClock clock = rnd.nextBoolean() ? TimerClock.MONOTONIC : TimerClock.REALTIME;
                    p.check("init", t.init(h.rt, new Object(), clock), INIT);
                } else if (op < 97) {
                    p.check("setCallback", t.setCallback(cb), SET_CALLBACK);
                } else {
                    t.isArmed();
                    t.deadline();
                    t.isInitialized();
                }
            });
            t.close();
            closedAtTask.set(sched.started());
            Modes.pause(50);
            System.out.println("RaceStressTest.timer " + mode + ": fired " + fired.get() + ", statuses " + p.seen
                + ", " + h.rt.stats());
            assertTrue(p.bad.isEmpty(), "seed " + seed + ": " + p.bad);
            assertEquals(0, late.get(), "seed " + seed + ": a callback started after the final close returned");
            assertTrue(h.errors.isEmpty(), "seed " + seed + ": " + h.errors);

            // the cell is not wedged
            final CountDownLatch again = new CountDownLatch(1);
            assertStatus(OK, t.init(h.rt, new Object(), TimerClock.MONOTONIC));
            assertStatus(OK, t.setCallback((o, tm) -> again.countDown()));
            assertStatus(OK, t.start(0));
            Modes.await("seed " + seed + ": the cell still fires after the race", again);
        }
    }

    /** One owner per init: a work cell's runs for one block never overlap. */
    static final class Owner {
        final AtomicInteger inside = new AtomicInteger();
    }

    @Modes.AllModes
    void randomOperationsOnOneWorkCell(final DispatchMode mode) throws Exception {
        final long seed = seed("work", mode);
        final Modes.TrackingScheduler pool = new Modes.TrackingScheduler(2);
        try (Modes.Harness h = Modes.open(mode, b -> b.workExecutor(pool))) {
            h.own(pool);
            final AsyncWork<Owner> w = new AsyncWork<>();
            final AtomicLong closedAtTask = new AtomicLong(Long.MAX_VALUE);
            final AtomicInteger late = new AtomicInteger();
            final AtomicInteger overlap = new AtomicInteger();
            final AtomicInteger runs = new AtomicInteger();
            final Problems p = new Problems();
            final WorkCallback<Owner> cb = (o, x) -> {
                if (Modes.TrackingScheduler.currentTask() > closedAtTask.get()) {
                    late.incrementAndGet();
                }
                if (o.inside.incrementAndGet() != 1) {
                    overlap.incrementAndGet();
                }
                if (runs.incrementAndGet() % 5 == 0) {
                    p.check("callback start", x.start(), START);
                }
                for (int i = 0; i < 100; i++) {
                    Thread.onSpinWait();
                }
                o.inside.decrementAndGet();
            };
            race(seed, WORK_MILLIS, p, rnd -> {
                final int op = rnd.nextInt(100);
                if (op < 40) {
                    p.check("start", w.start(), START);
                } else if (op < 55) {
                    p.check("cancelAsync", w.cancelAsync(), CANCEL_ASYNC);
                } else if (op < 58) {
                    p.check("cancel", w.cancel(), CANCEL);
                } else if (op < 70) {
                    p.check("close", w.close(), CLOSE);
                } else if (op < 83) {
                    p.check("init", w.init(h.rt, new Owner()), INIT);
                } else if (op < 97) {
                    p.check("setCallback", w.setCallback(cb), SET_CALLBACK);
                } else {
                    w.isPending();
                    w.isInitialized();
                }
            });
            w.close();
            closedAtTask.set(pool.started());
            Modes.pause(50);
            System.out.println("RaceStressTest.work " + mode + ": runs " + runs.get() + ", statuses " + p.seen
                + ", " + h.rt.stats());
            assertTrue(p.bad.isEmpty(), "seed " + seed + ": " + p.bad);
            assertEquals(0, overlap.get(), "seed " + seed + ": two runs of one work block overlapped");
            assertEquals(0, late.get(), "seed " + seed + ": a run started after the final close returned");
            assertTrue(h.errors.isEmpty(), "seed " + seed + ": " + h.errors);

            final CountDownLatch again = new CountDownLatch(1);
            assertStatus(OK, w.init(h.rt, new Owner()));
            assertStatus(OK, w.setCallback((o, x) -> again.countDown()));
            assertStatus(OK, w.start());
            Modes.await("seed " + seed + ": the work cell still runs after the race", again);
        }
    }
}
