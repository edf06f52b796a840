package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Regressions for defects found in review (docs/DESIGN.md, "Known limitations"): each test fails
 * on the code before its fix.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RegressionTest {

    /** An executor that only collects tasks; the test runs them when it wants. */
    static final class Collecting implements Executor {
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

        @Override
        public synchronized void execute(final Runnable r) {
            tasks.add(r);
        }

        synchronized Runnable poll() {
            return tasks.poll();
        }
    }

    /**
     * D3 (work): cancel() returned before its cancel was applied, and the already-submitted run
     * then executed a callback set after the cancel, with no new start (contract 3.4).
     */
    @Test
    void workRunCancelledBySyncCancelNeverRunsALaterCallback() {
        final Collecting exec = new Collecting();
        try (AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).workExecutor(exec).build()) {
            final AsyncWork<Object> w = new AsyncWork<>();
            assertEquals(AsyncStatus.OK, w.init(rt, new Object()));
            final AtomicInteger first = new AtomicInteger();
            final AtomicInteger second = new AtomicInteger();
            assertEquals(AsyncStatus.OK, w.setCallback((o, x) -> first.incrementAndGet()));
            assertEquals(AsyncStatus.OK, w.start());
            rt.drain(); // applies the start: the run is submitted to the collecting executor
            final Runnable task = exec.poll();
            assertTrue(task != null, "the start submitted a run");
            assertEquals(AsyncStatus.WAS_PENDING, w.cancel()); // its cancel is not drained yet
            assertEquals(AsyncStatus.OK, w.setCallback((o, x) -> second.incrementAndGet()));
            task.run();
            assertEquals(0, first.get());
            assertEquals(0, second.get(), "a callback set after cancel() ran without a new start");
            // and the cell is not wedged: a new start runs the new callback once
            assertEquals(AsyncStatus.OK, w.start());
            rt.drain();
            for (Runnable r = exec.poll(); r != null; r = exec.poll()) {
                r.run();
            }
            assertEquals(1, second.get());
        }
    }

    /**
     * D4: callback X sync-cancels Y while Y's callback closes the runtime. X waited for Y, Y's
     * close waited for X: nobody returned. Now X's cancel answers CLOSED once the runtime closes.
     */
    @Test
    void syncCancelVersusRuntimeCloseFromCallbacksDoesNotHang() throws Exception {
        final ScheduledThreadPoolExecutor stpe = new ScheduledThreadPoolExecutor(2);
        try {
            final AsyncRuntime rt = AsyncRuntime.builder().timerScheduler(stpe).errorHandler(t -> { }).build();
            final AsyncTimer<Object> x = new AsyncTimer<>();
            final AsyncTimer<Object> y = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, x.init(rt, new Object(), TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, y.init(rt, new Object(), TimerClock.MONOTONIC));
            final CountDownLatch yRunning = new CountDownLatch(1);
            final CountDownLatch xCancelling = new CountDownLatch(1);
            final CountDownLatch bothDone = new CountDownLatch(2);
            final AtomicInteger xResult = new AtomicInteger(Integer.MIN_VALUE);
            y.setCallback((o, t) -> {
                yRunning.countDown();
                xCancelling.await(10, TimeUnit.SECONDS);
                Thread.sleep(20); // let x enter its wait
                rt.close();
                bothDone.countDown();
            });
            x.setCallback((o, t) -> {
                yRunning.await(10, TimeUnit.SECONDS);
                xCancelling.countDown();
                xResult.set(y.cancel());
                bothDone.countDown();
            });
            assertEquals(AsyncStatus.OK, y.start(0));
            assertTrue(yRunning.await(10, TimeUnit.SECONDS));
            assertEquals(AsyncStatus.OK, x.start(0));
            assertTrue(bothDone.await(15, TimeUnit.SECONDS), "sync cancel and runtime close deadlocked");
            assertEquals(AsyncStatus.CLOSED, xResult.get());
            assertTrue(rt.isClosed());
        } finally {
            stpe.shutdownNow();
        }
    }
}
