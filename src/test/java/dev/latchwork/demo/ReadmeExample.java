package dev.latchwork.demo;

import java.util.concurrent.TimeUnit;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerClock;
import java.util.concurrent.locks.LockSupport;

/**
 * The usage example of {@code README.md}, kept here so that it compiles with the library (the
 * README copies the {@code Connection} class below verbatim). Not run by anything.
 */
final class ReadmeExample {
    private ReadmeExample() {
    }

    /** A connection whose idle timeout is re-armed on every read. */
    static final class Connection {
        private static final long IDLE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

        private final AsyncTimer<Connection> idle = new AsyncTimer<>(); // embedded, reused

        Connection(AsyncRuntime rt) {
            idle.init(rt, this, TimerClock.MONOTONIC);
            idle.setCallback((conn, timer) -> conn.close()); // runs on the timer thread
            idle.start(IDLE_TIMEOUT_NANOS);
        }

        /** Called by the event loop for every read: lock-free, allocation-free, never throws. */
        void onRead(/* ByteBuffer data */) {
            int status = idle.start(IDLE_TIMEOUT_NANOS); // last command wins: moves the deadline
            if (status == AsyncStatus.BUSY) {
                // another thread re-armed this cell at the same instant; its command stands
            }
            // ... handle the data ...
        }

        void close() {
            idle.close(); // cancel-and-free: no callback starts after this returns
            // ... close the socket ...
        }
    }

    static void example() {
        try (AsyncRuntime rt = AsyncRuntime.create()) { // one per process: a dispatcher thread
            Connection c = new Connection(rt);
            c.onRead();
            c.close();
        }
    }

    /** The README's thread-free HOST_DRIVEN duty cycle (copied verbatim into the README). */
    static void hostLoop(java.util.function.BooleanSupplier running) {
        Thread host = Thread.currentThread();
        try (AsyncRuntime rt = AsyncRuntime.builder()
                .dispatchMode(DispatchMode.HOST_DRIVEN)       // no latchwork thread at all
                .hostWakeup(() -> LockSupport.unpark(host))   // a command arrived while we slept
                .build()) {
            Connection c = new Connection(rt);                // its idle timer fires in drain()
            while (running.getAsBoolean()) {
                int work = rt.drain();                        // apply commands, fire due timers
                // ... poll sockets, do the loop's own work ...
                if (work == 0) {
                    long nanos = rt.nanosUntilDue();          // 0, the next due timer, or MAX_VALUE
                    LockSupport.parkNanos(Math.min(nanos, 10_000_000L));
                }
            }
            c.close();
        }
    }
}
