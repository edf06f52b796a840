package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

/**
 * Contract rule 5 (hot-path contract), allocation part, as a unit test: after warm-up, the
 * publishing thread allocates nothing in start / startAt / cancelAsync / work start / close, in
 * DEFERRED and HOST_DRIVEN modes. Measured with HotSpot's per-thread allocation counter
 * ({@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}), which counts only this
 * thread, so the dispatcher's own work does not blur it. The JMH {@code -prof gc} figures in
 * docs/BENCHMARKS.md are the speed-side proof; this test keeps the property from regressing.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HotPathAllocationTest {
    private static final int WARMUP = 200_000;
    private static final int MEASURED = 200_000;
    /** Far below one object per 1,000 operations. */
    private static final long SLACK_BYTES = 1024;

    /*
     * The tests run inside module dev.latchwork, which does not read java.management; core
     * reflection assumes readability, so the counter is reached reflectively.
     */
    private static final Object MX;
    private static final Method ALLOCATED;

    static {
        Object mx = null;
        Method m = null;
        try {
            mx = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            final Class<?> sun = Class.forName("com.sun.management.ThreadMXBean");
            if (sun.isInstance(mx) && (Boolean) sun.getMethod("isThreadAllocatedMemorySupported").invoke(mx)) {
                m = sun.getMethod("getThreadAllocatedBytes", long.class);
            }
        } catch (final ReflectiveOperationException | RuntimeException e) {
            m = null;
        }
        MX = mx;
        ALLOCATED = m;
    }

    /** This thread's allocated bytes (also used by {@link CountersTest}). */
    static long allocated() {
        try {
            return (Long) ALLOCATED.invoke(MX, Thread.currentThread().getId());
        } catch (final ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    static boolean supported() {
        return ALLOCATED != null;
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(value = DispatchMode.class, names = {"DEFERRED", "HOST_DRIVEN"})
    void hotPathOperationsAllocateNothingAfterWarmUp(final DispatchMode mode) throws Exception {
        assumeTrue(supported(), "per-thread allocation counter not available on this JVM");
        try (Modes.Harness h = Modes.open(mode)) {
            final AsyncRuntime rt = h.rt;
            final AsyncTimer<Object> timer = new AsyncTimer<>();
            final AsyncWork<Object> work = new AsyncWork<>();
            final AsyncTimer<Object> churn = new AsyncTimer<>();
            final Object owner = new Object();
            assertEquals(AsyncStatus.OK, timer.init(rt, owner, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, timer.setCallback((o, t) -> { }));
            assertEquals(AsyncStatus.OK, work.init(rt, owner));
            assertEquals(AsyncStatus.OK, work.setCallback((o, w) -> { }));
            final long delay = TimeUnit.SECONDS.toNanos(60);
            final long deadline = System.nanoTime() + delay;
            long bad = 0;
            for (int round = 0; round < 2; round++) {
                final int n = round == 0 ? WARMUP : MEASURED;
                final long before = allocated();
                for (int i = 0; i < n; i++) {
                    bad += timer.start(delay) < 0 ? 1 : 0;
                    bad += timer.startAt(deadline + i) < 0 ? 1 : 0;
                    bad += timer.cancelAsync() < 0 ? 1 : 0;
                    bad += work.cancelAsync() < 0 ? 1 : 0;
                }
                final long after = allocated();
                if (round == 1) {
                    // BUSY is impossible with one publisher per cell; any other status is a bug
                    assertEquals(0, bad, "non-OK statuses on the hot path");
                    // One allocation per operation would be >= 16 B x 800,000. What remains is the
                    // probe's own boxing (reflective call) and one-off events (a LongAdder cell,
                    // a JIT transition): a few hundred bytes, i.e. 0 B/op.
                    final long bytes = after - before;
                    assertTrue(bytes <= SLACK_BYTES, "bytes allocated by " + 4L * n
                        + " hot-path operations in " + mode + ": " + bytes + " (allowed slack " + SLACK_BYTES + ")");
                }
            }
            // close is a hot-path operation too (init allocates the block; close must not)
            final int cells = 20_000;
            @SuppressWarnings("unchecked")
            final AsyncTimer<Object>[] many = new AsyncTimer[cells];
            long closeBytes = 0;
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < cells; i++) {
                    if (many[i] == null) {
                        many[i] = new AsyncTimer<>();
                    }
                    assertEquals(AsyncStatus.OK, many[i].init(rt, owner, TimerClock.MONOTONIC));
                }
                final long before = allocated();
                for (int i = 0; i < cells; i++) {
                    many[i].close();
                }
                closeBytes = allocated() - before;
            }
            assertTrue(closeBytes <= SLACK_BYTES, "bytes allocated by 20,000 close(): " + closeBytes);
        }
    }
}
