package dev.latchwork.jmh;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * JDK 25 {@code ForkJoinPool.schedule(Runnable, long, TimeUnit)} + {@code cancel(false)} (a
 * {@code ScheduledForkJoinTask} allocated per arm, handed lock-free to the pool's
 * {@code DelayScheduler} thread). The build is {@code --release 17}, so the method is looked up
 * once, into a constant {@link MethodHandle}. On a JDK without it (17..24) this contender is
 * <b>unsupported</b>: {@link #supported()} is false, {@link #open} prints why, and every operation
 * is a no-op answering 0, so a run on 17 neither fails nor measures anything meaningful.
 * {@code run-benchmarks.sh} leaves it out below JDK 25 and the report tool drops such rows.
 * A dedicated pool of parallelism 1 is used (the common pool has parallelism 1 on 2 cores too) so
 * that it can be shut down at the end.
 */
final class ForkJoinTimeouts extends Timeouts {
    /** {@code (ForkJoinPool, Runnable, long, TimeUnit) -> ScheduledFuture}, or null before JDK 25. */
    static final MethodHandle SCHEDULE = lookup();

    private ForkJoinPool pool;
    private Runnable[] tasks;
    private ScheduledFuture<?>[] handles;

    private static MethodHandle lookup() {
        try {
            return MethodHandles.publicLookup().findVirtual(ForkJoinPool.class, "schedule",
                MethodType.methodType(ScheduledFuture.class, Runnable.class, long.class, TimeUnit.class));
        } catch (final NoSuchMethodException | IllegalAccessException e) {
            return null;
        }
    }

    @Override
    boolean supported() {
        return SCHEDULE != null;
    }

    @Override
    void open(final int cells) {
        if (SCHEDULE == null) {
            System.out.println("jdk25-fjp: ForkJoinPool.schedule does not exist on JDK "
                + Runtime.version().feature() + " (it is new in JDK 25): every operation is a no-op, "
                + "ignore this result (run-benchmarks.sh excludes it below JDK 25)");
            return;
        }
        pool = new ForkJoinPool(1);
        tasks = new Runnable[cells];
        handles = new ScheduledFuture<?>[cells];
        for (int i = 0; i < cells; i++) {
            final int cell = i;
            tasks[i] = () -> onFire(cell);
        }
    }

    private ScheduledFuture<?> schedule(final Runnable task, final long delayNanos) {
        try {
            return (ScheduledFuture<?>) SCHEDULE.invokeExact(pool, task, delayNanos, TimeUnit.NANOSECONDS);
        } catch (final RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    int rearm(final int cell, final long now) {
        if (SCHEDULE == null) {
            return 0;
        }
        final ScheduledFuture<?> previous = handles[cell];
        if (previous != null) {
            previous.cancel(false);
        }
        handles[cell] = schedule(tasks[cell], IDLE_TIMEOUT_NANOS);
        return 0;
    }

    @Override
    int armCancel(final int cell, final long now) {
        if (SCHEDULE == null) {
            return 0;
        }
        handles[cell] = schedule(tasks[cell], IDLE_TIMEOUT_NANOS);
        handles[cell].cancel(false);
        handles[cell] = null;
        return 0;
    }

    @Override
    int armAt(final int cell, final long deadlineNanos) {
        if (SCHEDULE == null) {
            return 0;
        }
        handles[cell] = schedule(tasks[cell], deadlineNanos - System.nanoTime());
        return 0;
    }

    @Override
    void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
