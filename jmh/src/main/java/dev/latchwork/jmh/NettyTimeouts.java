package dev.latchwork.jmh;

import java.util.concurrent.TimeUnit;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;

/**
 * Netty {@link HashedWheelTimer}, re-armed as its users do: {@code cancel()} the previous
 * {@link Timeout} and {@code newTimeout} a fresh one (one handle allocated per arm). One task object
 * per cell (the connection's handler). The tick is 1 ms (Netty's minimum; the default is 100 ms):
 * the worker moves at most 100 000 new timeouts per tick from its MPSC queue into the wheel, so at
 * 100 ms a benchmark's producers would outrun it and the queue would grow without bound. 512 ticks
 * per wheel (the default). The worker thread is a daemon; the timer is started in {@link #open}
 * so the first {@code newTimeout} does not wait for it.
 */
final class NettyTimeouts extends Timeouts {
    private HashedWheelTimer timer;
    private TimerTask[] tasks;
    private Timeout[] handles;

    @Override
    void open(final int cells) {
        timer = new HashedWheelTimer(daemonThreads("netty-hwt"), 1, TimeUnit.MILLISECONDS, 512);
        timer.start();
        tasks = new TimerTask[cells];
        handles = new Timeout[cells];
        for (int i = 0; i < cells; i++) {
            final int cell = i;
            tasks[i] = timeout -> onFire(cell);
        }
    }

    @Override
    int rearm(final int cell, final long now) {
        final Timeout previous = handles[cell];
        if (previous != null) {
            previous.cancel();
        }
        handles[cell] = timer.newTimeout(tasks[cell], IDLE_TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
        return 0;
    }

    @Override
    int armCancel(final int cell, final long now) {
        handles[cell] = timer.newTimeout(tasks[cell], IDLE_TIMEOUT_NANOS, TimeUnit.NANOSECONDS); // the request keeps it
        handles[cell].cancel();                                                                  // the response cancels it
        handles[cell] = null;
        return 0;
    }

    @Override
    int armAt(final int cell, final long deadlineNanos) {
        handles[cell] = timer.newTimeout(tasks[cell], deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        return 0;
    }

    @Override
    void close() {
        if (timer != null) {
            timer.stop();
        }
    }

    @Override
    String stats() {
        return timer == null ? "" : "netty-hwt: pendingTimeouts=" + timer.pendingTimeouts();
    }
}
