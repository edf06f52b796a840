package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/**
 * HOST_DRIVEN on the built-in wheel needs no latchwork thread (contract 6): the host's own thread
 * applies commands and fires timers in {@code drain()}, sleeps on {@code nanosUntilDue()}, and is
 * woken by {@code hostWakeup} when another thread queues a command.
 */
class HostDrivenNoThreadTest {

    /** Threads alive now, by id. */
    static Set<Long> liveThreadIds() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
            .map(Thread::getId).collect(Collectors.toSet());
    }

    static List<String> newThreads(final Set<Long> before) {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.isAlive() && !before.contains(t.getId()))
            .map(Thread::getName).collect(Collectors.toList());
    }

    @Test
    void timersOnlyCreateNoThread() throws Exception {
        final Set<Long> before = liveThreadIds();
        final AtomicInteger made = new AtomicInteger();
        final AtomicInteger fired = new AtomicInteger();
        // the defaults but HOST_DRIVEN (owned work pool included: it must not start a thread for timers)
        try (AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).build();
             AsyncRuntime counted = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN)
                 .threadFactory(r -> {
                     made.incrementAndGet();
                     return new Thread(r);
                 }).build()) {
            for (final AsyncRuntime r : new AsyncRuntime[] {rt, counted}) {
                final AsyncTimer<?>[] timers = new AsyncTimer<?>[32];
                for (int i = 0; i < timers.length; i++) {
                    final AsyncTimer<Object> t = new AsyncTimer<>();
                    assertEquals(AsyncStatus.OK, t.init(r, this, TimerClock.MONOTONIC));
                    assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> fired.incrementAndGet()));
                    assertEquals(AsyncStatus.OK, t.start(i % 4, TimeUnit.MILLISECONDS));
                    timers[i] = t;
                }
                final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Modes.WAIT_SECONDS);
                while (fired.get() < (r == rt ? 32 : 64) && System.nanoTime() - end < 0) {
                    r.drain();
                    Thread.onSpinWait();
                }
                for (final AsyncTimer<?> t : timers) {
                    t.close();
                }
                r.drain();
            }
            assertEquals(64, fired.get(), "every timer fired on the host's drain()");
            assertEquals(List.of(), newThreads(before), "threads created by HOST_DRIVEN runtimes with timers only");
            assertEquals(0, made.get(), "threads made by the runtime's thread factory");
        }
    }

    @Test
    void hostSleepsOnNanosUntilDueAndIsWokenByCommands() throws Exception {
        final int n = 40;
        final AtomicLong parks = new AtomicLong();
        final AtomicLong rounds = new AtomicLong();
        final AtomicLong spins = new AtomicLong();
        final AtomicInteger fired = new AtomicInteger();
        final ConcurrentLinkedQueue<String> early = new ConcurrentLinkedQueue<>();
        final Thread[] host = new Thread[1];
        final AtomicInteger wakeups = new AtomicInteger();
        final AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN)
            .hostWakeup(() -> {
                wakeups.incrementAndGet();
                LockSupport.unpark(host[0]);
            }).build();
        final long[] deadlines = new long[n];
        final AsyncTimer<?>[] timers = new AsyncTimer<?>[n];
        final Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            final int k = i;
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> {
                final long now = System.nanoTime();
                if (now - deadlines[k] < 0) {
                    early.add("timer " + k + " fired " + (deadlines[k] - now) + " ns early");
                }
                synchronized (seen) {
                    if (!seen.add(k)) {
                        early.add("timer " + k + " fired twice");
                    }
                }
                fired.incrementAndGet();
            }));
            timers[i] = t;
        }
        final Thread h = new Thread(() -> {
            while (fired.get() < n && !rt.isClosed()) {
                rounds.incrementAndGet();
                if (rt.drain() != 0) {
                    continue;
                }
                final long wait = rt.nanosUntilDue();
                if (wait == 0) {
                    spins.incrementAndGet();
                    continue;
                }
                parks.incrementAndGet();
                LockSupport.parkNanos(Math.min(wait, TimeUnit.SECONDS.toNanos(1)));
            }
        }, "test-host-loop");
        host[0] = h;
        h.start();
        try {
            // the host goes idle (nothing armed: it parks up to 1 s); each start below is published by
            // this thread while it sleeps, so hostWakeup must wake it
            for (int i = 0; i < n; i++) {
                Modes.pause(2);
                final long delay = TimeUnit.MILLISECONDS.toNanos(5 + (i * 7) % 40);
                deadlines[i] = System.nanoTime() + delay;
                assertEquals(AsyncStatus.OK, timers[i].start(delay));
            }
            h.join(TimeUnit.SECONDS.toMillis(Modes.WAIT_SECONDS));
            assertEquals(n, fired.get(), "every timer fired");
            assertTrue(early.isEmpty(), early.toString());
            assertTrue(wakeups.get() >= 1, "hostWakeup woke the sleeping host");
            // A host that spun would loop millions of times over the ~130 ms this takes; one that
            // sleeps on nanosUntilDue loops a few times per timer and per wake-up (alone: under
            // 2,000 rounds). The bound is loose: drain() and nanosUntilDue() keep answering "work"
            // while a publisher is preempted between its two queue steps (BlockQueue notes), and on
            // a loaded 2-core machine that was seen to cost about 7,000 rounds.
            assertTrue(parks.get() >= 1, "the host parked");
            assertTrue(rounds.get() < 1000L * n, "host loop rounds " + rounds.get() + " (parks " + parks.get()
                + ", wake-ups " + wakeups.get() + ", rounds with drain() == 0 and nanosUntilDue() == 0: " + spins.get()
                + "): it spins instead of sleeping");
        } finally {
            rt.close();
            h.join(1000);
        }
    }
    @Test
    void aNewHostIsIdleSoTheFirstCommandCallsHostWakeup() {
        final AtomicInteger wakeups = new AtomicInteger();
        final AtomicInteger fired = new AtomicInteger();
        try (AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN)
                 .hostWakeup(wakeups::incrementAndGet).build()) {
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> fired.incrementAndGet()));
            assertEquals(0, wakeups.get(), "init and setCallback queue nothing");
            // no drain() yet: the host never said it was idle, but a new host is
            assertEquals(AsyncStatus.OK, t.start(0));
            assertEquals(1, wakeups.get(), "the first command on a new runtime wakes the host");
            assertEquals(AsyncStatus.OK, t.start(0));
            assertEquals(1, wakeups.get(), "at most one wake-up per idle spell");
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Modes.WAIT_SECONDS);
            while (fired.get() == 0 && System.nanoTime() - end < 0) {
                rt.drain();
            }
            assertEquals(1, fired.get(), "the coalesced start fired once");
            assertEquals(0, rt.drain(), "nothing left to do");
            assertEquals(AsyncStatus.OK, t.start(0));
            assertEquals(2, wakeups.get(), "idle again after a drain that found nothing: woken again");
        }
    }
}
