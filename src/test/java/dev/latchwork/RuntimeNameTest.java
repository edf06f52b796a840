package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Issue 13 section 3: the runtime's name, in its threads, and the builder's checks. */
class RuntimeNameTest {

    @Test
    void nameIsValidated() {
        assertThrows(NullPointerException.class, () -> AsyncRuntime.builder().name(null));
        assertThrows(IllegalArgumentException.class, () -> AsyncRuntime.builder().name(""));
        assertThrows(IllegalArgumentException.class, () -> AsyncRuntime.builder().name(" \t"));
        assertThrows(NullPointerException.class, () -> AsyncRuntime.builder().stuckCallbackThreshold(null));
        assertThrows(IllegalArgumentException.class,
            () -> AsyncRuntime.builder().stuckCallbackThreshold(Duration.ofMillis(-1)));
    }

    @Test
    void defaultNameIsLatchworkN() {
        try (AsyncRuntime a = AsyncRuntime.create(); AsyncRuntime b = AsyncRuntime.create()) {
            assertTrue(a.name().matches("latchwork-\\d+"), a.name());
            assertTrue(b.name().matches("latchwork-\\d+"), b.name());
            assertTrue(!a.name().equals(b.name()), "default names differ");
            assertTrue(a.toString().contains(a.name()), a.toString());
        }
    }

    @Test
    void ownedThreadsCarryTheName() throws Exception {
        final Set<String> timerThreads = ConcurrentHashMap.newKeySet();
        final Set<String> workThreads = ConcurrentHashMap.newKeySet();
        try (AsyncRuntime rt = AsyncRuntime.builder().name("orders-rt")
                 .stuckCallbackThreshold(Duration.ofSeconds(30)).build()) {
            assertEquals("orders-rt", rt.name());
            final CountDownLatch done = new CountDownLatch(2);
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> {
                timerThreads.add(Thread.currentThread().getName());
                done.countDown();
            }));
            final AsyncWork<Object> w = new AsyncWork<>();
            assertEquals(AsyncStatus.OK, w.init(rt, this));
            assertEquals(AsyncStatus.OK, w.setCallback((o, x) -> {
                workThreads.add(Thread.currentThread().getName());
                done.countDown();
            }));
            assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
            assertEquals(AsyncStatus.OK, w.start());
            assertTrue(done.await(10, TimeUnit.SECONDS), "callbacks ran");
            assertEquals(Set.of("orders-rt-dispatcher"), timerThreads);
            assertEquals(1, workThreads.size());
            assertTrue(workThreads.iterator().next().startsWith("orders-rt-work-"), workThreads.toString());
            boolean watchdog = false;
            for (final Thread th : Thread.getAllStackTraces().keySet()) {
                if (th.getName().equals("orders-rt-watchdog")) {
                    watchdog = th.isDaemon();
                }
            }
            assertTrue(watchdog, "a daemon thread named orders-rt-watchdog runs");
        }
    }

    @Test
    void noWatchdogThreadUnlessAsked() {
        try (AsyncRuntime rt = AsyncRuntime.builder().name("quiet-rt").stuckCallbackThreshold(Duration.ZERO).build()) {
            for (final Thread th : Thread.getAllStackTraces().keySet()) {
                assertTrue(!th.getName().equals("quiet-rt-watchdog"), "no watchdog thread");
            }
            assertEquals(0, rt.stuckCallbacks());
        }
    }
}
