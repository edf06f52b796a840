package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Test harness shared by the behaviour suites: builds an {@link AsyncRuntime} for each
 * {@link DispatchMode}, and for {@link DispatchMode#HOST_DRIVEN} plays the user's duty cycle
 * with a driver thread that loops {@link AsyncRuntime#drain()} (spinning briefly with
 * {@link Thread#onSpinWait()}, then parking 50 µs) until the runtime is closed.
 * <p>
 * Use {@link AllModes} on a test method taking a {@code DispatchMode} to run it once per mode,
 * and {@code try (Modes.Harness h = Modes.open(mode)) { ... }} inside it. The harness installs a
 * collecting error handler (tests may replace it through the builder hook), closes the runtime,
 * joins the driver and shuts down the executors handed to {@link Harness#own(ExecutorService)}.
 * <p>
 * Also holds small test executors: {@link TrackingScheduler} (numbers every task it starts, so
 * a test can tell a callback that began after a given instant from one that was already running)
 * and {@link HeldExecutor} (holds work submissions until released, to make "pending" states
 * deterministic).
 */
final class Modes {
    /** Generous bound for anything that must eventually happen (loaded 2-core CI machine). */
    static final long WAIT_SECONDS = 10;

    private Modes() {
    }

    /**
     * Runs a parameterized test once per {@link DispatchMode} and per timer backend (the wheel and
     * a harness-owned {@code ScheduledThreadPoolExecutor}: see {@link TestBackend}).
     */
    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @TestBackend.BothBackends
    @interface AllModes {
    }

    /** Runs a parameterized test once per {@link DispatchMode}, on the default backend (the wheel) only. */
    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @ParameterizedTest(name = "{0}")
    @EnumSource(DispatchMode.class)
    @interface AllModesWheelOnly {
    }

    /** @return a harness with a runtime in {@code mode} and the defaults */
    static Harness open(final DispatchMode mode) {
        return open(mode, b -> { });
    }

    /**
     * @param config applied to the builder after the harness' defaults (mode, collecting error
     *               handler), so it may override them
     */
    static Harness open(final DispatchMode mode, final Consumer<AsyncRuntime.Builder> config) {
        return new Harness(mode, config, true);
    }

    /** @return a harness whose work executor is a {@link HeldExecutor} ({@link Harness#held}) */
    static Harness openHeld(final DispatchMode mode) {
        final HeldExecutor held = new HeldExecutor();
        final Harness h = open(mode, b -> b.workExecutor(held));
        h.held = held;
        h.own(held.pool);
        return h;
    }

    /**
     * A {@link DispatchMode#HOST_DRIVEN} runtime with no driver thread: the test calls
     * {@link AsyncRuntime#drain()} itself, which makes the drain's timing deterministic.
     */
    static Harness manual(final Consumer<AsyncRuntime.Builder> config) {
        return new Harness(DispatchMode.HOST_DRIVEN, config, false);
    }

    static final class Harness implements AutoCloseable {
        final DispatchMode mode;
        /** The timer backend the runtime was built on (unless the test's config chose another). */
        final TestBackend.Backend backend;
        final AsyncRuntime rt;
        /** Everything the runtime reported to the error handler (unless a test replaced it). */
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        /** The work executor when built by {@link Modes#openHeld}, else null. */
        HeldExecutor held;
        private final Thread driver;
        private volatile boolean stop;
        private final List<ExecutorService> owned = new ArrayList<>();

        Harness(final DispatchMode mode, final Consumer<AsyncRuntime.Builder> config, final boolean drive) {
            this.mode = mode;
            this.backend = TestBackend.current();
            final AsyncRuntime.Builder b = AsyncRuntime.builder().dispatchMode(mode).errorHandler(errors::add);
            if (backend == TestBackend.Backend.EXECUTOR) {
                b.timerScheduler(own(TestBackend.newScheduler())); // before config: a test's own choice wins
            }
            config.accept(b);
            this.rt = b.build();
            if (mode == DispatchMode.HOST_DRIVEN && drive) {
                driver = new Thread(this::drive, "test-host-driver");
                driver.setDaemon(true);
                driver.start();
            } else {
                driver = null;
            }
        }

        private void drive() {
            int idle = 0;
            while (!stop && !rt.isClosed()) {
                if (rt.drain() > 0) {
                    idle = 0;
                } else if (++idle < 64) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(50_000);
                }
            }
        }

        /** @return {@code e}, to be shut down after the runtime when the harness closes */
        <E extends ExecutorService> E own(final E e) {
            owned.add(e);
            return e;
        }

        /** @return true if the HOST_DRIVEN driver thread is still running */
        boolean driverAlive() {
            return driver != null && driver.isAlive();
        }

        /** Waits until the drains have claimed at least {@code n} published commands. */
        void awaitClaimed(final long n) {
            await("commandsPublished >= " + n, () -> rt.stats().commandsPublished() >= n);
        }

        @Override
        public void close() throws InterruptedException {
            rt.close();
            stop = true;
            if (driver != null) {
                driver.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                assertFalse(driver.isAlive(), "host driver did not stop");
            }
            for (final ExecutorService e : owned) {
                e.shutdownNow();
                assertTrue(e.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS), "test executor did not stop");
            }
        }
    }

    /**
     * Waits until every command published on {@code cell} so far has been applied: its drain is
     * idle and nothing is pending in its latch. White-box (same package): the drain counts a
     * command when it claims it, before applying it, so the public counters cannot tell.
     */
    static void awaitApplied(final AsyncCell cell) {
        final ControlBlock b = cell.block;
        await("commands applied", () -> b.drainStatus == ControlBlock.IDLE && !b.commandPending());
    }

    /** Polls {@code cond} (every 1 ms) for up to {@link #WAIT_SECONDS}; fails with {@code what}. */
    static void await(final String what, final BooleanSupplier cond) {
        final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                fail("timed out waiting for: " + what);
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** Awaits a latch for {@link #WAIT_SECONDS}; fails with {@code what}. */
    static void await(final String what, final CountDownLatch latch) throws InterruptedException {
        assertTrue(latch.await(WAIT_SECONDS, TimeUnit.SECONDS), "timed out waiting for: " + what);
    }

    /** Parks the calling thread for {@code millis} (never an assertion by itself). */
    static void pause(final long millis) {
        final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (long left = millis * 1_000_000L; left > 0; left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    /**
     * A scheduler (single-thread by default) that numbers every task execution it starts. A callback reads
     * {@link #currentTask()} (the number of the wake-up running it); a test reads
     * {@link #started()} right after some {@code close()} returned: any task numbered higher
     * started after that close returned, so by the contract it must invoke nothing.
     */
    static final class TrackingScheduler extends ScheduledThreadPoolExecutor {
        private static final ThreadLocal<long[]> TASK = ThreadLocal.withInitial(() -> new long[1]);
        private final AtomicLong seq = new AtomicLong();
        private final AtomicLong done = new AtomicLong();

        TrackingScheduler() {
            this(1);
        }

        /** @param threads pool size (more than one to use it as a work executor as well) */
        TrackingScheduler(final int threads) {
            super(threads, r -> {
                final Thread t = new Thread(r, "test-tracking-scheduler");
                t.setDaemon(true);
                return t;
            });
            setRemoveOnCancelPolicy(true);
        }

        @Override
        protected void beforeExecute(final Thread t, final Runnable r) {
            TASK.get()[0] = seq.incrementAndGet();
        }

        @Override
        protected void afterExecute(final Runnable r, final Throwable t) {
            done.incrementAndGet();
        }

        /** Waits until {@code n} task executions have finished (single-thread: in start order). */
        void awaitFinished(final long n) {
            await(n + " scheduler tasks finished", () -> done.get() >= n);
        }

        /** @return the number of task executions started so far */
        long started() {
            return seq.get();
        }

        /** @return the number of the task running on this thread (0 outside a task) */
        static long currentTask() {
            return TASK.get()[0];
        }
    }

    /**
     * An executor that holds submissions while closed and hands them to a real thread pool once
     * {@link #release()} is called (and passes later ones straight through until {@link #hold()}).
     */
    static final class HeldExecutor implements Executor {
        final ExecutorService pool = Executors.newCachedThreadPool(r -> {
            final Thread t = new Thread(r, "test-held-executor");
            t.setDaemon(true);
            return t;
        });
        private final ArrayDeque<Runnable> held = new ArrayDeque<>();
        private boolean open;
        private long submitted;

        @Override
        public synchronized void execute(final Runnable r) {
            submitted++;
            if (open) {
                pool.execute(r);
            } else {
                held.add(r);
            }
        }

        /** @return the number of submissions held right now */
        synchronized int heldCount() {
            return held.size();
        }

        /** @return the number of submissions ever made */
        synchronized long submitted() {
            return submitted;
        }

        /** Runs the held submissions on the pool and lets later ones through. */
        synchronized void release() {
            open = true;
            for (Runnable r = held.poll(); r != null; r = held.poll()) {
                pool.execute(r);
            }
        }

        /** Holds submissions again from now on. */
        synchronized void hold() {
            open = false;
        }
    }
}
