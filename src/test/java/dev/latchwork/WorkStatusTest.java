package dev.latchwork;

import static dev.latchwork.AsyncStatus.BUSY;
import static dev.latchwork.AsyncStatus.CLOSED;
import static dev.latchwork.AsyncStatus.DEAD;
import static dev.latchwork.AsyncStatus.DEADLOCK;
import static dev.latchwork.AsyncStatus.INVALID_ARGUMENT;
import static dev.latchwork.AsyncStatus.NOT_INITIALIZED;
import static dev.latchwork.AsyncStatus.NO_CALLBACK;
import static dev.latchwork.AsyncStatus.OK;
import static dev.latchwork.AsyncStatus.WAS_PENDING;
import static dev.latchwork.TimerStatusTest.assertStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/** Every status of every {@link AsyncWork} operation, in every {@link DispatchMode}. */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class WorkStatusTest {
    static final WorkCallback<Object> NOOP = (o, w) -> { };

    static AsyncWork<Object> ready(final AsyncRuntime rt, final WorkCallback<Object> cb) {
        final AsyncWork<Object> w = new AsyncWork<>();
        assertStatus(OK, w.init(rt, new Object()));
        assertStatus(OK, w.setCallback(cb));
        return w;
    }

    @Modes.AllModesWheelOnly
    void initStatuses(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncWork<Object> w = new AsyncWork<>();
            assertStatus(INVALID_ARGUMENT, w.init(null, new Object()));
            assertStatus(INVALID_ARGUMENT, w.init(h.rt, null));
            assertFalse(w.isInitialized());
            assertStatus(OK, w.init(h.rt, new Object()));
            assertTrue(w.isInitialized());
            assertStatus(BUSY, w.init(h.rt, new Object()));
            final AsyncWork<Object> late = new AsyncWork<>();
            h.rt.close();
            assertStatus(CLOSED, late.init(h.rt, new Object()));
            assertFalse(late.isInitialized());
        }
    }

    @Modes.AllModesWheelOnly
    void racingInitsExactlyOneWins(final DispatchMode mode) throws Exception {
        final int threads = 4;
        try (Modes.Harness h = Modes.open(mode)) {
            for (int round = 0; round < 30; round++) {
                final AsyncWork<Object> w = new AsyncWork<>();
                final CyclicBarrier go = new CyclicBarrier(threads);
                final AtomicInteger ok = new AtomicInteger();
                final AtomicInteger other = new AtomicInteger();
                final List<Thread> ts = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    final Thread th = new Thread(() -> {
                        try {
                            go.await(Modes.WAIT_SECONDS, TimeUnit.SECONDS);
                        } catch (final Exception e) {
                            other.incrementAndGet();
                            return;
                        }
                        final int r = w.init(h.rt, new Object());
                        if (r == OK) {
                            ok.incrementAndGet();
                        } else if (r != BUSY) {
                            other.incrementAndGet();
                        }
                    });
                    th.start();
                    ts.add(th);
                }
                for (final Thread th : ts) {
                    th.join();
                }
                assertEquals(1, ok.get(), "round " + round);
                assertEquals(0, other.get(), "only OK and BUSY, round " + round);
            }
        }
    }

    @Modes.AllModesWheelOnly
    void setCallbackStatuses(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncWork<Object> w = new AsyncWork<>();
            assertStatus(NOT_INITIALIZED, w.setCallback(NOOP));
            assertStatus(OK, w.init(h.rt, new Object()));
            assertStatus(INVALID_ARGUMENT, w.setCallback(null));
            assertStatus(OK, w.setCallback(NOOP));
            h.rt.close();
            assertStatus(CLOSED, w.setCallback(NOOP));
        }
    }

    @Modes.AllModesWheelOnly
    void startAndCancelAsyncStatuses(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncWork<Object> w = new AsyncWork<>();
            assertStatus(NOT_INITIALIZED, w.start());
            assertStatus(NOT_INITIALIZED, w.cancelAsync());
            assertStatus(OK, w.init(h.rt, new Object()));
            assertStatus(NO_CALLBACK, w.start());
            assertStatus(OK, w.cancelAsync(), "needs no callback");
            assertStatus(OK, w.setCallback(NOOP));
            assertStatus(OK, w.start());
            assertStatus(OK, w.cancelAsync());
            assertStatus(OK, w.start(), "cancelAsync keeps the callback");

            final ControlBlock stale = w.block;
            assertStatus(OK, w.close());
            assertStatus(NOT_INITIALIZED, w.start());
            assertStatus(NOT_INITIALIZED, w.cancelAsync());
            // DEAD: a publisher holding the block across a racing close (see TimerStatusTest)
            assertStatus(DEAD, stale.publish(ControlBlock.OP_START, 0, true));
            assertStatus(DEAD, stale.publish(ControlBlock.OP_CANCEL, 0, false));

            assertStatus(OK, w.init(h.rt, new Object()));
            assertStatus(OK, w.setCallback(NOOP));
            h.rt.close();
            assertStatus(CLOSED, w.start());
            assertStatus(CLOSED, w.cancelAsync());
        }
    }

    @Modes.AllModesWheelOnly
    void cancelStatuses(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.openHeld(mode)) {
            final AtomicInteger runs = new AtomicInteger();
            final AsyncWork<Object> w = new AsyncWork<>();
            assertStatus(NOT_INITIALIZED, w.cancel());
            assertStatus(OK, w.init(h.rt, new Object()));
            assertStatus(OK, w.cancel(), "nothing queued");
            assertStatus(OK, w.setCallback((o, x) -> runs.incrementAndGet()));
            // time-bounded, to land cancels between a drain's claim and apply of the start
            final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            for (int i = 0; i < 100_000 && (i < 300 || System.nanoTime() - end < 0); i++) {
                assertStatus(OK, w.setCallback((o, x) -> runs.incrementAndGet()));
                assertStatus(OK, w.start());
                for (int spin = i & 63; spin > 0; spin--) {
                    Thread.onSpinWait();
                }
                assertStatus(WAS_PENDING, w.cancel(), "start then cancel at once, iteration " + i);
            }
            assertStatus(NO_CALLBACK, w.start(), "cancel cleared the callback");

            assertStatus(OK, w.setCallback((o, x) -> runs.incrementAndGet()));
            assertStatus(OK, w.start());
            Modes.await("queued on the held executor", w::isPending);
            assertStatus(WAS_PENDING, w.cancel(), "queued, not yet running");
            Modes.await("dropped (isPending reports the applied state)", () -> !w.isPending());
            h.held.release();
            Modes.pause(20);
            assertEquals(0, runs.get(), "the cancelled run never happened");

            assertStatus(OK, w.setCallback((o, x) -> runs.incrementAndGet()));
            assertStatus(OK, w.start());
            Modes.await("runs", () -> runs.get() == 1);
            Modes.await("idle after the run", () -> !w.isPending());
            assertStatus(OK, w.cancel(), "ran already");

            assertStatus(OK, w.close());
            assertStatus(NOT_INITIALIZED, w.cancel());
            assertStatus(OK, w.init(h.rt, new Object()));
            h.rt.close();
            assertStatus(CLOSED, w.cancel());
        }
    }

    @Modes.AllModesWheelOnly
    void cancelFromOwnCallbackIsDeadlock(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AtomicInteger inside = new AtomicInteger(Integer.MIN_VALUE);
            final CountDownLatch ran = new CountDownLatch(1);
            final AsyncWork<Object> w = ready(h.rt, (o, x) -> {
                inside.set(x.cancel());
                ran.countDown();
            });
            assertStatus(OK, w.start());
            Modes.await("ran", ran);
            assertStatus(DEADLOCK, inside.get());
        }
    }

    @Modes.AllModesWheelOnly
    void closeStatuses(final DispatchMode mode) throws Exception {
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncWork<Object> w = new AsyncWork<>();
            assertStatus(NOT_INITIALIZED, w.close());
            assertStatus(OK, w.init(h.rt, new Object()));
            assertStatus(OK, w.close());
            assertStatus(NOT_INITIALIZED, w.close());
            assertStatus(NOT_INITIALIZED, w.close());
            assertStatus(OK, w.init(h.rt, new Object()), "re-init at once");
            h.rt.close();
            assertStatus(CLOSED, w.close());
            assertFalse(w.isInitialized());
            assertStatus(NOT_INITIALIZED, w.close());
        }
    }
}
