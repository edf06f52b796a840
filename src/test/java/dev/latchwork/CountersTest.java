package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Issue 13 section 3: each {@link AsyncStats} field has an accessor on the runtime that agrees
 * with {@link AsyncRuntime#stats()} and allocates nothing.
 */
class CountersTest {
    private static long readAll(final AsyncRuntime rt) {
        return rt.commandsPublished() + rt.commandsSuperseded() + rt.busyAnswers() + rt.drains()
            + rt.timersFired() + rt.workRuns() + rt.callbackErrors() + rt.controlBlocksLive()
            + rt.timersArmed() + rt.drainsPending() + rt.commandsDropped() + rt.stuckCallbacks();
    }

    @TestBackend.BothBackends
    void accessorsAgreeWithStats(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncRuntime rt = h.rt;
            final int n = 20;
            final CountDownLatch fired = new CountDownLatch(n);
            final CountDownLatch ran = new CountDownLatch(1);
            @SuppressWarnings("unchecked")
            final AsyncTimer<Object>[] timers = new AsyncTimer[n];
            for (int i = 0; i < n; i++) {
                timers[i] = new AsyncTimer<>();
                assertEquals(AsyncStatus.OK, timers[i].init(rt, this, TimerClock.MONOTONIC));
                assertEquals(AsyncStatus.OK, timers[i].setCallback((o, t) -> {
                    fired.countDown();
                    if (fired.getCount() == 0) {
                        throw new IllegalStateException("one error, counted");
                    }
                }));
                assertEquals(AsyncStatus.OK, timers[i].start(1, TimeUnit.MILLISECONDS));
            }
            final AsyncWork<Object> w = new AsyncWork<>();
            assertEquals(AsyncStatus.OK, w.init(rt, this));
            assertEquals(AsyncStatus.OK, w.setCallback((o, x) -> ran.countDown()));
            assertEquals(AsyncStatus.OK, w.start());
            Modes.await("timers fired", fired);
            Modes.await("work ran", ran);
            Modes.await("error counted", () -> rt.callbackErrors() == 1);
            Modes.await("work run counted", () -> rt.workRuns() == 1);
            for (final AsyncTimer<Object> t : timers) {
                Modes.awaitApplied(t);
            }
            Modes.await("timers disarmed", () -> rt.timersArmed() == 0);
            final AsyncStats s = rt.stats();
            assertEquals(s.commandsPublished(), rt.commandsPublished());
            assertEquals(s.commandsSuperseded(), rt.commandsSuperseded());
            assertEquals(s.busy(), rt.busyAnswers());
            assertEquals(s.drains(), rt.drains());
            assertEquals(s.timersFired(), rt.timersFired());
            assertEquals(s.workRuns(), rt.workRuns());
            assertEquals(s.callbackErrors(), rt.callbackErrors());
            assertEquals(s.controlBlocksLive(), rt.controlBlocksLive());
            assertEquals(s.timersArmed(), rt.timersArmed());
            assertEquals(s.drainsPending(), rt.drainsPending());
            assertEquals(s.commandsDropped(), rt.commandsDropped());
            assertEquals(n, rt.timersFired());
            assertEquals(1, rt.workRuns());
            assertEquals(1, rt.callbackErrors());
            assertEquals(n + 1, rt.controlBlocksLive());
            assertEquals(0, rt.stuckCallbacks());
            assertTrue(rt.commandsPublished() >= n + 1, "published " + rt.commandsPublished());
            assertTrue(rt.drains() >= 1, "drains " + rt.drains());
        }
    }

    @org.junit.jupiter.api.Test
    void accessorsAllocateNothing() throws Exception {
        assumeTrue(HotPathAllocationTest.supported(), "thread allocation counter unsupported");
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            long sink = 0;
            for (int i = 0; i < 50_000; i++) {
                sink += readAll(rt); // warm up (LongAdder cells, JIT)
            }
            // Past the reflective call's inflation threshold (15 calls, on HotPathAllocationTest's
            // Method): the generated accessor (~11 KB) must not land in a measured window,
            // ours or HotPathAllocationTest's.
            for (int i = 0; i < 32; i++) {
                sink += HotPathAllocationTest.allocated();
            }
            final long before = HotPathAllocationTest.allocated();
            for (int i = 0; i < 100_000; i++) {
                sink += readAll(rt);
            }
            final long bytes = HotPathAllocationTest.allocated() - before;
            assertTrue(bytes < 1024, "12 accessors x 100k reads allocated " + bytes + " bytes (" + sink + ")");
        }
    }
}
