package dev.latchwork;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Virtual threads (issue 13 section 5, docs/VIRTUAL-THREADS.md): 1000 virtual threads each
 * init, start, re-arm, cancel and close their own cells, some cancel synchronously, and the work
 * cells run on a virtual-thread-per-task executor whose callbacks block. Compiled with
 * {@code --release 17}: virtual threads are reached by reflection, so this needs JDK 21+ to
 * run. {@link VirtualThreadTest} runs it in-process on JDK 21+, or as {@link #main} in a forked
 * JDK 25 from a JDK 17 build. Plain Java (no JUnit) so that the fork needs only the two class
 * directories.
 */
public final class VirtualThreadScenario {
    static final int THREADS = 1000;
    static final long WAIT_SECONDS = 15;
    static final long HOUR = TimeUnit.HOURS.toNanos(1);

    private VirtualThreadScenario() {
    }

    /**
     * Runs the scenario; prints {@code VIRTUAL THREADS OK} and exits 0, or prints the failure and
     * exits 1.
     *
     * @param args ignored
     */
    public static void main(final String[] args) {
        try {
            System.out.println(run());
            System.out.println("VIRTUAL THREADS OK");
            System.exit(0);
        } catch (final Throwable t) {
            t.printStackTrace(System.out);
            System.exit(1);
        }
    }

    static ExecutorService newVirtualThreadPerTaskExecutor() throws ReflectiveOperationException {
        return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    }

    static boolean isVirtual(final Thread t) {
        try {
            return (Boolean) Thread.class.getMethod("isVirtual").invoke(t);
        } catch (final ReflectiveOperationException e) {
            return false;
        }
    }

    static void check(final boolean ok, final String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static void ok(final int status, final String what) {
        check(status == AsyncStatus.OK, what + ": " + AsyncStatus.name(status));
    }

    /** One virtual thread's cells and what they saw. */
    static final class Owner {
        final AsyncTimer<Owner> rearmed = new AsyncTimer<>();
        final AsyncTimer<Owner> cancelled = new AsyncTimer<>();
        final AsyncTimer<Owner> syncCancelled = new AsyncTimer<>();
        final AsyncWork<Owner> work = new AsyncWork<>();
        final CountDownLatch fired = new CountDownLatch(1);
        final AtomicInteger rearmedFires = new AtomicInteger();
        /** System.nanoTime() before the last start of {@link #rearmed}, plus its delay. */
        volatile long notBefore = Long.MAX_VALUE;
        volatile boolean syncCancelReturned;
        final AtomicInteger running = new AtomicInteger();
        /** The number of the last work start published (1..3), read by each run as it begins. */
        volatile int workStart;
        volatile int lastSeenByRun;
    }

    static String run() throws Exception {
        final long began = System.nanoTime();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        final LongAdder early = new LongAdder();
        final LongAdder cancelledFires = new LongAdder();
        final LongAdder afterSyncCancel = new LongAdder();
        final LongAdder overlaps = new LongAdder();
        final LongAdder workRuns = new LongAdder();
        final LongAdder workOffVirtual = new LongAdder();
        final LongAdder callersOffVirtual = new LongAdder();
        final LongAdder syncWasPending = new LongAdder();
        final ExecutorService workVt = newVirtualThreadPerTaskExecutor();
        final ExecutorService callers = newVirtualThreadPerTaskExecutor();
        final AsyncRuntime rt = AsyncRuntime.builder()
            .workExecutor(workVt) // each work run on a virtual thread of its own: blocking is fine
            .errorHandler(errors::add)
            .build();
        try {
            final List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                final boolean syncCancel = i % 4 == 0;
                done.add(callers.submit(() -> {
                    if (!isVirtual(Thread.currentThread())) {
                        callersOffVirtual.increment();
                    }
                    final Owner o = new Owner();
                    final ThreadLocalRandom rnd = ThreadLocalRandom.current();

                    // init / start / re-arm later / re-arm earlier: fires once, never early
                    ok(o.rearmed.init(rt, o, TimerClock.MONOTONIC), "init");
                    ok(o.rearmed.setCallback((x, t) -> {
                        if (System.nanoTime() < x.notBefore) {
                            early.increment();
                        }
                        x.rearmedFires.incrementAndGet();
                        x.fired.countDown();
                    }), "setCallback");
                    ok(o.rearmed.start(HOUR), "start");
                    ok(o.rearmed.start(2 * HOUR), "re-arm later");
                    final long d = TimeUnit.MILLISECONDS.toNanos(1 + rnd.nextInt(20));
                    o.notBefore = System.nanoTime() + d;
                    ok(o.rearmed.start(d), "re-arm earlier");

                    // start then cancelAsync: never fires
                    ok(o.cancelled.init(rt, o, TimerClock.MONOTONIC), "init");
                    ok(o.cancelled.setCallback((x, t) -> cancelledFires.increment()), "setCallback");
                    ok(o.cancelled.start(10, TimeUnit.SECONDS), "start");
                    ok(o.cancelled.cancelAsync(), "cancelAsync");

                    // work that blocks, on virtual threads: runs one at a time per cell
                    ok(o.work.init(rt, o), "work init");
                    ok(o.work.setCallback((x, w) -> {
                        if (x.running.incrementAndGet() != 1) {
                            overlaps.increment();
                        }
                        if (!isVirtual(Thread.currentThread())) {
                            workOffVirtual.increment();
                        }
                        x.lastSeenByRun = x.workStart;
                        try {
                            Thread.sleep(1); // blocking: parks the virtual thread, frees the carrier
                        } catch (final InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        workRuns.increment();
                        x.running.decrementAndGet();
                    }), "work setCallback");
                    for (int k = 1; k <= 3; k++) {
                        o.workStart = k;
                        ok(o.work.start(), "work start");
                        if (k < 3) {
                            Thread.sleep(rnd.nextInt(2));
                        }
                    }

                    // a quarter of the threads cancel synchronously: parks (LockSupport), fine here
                    if (syncCancel) {
                        ok(o.syncCancelled.init(rt, o, TimerClock.MONOTONIC), "init");
                        ok(o.syncCancelled.setCallback((x, t) -> {
                            if (x.syncCancelReturned) {
                                afterSyncCancel.increment();
                            }
                        }), "setCallback");
                        ok(o.syncCancelled.start(2 + rnd.nextInt(3), TimeUnit.MILLISECONDS), "start");
                        if (rnd.nextBoolean()) {
                            Thread.sleep(rnd.nextInt(5)); // half cancel at once (pending), half around the expiry
                        }
                        final int r = o.syncCancelled.cancel();
                        check(r == AsyncStatus.OK || r == AsyncStatus.WAS_PENDING, "cancel: " + AsyncStatus.name(r));
                        o.syncCancelReturned = true;
                        if (r == AsyncStatus.WAS_PENDING) {
                            syncWasPending.increment();
                        }
                    }

                    check(o.fired.await(WAIT_SECONDS, TimeUnit.SECONDS), "the re-armed timer did not fire");
                    final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
                    while (o.lastSeenByRun != 3 && System.nanoTime() - end < 0) {
                        Thread.sleep(1);
                    }
                    check(o.lastSeenByRun == 3, "no work run after the last start");
                    ok(o.rearmed.close(), "close");
                    ok(o.cancelled.close(), "close");
                    ok(o.work.close(), "work close");
                    if (syncCancel) {
                        ok(o.syncCancelled.close(), "close");
                    }
                    check(o.rearmedFires.get() == 1, "fired " + o.rearmedFires.get() + " times");
                    return null;
                }));
            }
            for (final Future<?> f : done) {
                f.get(WAIT_SECONDS * 2, TimeUnit.SECONDS);
            }
        } finally {
            // closed from a virtual thread too: close parks while callbacks finish
            callers.submit(rt::close).get(WAIT_SECONDS, TimeUnit.SECONDS);
            callers.shutdown();
            workVt.shutdown();
            check(callers.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS), "callers did not end");
            check(workVt.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS), "work threads did not end");
        }
        check(rt.isClosed(), "runtime not closed");
        check(errors.isEmpty(), "errors: " + errors);
        check(callersOffVirtual.sum() == 0, "callers not on virtual threads");
        check(early.sum() == 0, early.sum() + " early fires");
        check(cancelledFires.sum() == 0, cancelledFires.sum() + " fires after cancelAsync");
        check(afterSyncCancel.sum() == 0, afterSyncCancel.sum() + " fires after a sync cancel returned");
        check(overlaps.sum() == 0, overlaps.sum() + " overlapping work runs");
        check(workOffVirtual.sum() == 0, workOffVirtual.sum() + " work runs off virtual threads");
        check(workRuns.sum() >= THREADS, "work runs " + workRuns.sum());
        final AsyncStats s = rt.stats();
        check(s.timersFired() >= THREADS, "fired " + s.timersFired());
        return "virtual threads: " + THREADS + " callers on JDK " + Runtime.version().feature()
            + ", timers fired " + s.timersFired() + ", work runs " + workRuns.sum()
            + ", sync cancels that found the timer pending " + syncWasPending.sum()
            + ", " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began) + " ms";
    }
}
