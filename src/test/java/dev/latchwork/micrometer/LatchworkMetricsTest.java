package dev.latchwork.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.AsyncWork;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerClock;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 13 section 3: {@link LatchworkMetrics} against Micrometer's {@link SimpleMeterRegistry}:
 * every meter is registered with the runtime's name as a tag and reads the runtime's counters.
 * On both timer backends.
 */
class LatchworkMetricsTest {

    private static void await(final String what, final BooleanSupplier cond) {
        final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean()) {
            assertTrue(System.nanoTime() - end < 0, "timed out waiting for: " + what);
            LockSupport.parkNanos(1_000_000);
        }
    }

    private static double count(final SimpleMeterRegistry reg, final String name, final String runtime) {
        final FunctionCounter c = reg.get(name).tag("runtime", runtime).functionCounter();
        return c.count();
    }

    private static double gauge(final SimpleMeterRegistry reg, final String name, final String runtime) {
        final Gauge g = reg.get(name).tag("runtime", runtime).gauge();
        return g.value();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"wheel", "executor"})
    void metersReadTheRuntime(final String backend) throws Exception {
        final SimpleMeterRegistry reg = new SimpleMeterRegistry();
        final ScheduledThreadPoolExecutor ses = new ScheduledThreadPoolExecutor(1);
        final String name = "metrics-" + backend;
        final AsyncRuntime.Builder b = AsyncRuntime.builder().name(name).dispatchMode(DispatchMode.DEFERRED)
            .errorHandler(t -> { });
        if (backend.equals("executor")) {
            b.timerScheduler(ses);
        }
        try (AsyncRuntime rt = b.build()) {
            new LatchworkMetrics(rt, Tags.of("app", "test")).bindTo(reg);
            final int n = 10;
            final CountDownLatch fired = new CountDownLatch(n);
            @SuppressWarnings("unchecked")
            final AsyncTimer<Object>[] timers = new AsyncTimer[n];
            for (int i = 0; i < n; i++) {
                timers[i] = new AsyncTimer<>();
                assertEquals(AsyncStatus.OK, timers[i].init(rt, this, TimerClock.MONOTONIC));
                assertEquals(AsyncStatus.OK, timers[i].setCallback((o, t) -> fired.countDown()));
                assertEquals(AsyncStatus.OK, timers[i].start(1, TimeUnit.MILLISECONDS));
            }
            final AsyncTimer<Object> far = new AsyncTimer<>();
            assertEquals(AsyncStatus.OK, far.init(rt, this, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, far.setCallback((o, t) -> { }));
            assertEquals(AsyncStatus.OK, far.start(1, TimeUnit.HOURS));
            final CountDownLatch ran = new CountDownLatch(1);
            final AsyncWork<Object> w = new AsyncWork<>();
            assertEquals(AsyncStatus.OK, w.init(rt, this));
            assertEquals(AsyncStatus.OK, w.setCallback((o, x) -> {
                ran.countDown();
                throw new IllegalStateException("counted");
            }));
            assertEquals(AsyncStatus.OK, w.start());
            assertTrue(fired.await(10, TimeUnit.SECONDS), "timers fired");
            assertTrue(ran.await(10, TimeUnit.SECONDS), "work ran");
            await("error counted", () -> rt.callbackErrors() == 1);
            await("only the far timer armed", () -> rt.timersArmed() == 1);

            assertEquals(n, count(reg, "latchwork.timers.fired", name));
            assertEquals(1, count(reg, "latchwork.work.runs", name));
            assertEquals(1, count(reg, "latchwork.callbacks.errors", name));
            assertEquals(0, count(reg, "latchwork.callbacks.stuck", name));
            assertEquals(rt.commandsPublished(), count(reg, "latchwork.commands.published", name));
            assertTrue(count(reg, "latchwork.commands.published", name) >= n + 2);
            assertEquals(rt.commandsSuperseded(), count(reg, "latchwork.commands.superseded", name));
            assertEquals(rt.commandsDropped(), count(reg, "latchwork.commands.dropped", name));
            assertEquals(rt.busyAnswers(), count(reg, "latchwork.commands.busy", name));
            assertEquals(rt.drains(), count(reg, "latchwork.drains", name));
            assertEquals(n + 2, gauge(reg, "latchwork.blocks.live", name));
            assertEquals(1, gauge(reg, "latchwork.timers.armed", name));
            assertEquals(rt.drainsPending(), gauge(reg, "latchwork.drains.pending", name));

            int meters = 0;
            for (final Meter m : reg.getMeters()) {
                assertEquals(name, m.getId().getTag("runtime"), m.getId().toString());
                assertEquals("test", m.getId().getTag("app"), m.getId().toString());
                assertTrue(m.getId().getName().startsWith("latchwork."), m.getId().toString());
                meters++;
            }
            assertEquals(12, meters);
        } finally {
            ses.shutdownNow();
        }
    }
}
