package dev.latchwork.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.AsyncWork;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerClock;

import org.junit.jupiter.api.Test;

/**
 * Contract rule 2 ("no callback after close is processed"), deterministically: the backend still
 * holds a due wake-up (or a queued run) when close() returns, because nobody has drained the
 * cell's close yet (HOST_DRIVEN, hand-cranked backends). Running that wake-up or run afterwards
 * must invoke nothing. Fails if close neither clears the callback nor marks the block detached.
 */
class CloseFenceTest {

    @Test
    void dueWakeUpAfterCloseInvokesNothing() {
        final ManualScheduler sched = new ManualScheduler();
        try (AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).timerScheduler(sched).build()) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            final AtomicInteger fired = new AtomicInteger();
            assertEquals(AsyncStatus.OK, t.init(rt, new Object(), TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> fired.incrementAndGet()));
            assertEquals(AsyncStatus.OK, t.startAt(System.nanoTime() - 1_000_000));
            rt.drain(); // applies the start: a due wake-up now sits on the scheduler
            assertEquals(1, sched.due());
            assertEquals(AsyncStatus.OK, t.close()); // not drained: the wake-up is still there
            sched.runDue();
            assertEquals(0, fired.get(), "a callback ran after close() returned");
            rt.drain();
            sched.runDue();
            assertEquals(0, fired.get());
        }
    }

    @Test
    void queuedRunAfterCloseInvokesNothing() {
        final ManualExecutor exec = new ManualExecutor();
        try (AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).workExecutor(exec).build()) {
            final AsyncWork<Object> w = new AsyncWork<>();
            final AtomicInteger ran = new AtomicInteger();
            assertEquals(AsyncStatus.OK, w.init(rt, new Object()));
            assertEquals(AsyncStatus.OK, w.setCallback((o, x) -> ran.incrementAndGet()));
            assertEquals(AsyncStatus.OK, w.start());
            rt.drain(); // the run is queued on the executor
            assertEquals(AsyncStatus.OK, w.close());
            assertTrue(exec.runAll() >= 1, "the queued run was executed");
            assertEquals(0, ran.get(), "a work callback ran after close() returned");
        }
    }
}
