package dev.latchwork.jmh;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * JDK {@link ScheduledThreadPoolExecutor} (one thread, remove-on-cancel, as latchwork's own default
 * backend is configured): re-arm is {@code cancel(false)} of the previous future and
 * {@code schedule} of a new one (one future allocated per arm, the executor's lock taken twice).
 * One Runnable per cell.
 */
final class StpeTimeouts extends Timeouts {
    private ScheduledThreadPoolExecutor executor;
    private Runnable[] tasks;
    private ScheduledFuture<?>[] handles;

    @Override
    void open(final int cells) {
        executor = new ScheduledThreadPoolExecutor(1, daemonThreads("jdk-stpe"));
        executor.setRemoveOnCancelPolicy(true);
        executor.prestartAllCoreThreads();
        tasks = new Runnable[cells];
        handles = new ScheduledFuture<?>[cells];
        for (int i = 0; i < cells; i++) {
            final int cell = i;
            tasks[i] = () -> onFire(cell);
        }
    }

    @Override
    int rearm(final int cell, final long now) {
        final ScheduledFuture<?> previous = handles[cell];
        if (previous != null) {
            previous.cancel(false);
        }
        handles[cell] = executor.schedule(tasks[cell], IDLE_TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
        return 0;
    }

    @Override
    int armCancel(final int cell, final long now) {
        handles[cell] = executor.schedule(tasks[cell], IDLE_TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
        handles[cell].cancel(false);
        handles[cell] = null;
        return 0;
    }

    @Override
    int armAt(final int cell, final long deadlineNanos) {
        handles[cell] = executor.schedule(tasks[cell], deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        return 0;
    }

    @Override
    void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    @Override
    String stats() {
        return executor == null ? "" : "jdk-stpe: queued=" + executor.getQueue().size();
    }
}
