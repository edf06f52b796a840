package dev.latchwork.kernel;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.DispatchMode;
import dev.latchwork.TestBackend;

/**
 * Test fixture shared by the kernel-selftest ports: one {@link AsyncRuntime} in a given
 * {@link DispatchMode}, a host thread looping {@link AsyncRuntime#drain()} when the mode is
 * {@link DispatchMode#HOST_DRIVEN} (the user's duty cycle), an error handler that collects
 * instead of printing, and optionally a test-owned timer scheduler (not shut down by the runtime).
 * <p>
 * Caveat: the host driver parks 20 µs when idle, so HOST_DRIVEN deferral latency is a little
 * higher than DEFERRED's; no test depends on latency beyond "not before the deadline".
 */
final class Harness implements AutoCloseable {
    final DispatchMode mode;
    final AsyncRuntime rt;
    /** Everything the runtime's error handler received. */
    final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    /** A test-owned scheduler handed to the runtime, or null. Shut down by {@link #close()}. */
    final ScheduledThreadPoolExecutor scheduler;
    private final HostDriver driver;

    private Harness(final DispatchMode mode, final ScheduledThreadPoolExecutor given,
                    final Consumer<AsyncRuntime.Builder> config, final boolean startDriver) {
        this.mode = mode;
        // The backend dimension (TestBackend.BothBackends): on EXECUTOR, a harness-owned
        // single-thread scheduler unless the test asked for its own.
        final ScheduledThreadPoolExecutor scheduler = given == null && TestBackend.current() == TestBackend.Backend.EXECUTOR
            ? scheduler(1, "test-executor-backend") : given;
        this.scheduler = scheduler;
        final AsyncRuntime.Builder b = AsyncRuntime.builder().dispatchMode(mode).errorHandler(errors::add);
        if (scheduler != null) {
            b.timerScheduler(scheduler);
        }
        config.accept(b);
        this.rt = b.build();
        this.driver = mode == DispatchMode.HOST_DRIVEN && startDriver ? new HostDriver(rt) : null;
    }

    /** A runtime with the defaults in {@code mode} (and a host driver for HOST_DRIVEN). */
    static Harness of(final DispatchMode mode) {
        return new Harness(mode, null, b -> { }, true);
    }

    /** As {@link #of}, after applying {@code config} to the builder. */
    static Harness of(final DispatchMode mode, final Consumer<AsyncRuntime.Builder> config) {
        return new Harness(mode, null, config, true);
    }

    /**
     * A runtime whose timer backend is a test-owned {@link ScheduledThreadPoolExecutor} with
     * {@code threads} threads named {@code namePrefix-N} (remove-on-cancel).
     */
    static Harness withScheduler(final DispatchMode mode, final int threads, final String namePrefix) {
        return new Harness(mode, scheduler(threads, namePrefix), b -> { }, true);
    }

    /** HOST_DRIVEN without a driver thread: the test calls {@link AsyncRuntime#drain()} itself. */
    static Harness hostDrivenManual() {
        return new Harness(DispatchMode.HOST_DRIVEN, null, b -> { }, false);
    }

    static ScheduledThreadPoolExecutor scheduler(final int threads, final String namePrefix) {
        final AtomicInteger n = new AtomicInteger();
        final ThreadFactory tf = r -> {
            final Thread t = new Thread(r, namePrefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        final ScheduledThreadPoolExecutor stpe = new ScheduledThreadPoolExecutor(threads, tf);
        stpe.setRemoveOnCancelPolicy(true);
        stpe.prestartAllCoreThreads();
        return stpe;
    }

    /** Closes the runtime, then stops the host driver and the test-owned scheduler. */
    @Override
    public void close() {
        rt.close();
        if (driver != null) {
            driver.close();
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
                    fail("test scheduler did not terminate");
                }
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Errors received by the handler, as text (for assertion messages). */
    String errorsText() {
        final StringBuilder sb = new StringBuilder();
        for (final Throwable t : errors) {
            sb.append(t).append('\n');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return mode.toString();
    }

    // ------------------------------------------------------------------------------------------

    /** The user's duty cycle in HOST_DRIVEN mode: loops {@code drain()}, parking 20 µs when idle. */
    static final class HostDriver implements AutoCloseable {
        private final Thread thread;
        private volatile boolean running = true;

        HostDriver(final AsyncRuntime rt) {
            thread = new Thread(() -> {
                int idle = 0;
                while (running) {
                    if (rt.drain() > 0) {
                        idle = 0;
                    } else if (++idle < 64) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.parkNanos(20_000);
                    }
                }
            }, "host-driver");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() {
            running = false;
            try {
                thread.join(10_000);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                fail("host driver did not stop");
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // small concurrency helpers

    /** Starts {@code n} daemon threads running {@code body(index)}; failures go to {@code failures}. */
    static Thread[] startThreads(final int n, final String name, final IntConsumer body, final Queue<Throwable> failures) {
        final Thread[] ts = new Thread[n];
        for (int i = 0; i < n; i++) {
            final int idx = i;
            ts[i] = new Thread(() -> {
                try {
                    body.accept(idx);
                } catch (final Throwable t) {
                    failures.add(t);
                }
            }, name + "-" + i);
            ts[i].setDaemon(true);
        }
        for (final Thread t : ts) {
            t.start();
        }
        return ts;
    }

    /** Joins every thread within {@code timeoutMillis} in total; fails with the stacks of hung threads. */
    static void joinAll(final Thread[] ts, final long timeoutMillis) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        final List<Thread> hung = new ArrayList<>();
        for (final Thread t : ts) {
            final long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            t.join(Math.max(1, left));
            if (t.isAlive()) {
                hung.add(t);
            }
        }
        if (!hung.isEmpty()) {
            final StringBuilder sb = new StringBuilder("threads hung (no progress within " + timeoutMillis + " ms):\n");
            for (final Thread t : hung) {
                sb.append(t.getName()).append('\n');
                for (final StackTraceElement e : t.getStackTrace()) {
                    sb.append("    at ").append(e).append('\n');
                }
            }
            fail(sb.toString());
        }
    }

    /** Rethrows the first collected failure (others suppressed). */
    static void rethrow(final Queue<Throwable> failures) {
        final Throwable first = failures.poll();
        if (first == null) {
            return;
        }
        final AssertionError e = new AssertionError("worker failed: " + first, first);
        for (final Throwable t : failures) {
            e.addSuppressed(t);
        }
        throw e;
    }

    /** Polls {@code cond} every 200 µs until true; fails after {@code timeoutMillis}. */
    static void await(final BooleanSupplier cond, final long timeoutMillis, final Supplier<String> what) {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out after " + timeoutMillis + " ms waiting for: " + what.get());
            }
            LockSupport.parkNanos(200_000);
        }
    }

    /**
     * Waits until {@code t} is parked with a timeout: for a thread inside a sync {@code cancel()},
     * that only happens in its backoff while waiting for a running callback, i.e. after it cleared
     * the callback and published its cancel (the only other backoff, on latch contention, needs a
     * concurrent publisher).
     */
    static void awaitTimedWaiting(final Thread t) {
        await(() -> t.getState() == Thread.State.TIMED_WAITING || !t.isAlive(), 10_000,
            () -> t.getName() + " parks in its wait loop, state " + t.getState());
    }

    /** Sleeps, tolerating interrupts (used only to let a deadline pass, never as a timing assertion). */
    static void pause(final long millis) {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (long left = millis * 1_000_000L; left > 0; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    /** Busy-spins with {@link Thread#onSpinWait()} for {@code nanos} (a hot path's duty cycle). */
    static void spin(final long nanos) {
        final long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }
}
