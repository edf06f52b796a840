package dev.latchwork.jmh;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2LongHashMap;

/**
 * Agrona {@link DeadlineTimerWheel} made thread safe the obvious way: one {@link ReentrantLock}
 * around it. Re-arm is {@code cancelTimer(previous id)} + {@code scheduleTimer(now + timeout)} under
 * the lock; arm-then-cancel is schedule (id kept in the cell) + cancel under one lock hold. A poller thread plays the
 * wheel's owner: every 100 µs it takes the lock and polls until the wheel's tick has caught up
 * with the clock ({@code poll} advances one tick per call); no expiry is due during a benchmark. Tick 2^20 ns (about 1 ms), 1024 ticks per wheel, 16 initial slots per tick.
 * Deadlines are absolute: callers pass their cached {@code now}, as Agrona users do.
 * <p>
 * Needs no JVM flag: {@code DeadlineTimerWheel} and {@code Long2LongHashMap} do not touch
 * {@code org.agrona.UnsafeApi}.
 */
final class AgronaTimeouts extends Timeouts {
    private static final long NONE = -1;
    private static final long POLL_PERIOD_NANOS = 100_000;

    private final ReentrantLock lock = new ReentrantLock();
    private DeadlineTimerWheel wheel;
    private long[] ids;
    /** Timer id to cell, only for timers armed by {@link #armAt} (the latency harness). */
    private final Long2LongHashMap idToCell = new Long2LongHashMap(NONE);
    private Thread poller;
    private volatile boolean running;

    @Override
    void open(final int cells) {
        wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, System.nanoTime(), 1L << 20, 1024);
        ids = new long[cells];
        Arrays.fill(ids, NONE);
        running = true;
        poller = new Thread(this::pollLoop, "agrona-wheel-poller");
        poller.setDaemon(true);
        poller.start();
    }

    private void pollLoop() {
        final DeadlineTimerWheel.TimerHandler handler = this::onExpiry;
        while (running) {
            final long now = System.nanoTime();
            lock.lock();
            try {
                // poll advances the wheel by at most one tick per call: catch up to now, as a duty
                // cycle that polls on every pass would
                do {
                    wheel.poll(now, handler, Integer.MAX_VALUE);
                } while (wheel.currentTickTime() <= now);
            } finally {
                lock.unlock();
            }
            LockSupport.parkNanos(POLL_PERIOD_NANOS);
        }
    }

    private boolean onExpiry(final TimeUnit unit, final long now, final long timerId) {
        final long cell = idToCell.remove(timerId);
        if (cell != NONE) {
            ids[(int) cell] = NONE;
            onFire((int) cell);
        }
        return true;
    }

    @Override
    int rearm(final int cell, final long now) {
        final ReentrantLock l = lock;
        l.lock();
        try {
            final long previous = ids[cell];
            if (previous != NONE) {
                wheel.cancelTimer(previous);
            }
            ids[cell] = wheel.scheduleTimer(now + IDLE_TIMEOUT_NANOS);
        } finally {
            l.unlock();
        }
        return 0;
    }

    @Override
    int armCancel(final int cell, final long now) {
        final ReentrantLock l = lock;
        l.lock();
        try {
            ids[cell] = wheel.scheduleTimer(now + IDLE_TIMEOUT_NANOS); // the request keeps its timer id
            wheel.cancelTimer(ids[cell]);                               // the response cancels it
            ids[cell] = NONE;
        } finally {
            l.unlock();
        }
        return 0;
    }

    @Override
    int armAt(final int cell, final long deadlineNanos) {
        lock.lock();
        try {
            final long id = wheel.scheduleTimer(deadlineNanos);
            ids[cell] = id;
            idToCell.put(id, cell);
        } finally {
            lock.unlock();
        }
        return 0;
    }

    @Override
    void close() {
        running = false;
        if (poller != null) {
            LockSupport.unpark(poller);
            try {
                poller.join(10_000);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    String stats() {
        if (wheel == null) {
            return "";
        }
        lock.lock();
        try {
            return "agrona-wheel-lock: timerCount=" + wheel.timerCount();
        } finally {
            lock.unlock();
        }
    }
}
