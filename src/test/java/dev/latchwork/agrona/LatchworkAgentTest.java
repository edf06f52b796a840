package dev.latchwork.agrona;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latchwork.AsyncIdle;
import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.AsyncWork;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerClock;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.junit.jupiter.api.Test;

/** The optional Agrona integration (issue 13 section 2) under a real {@link AgentRunner}. */
class LatchworkAgentTest {
    private static final long WAIT_SECONDS = 10;

    @Test
    void timersFireOnTheAgentRunnerThreadAndOnCloseClosesTheRuntime() throws Exception {
        final CopyOnWriteArrayList<Throwable> errors = new CopyOnWriteArrayList<>();
        final AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).build();
        final LatchworkAgent agent = new LatchworkAgent(rt);
        assertEquals("latchwork", agent.roleName());
        assertTrue(agent.closesRuntimeOnClose());
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        final CountDownLatch fired = new CountDownLatch(3);
        final AsyncTimer<Object> periodic = new AsyncTimer<>();
        assertEquals(AsyncStatus.OK, periodic.init(rt, this, TimerClock.MONOTONIC));
        assertEquals(AsyncStatus.OK, periodic.setCallback((o, t) -> {
            threads.add(Thread.currentThread().getName());
            fired.countDown();
            t.start(1, TimeUnit.MILLISECONDS); // self re-arming
        }));
        final AgentRunner runner = new AgentRunner(
            new BackoffIdleStrategy(64, 16, 1_000, 1_000_000), errors::add, null, agent);
        final Thread thread = AgentRunner.startOnThread(runner);
        try {
            // published from this thread, applied and fired on the agent's thread
            assertEquals(AsyncStatus.OK, periodic.start(1, TimeUnit.MILLISECONDS));
            assertTrue(fired.await(WAIT_SECONDS, TimeUnit.SECONDS), "timer did not fire under AgentRunner");
            assertEquals(Set.of(thread.getName()), threads);
        } finally {
            runner.close();
        }
        assertTrue(rt.isClosed(), "onClose must close the runtime it owns");
        assertEquals(AsyncStatus.CLOSED, periodic.start(1));
        assertTrue(errors.isEmpty(), errors.toString());
    }

    @Test
    void aRuntimeThatOutlivesTheAgentComposesWithOtherAgents() throws Exception {
        try (AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).build()) {
            final LatchworkAgent agent = new LatchworkAgent(rt, "timers", false);
            final AtomicInteger otherWork = new AtomicInteger();
            final CompositeAgent composite = new CompositeAgent(agent, new org.agrona.concurrent.Agent() {
                @Override
                public int doWork() {
                    otherWork.incrementAndGet();
                    return 0;
                }

                @Override
                public String roleName() {
                    return "other";
                }
            });
            assertTrue(composite.roleName().contains("timers"), composite.roleName());
            final AgentInvoker invoker = new AgentInvoker(Throwable::printStackTrace, null, composite);
            invoker.start();
            final CountDownLatch fired = new CountDownLatch(1);
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> fired.countDown()));
            assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (fired.getCount() > 0 && System.nanoTime() - end < 0) {
                invoker.invoke(); // the host's duty cycle
                Thread.onSpinWait();
            }
            assertEquals(0, fired.getCount());
            assertTrue(otherWork.get() > 0);
            invoker.close();
            assertFalse(rt.isClosed(), "closeRuntimeOnClose=false must leave the runtime open");
            assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void rejectsARuntimeThatIsNotHostDriven() {
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            assertThrows(IllegalArgumentException.class, () -> new LatchworkAgent(rt));
        }
        assertThrows(NullPointerException.class, () -> new LatchworkAgent(null));
    }

    @Test
    void anAgronaIdleStrategyDrivesTheDispatcher() throws Exception {
        final SleepingIdleStrategy sleeping = new SleepingIdleStrategy(TimeUnit.MICROSECONDS.toNanos(50));
        final AsyncIdle idle = AgronaIdle.of(sleeping);
        try (AsyncRuntime rt = AsyncRuntime.builder().idle(idle).build()) {
            final CountDownLatch fired = new CountDownLatch(1);
            final CountDownLatch ran = new CountDownLatch(1);
            final AsyncTimer<Object> t = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> fired.countDown()));
            assertEquals(AsyncStatus.OK, t.start(2, TimeUnit.MILLISECONDS));
            final AsyncWork<Object> w = new AsyncWork<>();
            assertEquals(AsyncStatus.OK, w.init(rt, this));
            assertEquals(AsyncStatus.OK, w.setCallback((o, x) -> ran.countDown()));
            assertEquals(AsyncStatus.OK, w.start());
            assertTrue(fired.await(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(ran.await(WAIT_SECONDS, TimeUnit.SECONDS));
        }
        // one instance, one runtime
        assertThrows(IllegalStateException.class, () -> AsyncRuntime.builder().idle(idle).build());
        assertEquals(0, AgronaIdle.inferMaxParkNanos(new BusySpinIdleStrategy()));
        assertEquals(Long.MAX_VALUE, AgronaIdle.inferMaxParkNanos(sleeping));
        // a factory: one strategy per runtime, spin without sleeping
        final AsyncIdle shared = AgronaIdle.of(BusySpinIdleStrategy::new, 0);
        for (int i = 0; i < 2; i++) {
            try (AsyncRuntime rt = AsyncRuntime.builder().idle(shared).wakeDispatcherOnCommand(false).build()) {
                final CountDownLatch fired = new CountDownLatch(1);
                final AsyncTimer<Object> t = new AsyncTimer<>();
                assertEquals(AsyncStatus.OK, t.init(rt, this, TimerClock.MONOTONIC));
                assertEquals(AsyncStatus.OK, t.setCallback((o, x) -> fired.countDown()));
                assertEquals(AsyncStatus.OK, t.start(1, TimeUnit.MILLISECONDS));
                assertTrue(fired.await(WAIT_SECONDS, TimeUnit.SECONDS));
            }
        }
    }
}
