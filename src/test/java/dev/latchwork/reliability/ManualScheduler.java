package dev.latchwork.reliability;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A single-threaded, hand-cranked timer backend for deterministic tests: {@link #schedule}
 * records the task and returns; nothing runs until the test calls {@link #runDue()}.
 * <p>
 * latchwork reads the real clocks ({@code System.nanoTime()}, {@code currentTimeMillis()}), so
 * this scheduler does not fake time. It sorts tasks by the delay they were scheduled with: a
 * delay below {@link #DUE_THRESHOLD_NANOS} means "due now" (the library computes a delay of 0 for
 * a deadline already in the past), anything longer is "far future" and never runs. Tests use only
 * deadlines in the past, relative starts of 0, or deadlines an hour or more away, so the
 * classification is exact. Not thread safe: one thread drives it.
 */
final class ManualScheduler implements ScheduledExecutorService {
    /** Tasks scheduled with a delay below this are due at once. */
    static final long DUE_THRESHOLD_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final List<Task> tasks = new ArrayList<>();
    private boolean shutdown;
    private long scheduledCount;

    /** @return the number of {@code schedule} calls accepted so far */
    long scheduledCount() {
        return scheduledCount;
    }

    /** @return tasks waiting (due or not), excluding cancelled ones */
    int pending() {
        int n = 0;
        for (final Task t : tasks) {
            if (!t.cancelled) {
                n++;
            }
        }
        return n;
    }

    /** @return the number of due, non-cancelled tasks waiting */
    int due() {
        int n = 0;
        for (final Task t : tasks) {
            if (!t.cancelled && t.delayNanos < DUE_THRESHOLD_NANOS) {
                n++;
            }
        }
        return n;
    }

    /**
     * Runs every due task present when called (in scheduling order); tasks scheduled while they
     * run wait for the next call.
     *
     * @return the number of tasks run
     */
    int runDue() {
        final List<Task> run = new ArrayList<>();
        for (final Task t : tasks) {
            if (!t.cancelled && t.delayNanos < DUE_THRESHOLD_NANOS) {
                run.add(t);
            }
        }
        tasks.removeAll(run);
        tasks.removeIf(t -> t.cancelled);
        for (final Task t : run) {
            if (!t.cancelled) {
                t.done = true;
                t.command.run();
            }
        }
        return run.size();
    }

    @Override
    public ScheduledFuture<?> schedule(final Runnable command, final long delay, final TimeUnit unit) {
        if (shutdown) {
            throw new RejectedExecutionException("manual scheduler shut down");
        }
        if (delay < 0) {
            throw new AssertionError("negative delay " + delay);
        }
        scheduledCount++;
        final Task t = new Task(command, unit.toNanos(delay));
        tasks.add(t);
        return t;
    }

    @Override
    public void shutdown() {
        shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        final List<Runnable> l = new ArrayList<>();
        for (final Task t : tasks) {
            l.add(t.command);
        }
        tasks.clear();
        return l;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(final long timeout, final TimeUnit unit) {
        return shutdown;
    }

    @Override
    public void execute(final Runnable command) {
        schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    // ---- not used by latchwork ----

    @Override
    public <V> ScheduledFuture<V> schedule(final Callable<V> callable, final long delay, final TimeUnit unit) {
        throw new UnsupportedOperationException();
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(final Runnable c, final long i, final long p, final TimeUnit u) {
        throw new UnsupportedOperationException();
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(final Runnable c, final long i, final long d, final TimeUnit u) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> Future<T> submit(final Callable<T> task) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> Future<T> submit(final Runnable task, final T result) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Future<?> submit(final Runnable task) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> List<Future<T>> invokeAll(final Collection<? extends Callable<T>> tasks) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> List<Future<T>> invokeAll(final Collection<? extends Callable<T>> tasks, final long t, final TimeUnit u) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> T invokeAny(final Collection<? extends Callable<T>> tasks) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> T invokeAny(final Collection<? extends Callable<T>> tasks, final long t, final TimeUnit u) {
        throw new UnsupportedOperationException();
    }

    private static final class Task implements ScheduledFuture<Object> {
        final Runnable command;
        final long delayNanos;
        boolean cancelled;
        boolean done;

        Task(final Runnable command, final long delayNanos) {
            this.command = command;
            this.delayNanos = delayNanos;
        }

        @Override
        public long getDelay(final TimeUnit unit) {
            return unit.convert(delayNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(final Delayed o) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public boolean cancel(final boolean mayInterruptIfRunning) {
            if (done || cancelled) {
                return false;
            }
            cancelled = true;
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public boolean isDone() {
            return done || cancelled;
        }

        @Override
        public Object get() throws ExecutionException {
            throw new UnsupportedOperationException();
        }

        @Override
        public Object get(final long timeout, final TimeUnit unit) {
            throw new UnsupportedOperationException();
        }
    }
}
