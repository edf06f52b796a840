package dev.latchwork.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.TimerClock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;

/**
 * What docs/NETTY.md says about giving Netty's {@code EventLoopGroup} or one {@code EventLoop} to
 * {@code AsyncRuntime.Builder.timerScheduler}: a group picks a loop per {@code schedule}, so one
 * timer's callbacks land on whichever loop {@code next()} chose; a loop that has shut down rejects
 * the schedule, and the cell is disarmed and the error handler gets the
 * {@link RejectedExecutionException}; a timer armed before the loop shut down never fires.
 */
class EventLoopAsSchedulerTest {
    private static final long WAIT_SECONDS = 30;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aGroupAsSchedulerRunsOneTimersCallbacksOnArbitraryLoops() throws Exception {
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        final LinkedBlockingQueue<Thread> ranOn = new LinkedBlockingQueue<>();
        try (AsyncRuntime rt = AsyncRuntime.builder().timerScheduler(group).build()) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(rt, new Object(), TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((o, timer) -> ranOn.add(Thread.currentThread())));
            final Set<Thread> loops = new HashSet<>();
            for (int i = 0; i < 8; i++) { // one cell, armed again after each fire
                assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
                final Thread th = ranOn.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                assertTrue(th != null, "the timer did not fire");
                loops.add(th);
            }
            // each wake-up went to group.schedule, i.e. next().schedule: the loops take turns
            assertEquals(2, loops.size(), "one timer's callbacks ran on " + loops);
            t.close();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aShutDownLoopRejectsTheScheduleAndTheCellIsDisarmed() throws Exception {
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final EventLoop loop = group.next();
        final LinkedBlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<Thread> ranOn = new LinkedBlockingQueue<>();
        try (AsyncRuntime rt = AsyncRuntime.builder().timerScheduler(loop).errorHandler(errors::add).build()) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            final AsyncTimer<Object> far = new AsyncTimer<>();
            for (final AsyncTimer<Object> c : java.util.List.of(t, far)) {
                assertEquals(AsyncStatus.OK, c.init(rt, new Object(), TimerClock.MONOTONIC));
                assertEquals(AsyncStatus.OK, c.setCallback((o, timer) -> ranOn.add(Thread.currentThread())));
            }
            assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
            assertTrue(ranOn.poll(WAIT_SECONDS, TimeUnit.SECONDS) != null, "the timer did not fire on the live loop");

            assertEquals(AsyncStatus.OK, far.start(1, TimeUnit.HOURS)); // scheduled on the loop, then the loop goes away
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (!far.isArmed() && System.nanoTime() - end < 0) {
                Thread.sleep(1);
            }
            assertTrue(far.isArmed());
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).await(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(loop.isTerminated());

            // a start answers OK (it is only published); the dispatcher's schedule is rejected
            assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
            final Throwable e = errors.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertInstanceOf(RejectedExecutionException.class, e, "reported: " + e);
            assertFalse(t.isArmed(), "a cell whose schedule was rejected must not claim to be armed");
            assertEquals(1, rt.stats().callbackErrors());

            // the loop dropped its scheduled tasks when it shut down: the far timer still looks
            // armed, will never fire, and nothing was reported for it
            assertTrue(far.isArmed());
            assertTrue(errors.isEmpty(), "unexpected: " + errors);
            assertTrue(ranOn.isEmpty());
            t.close();
            far.close();
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        }
    }
}
