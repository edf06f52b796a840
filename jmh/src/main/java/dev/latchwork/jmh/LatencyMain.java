package dev.latchwork.jmh;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import dev.latchwork.AsyncIdle;
import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerClock;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.openjdk.jol.info.ClassLayout;

/**
 * The latency and memory harness (not JMH: these are distributions and heap deltas, not
 * throughput). Prints markdown to standard output.
 *
 * <ol>
 *   <li><b>deferral</b>: how long a published command takes to reach the backend, per idle
 *       strategy of the dispatcher. "applied": {@code startAt(far)} until {@code isArmed()} turns
 *       true (the drain applied it; the backend call follows in the same pass). "fired":
 *       {@code start(0)} until the callback runs on the timer thread (adds the executor's
 *       schedule and wake-up). Samples are spaced by a 200 µs park, so a backoff dispatcher is
 *       found parked, as it would be in a lightly loaded service.</li>
 *   <li><b>lateness</b>: with {@code N} timers armed (10 000 and 1 000 000), 10 000 probe timers
 *       whose deadlines are spread evenly over one second fire; lateness = the time the callback
 *       runs minus the deadline. The other {@code N - 10 000} timers sit an hour (plus up to 10 s)
 *       away, so the structures are full but the firing rate is the same in both runs. A full GC
 *       runs between arming and the probe window. A callback before its deadline is counted as
 *       "early" (must be 0).</li>
 *   <li><b>memory</b>: heap used after full GCs, before and after creating 100 000 initialized cells
 *       and after arming them all; plus JOL instance sizes of the per-timer classes.</li>
 * </ol>
 *
 * <pre>
 * java -Xmx3g -cp jmh/target/benchmarks.jar dev.latchwork.jmh.LatencyMain all
 * java -cp jmh/target/benchmarks.jar dev.latchwork.jmh.LatencyMain lateness --big 100000 --impls netty-hwt,jdk-stpe
 * </pre>
 */
public final class LatencyMain {
    private static final long FAR_NANOS = TimeUnit.HOURS.toNanos(1);
    private static final long FAR_SPREAD_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long LEAD_NANOS = TimeUnit.MILLISECONDS.toNanos(300);
    private static final long GAP_NANOS = 200_000;
    private static final List<String> TIMER_IMPLS = Arrays.asList(
        "latchwork-deferred", "latchwork-host", "latchwork-wheel", "latchwork-executor", "netty-hwt", "jdk-stpe", "jdk25-fjp", "agrona-wheel-lock");

    private int samples = 10_000;
    private int small = 10_000;
    private int big = 1_000_000;
    /** Armed-timer counts of the lateness runs ({@code --sizes 10000,1000000,10000000}); default small and big. */
    private int[] sizes;
    private int probes = 10_000;
    private int memCells = 100_000;
    private List<String> impls = TIMER_IMPLS;

    private LatencyMain() {
    }

    public static void main(final String[] args) throws Exception {
        final LatencyMain m = new LatencyMain();
        String what = "all";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--samples": m.samples = Integer.parseInt(args[++i]); break;
                case "--small": m.small = Integer.parseInt(args[++i]); break;
                case "--big": m.big = Integer.parseInt(args[++i]); break;
                case "--probes": m.probes = Integer.parseInt(args[++i]); break;
                case "--memcells": m.memCells = Integer.parseInt(args[++i]); break;
                case "--sizes": m.sizes = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray(); break;
                case "--impls": m.impls = Arrays.asList(args[++i].split(",")); break;
                default: what = args[i]; break;
            }
        }
        System.out.printf(Locale.ROOT, "_JDK %s (%s), %d CPUs, max heap %d MiB._%n%n", Runtime.version(),
            System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(),
            Runtime.getRuntime().maxMemory() >> 20);
        if (what.equals("all") || what.equals("deferral")) {
            m.deferral();
        }
        if (what.equals("all") || what.equals("lateness")) {
            m.lateness();
        }
        if (what.equals("all") || what.equals("alloc")) {
            m.allocation();
        }
        if (what.equals("all") || what.equals("memory")) {
            m.memory();
        }
        System.out.flush();
        System.exit(0); // daemon engines of unsupported contenders aside, nothing is left running
    }

    // ------------------------------------------------------------------------------------------
    // deferral latency

    /** Owner of the probe timer: the callback stamps the time it ran. */
    static final class Probe {
        volatile long firedAt;
    }

    private void deferral() throws InterruptedException {
        System.out.println("### Deferral latency (command published -> applied / -> callback), µs");
        System.out.println();
        System.out.printf(Locale.ROOT, "%d samples each, 200 µs apart. DEFERRED unless said otherwise.%n%n", samples);
        System.out.println("| dispatcher | applied p50 | p99 | p99.9 | max | fired p50 | p99 | p99.9 | max |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        deferralRow("spin", AsyncRuntime.builder().idle(AsyncIdle.spin()), false);
        deferralRow("yielding", AsyncRuntime.builder().idle(AsyncIdle.yielding()), false);
        deferralRow("backoff(100 µs) (default)", AsyncRuntime.builder().idle(AsyncIdle.backoff(100_000)), false);
        deferralRow("backoff(1 ms)", AsyncRuntime.builder().idle(AsyncIdle.backoff(1_000_000)), false);
        deferralRow("backoff(100 µs) + wakeDispatcherOnCommand", AsyncRuntime.builder().idle(AsyncIdle.backoff(100_000))
            .wakeDispatcherOnCommand(true), false);
        deferralRow("HOST_DRIVEN, duty cycle drain() + backoff(100 µs)",
            AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN), true);
        deferralRow("INLINE (caller applies; no deferral)", AsyncRuntime.builder().dispatchMode(DispatchMode.INLINE), false);
        System.out.println();
    }

    private void deferralRow(final String label, final AsyncRuntime.Builder builder, final boolean host)
        throws InterruptedException {
        final AsyncRuntime rt = builder.threadFactory(Timeouts.daemonThreads("latchwork-deferral")).build();
        final Thread duty = host ? startDutyCycle(rt) : null;
        try {
            final Probe probe = new Probe();
            final AsyncTimer<Probe> timer = new AsyncTimer<>();
            ok(timer.init(rt, probe, TimerClock.MONOTONIC));
            ok(timer.setCallback((p, t) -> p.firedAt = System.nanoTime()));
            final Histogram applied = new Histogram(3);
            final Histogram fired = new Histogram(3);
            final int warmup = Math.min(2_000, samples);
            for (int i = -warmup; i < samples; i++) {
                long t0 = System.nanoTime();
                ok(timer.startAt(t0 + FAR_NANOS));
                Timeouts.await(timer::isArmed, TimeUnit.SECONDS.toNanos(10), "a start to be applied");
                final long a = System.nanoTime() - t0;
                ok(timer.cancelAsync());
                Timeouts.await(() -> !timer.isArmed(), TimeUnit.SECONDS.toNanos(10), "a cancel to be applied");
                LockSupport.parkNanos(GAP_NANOS);

                probe.firedAt = 0;
                t0 = System.nanoTime();
                ok(timer.start(0));
                Timeouts.await(() -> probe.firedAt != 0, TimeUnit.SECONDS.toNanos(10), "a 0-delay timer to fire");
                final long f = probe.firedAt - t0;
                LockSupport.parkNanos(GAP_NANOS);
                if (i >= 0) {
                    applied.recordValue(a);
                    fired.recordValue(Math.max(0, f));
                }
            }
            System.out.printf(Locale.ROOT, "| %s | %s | %s |%n", label, quantiles(applied), quantiles(fired));
        } finally {
            if (duty != null) {
                duty.interrupt();
                duty.join(10_000);
            }
            rt.close();
        }
    }

    private static Thread startDutyCycle(final AsyncRuntime rt) {
        final Thread t = new Thread(() -> {
            final IdleStrategy idle = new BackoffIdleStrategy(64, 16, 1_000, 100_000);
            while (!Thread.currentThread().isInterrupted()) {
                idle.idle(rt.drain());
            }
        }, "host-duty-cycle");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void ok(final int status) {
        if (status != AsyncStatus.OK) {
            throw new IllegalStateException("answered " + AsyncStatus.name(status));
        }
    }

    private static String quantiles(final Histogram h) {
        return String.format(Locale.ROOT, "%s | %s | %s | %s", us(h.getValueAtPercentile(50)),
            us(h.getValueAtPercentile(99)), us(h.getValueAtPercentile(99.9)), us(h.getMaxValue()));
    }

    private static String us(final long nanos) {
        final double us = nanos / 1000.0;
        return us >= 100 ? String.format(Locale.ROOT, "%.0f", us) : String.format(Locale.ROOT, "%.1f", us);
    }

    // ------------------------------------------------------------------------------------------
    // fire lateness

    private void lateness() throws InterruptedException {
        System.out.println("### Fire lateness (callback start - deadline), µs");
        System.out.println();
        System.out.printf(Locale.ROOT, "%d probe timers fire, spread evenly over 1 s; the other armed timers are 1 h away."
            + " latchwork-deferred, -host and -wheel use the default backend (the built-in wheel, tick %d ns x %d unless"
            + " said), latchwork-executor an owned remove-on-cancel ScheduledThreadPoolExecutor; Netty's tick is 1 ms; Agrona's wheel "
            + "tick is 2^20 ns, polled every 100 µs.%n%n", probes,
            LatchworkTimeouts.TICK_NANOS > 0 ? LatchworkTimeouts.TICK_NANOS : 1L << 17,
            LatchworkTimeouts.TICKS_PER_WHEEL > 0 ? LatchworkTimeouts.TICKS_PER_WHEEL : 64);
        System.out.println("| contender | armed | p50 | p99 | p99.9 | max | fired | early | arm time (s) |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (final String impl : impls) { // warm-up round per contender (JIT, class loading), not printed
            latenessRow(impl, Math.min(small, 2_000), false);
        }
        for (final int n : sizes != null ? sizes : new int[] {small, big}) {
            for (final String impl : impls) {
                latenessRow(impl, n, true);
            }
        }
        System.out.println();
    }

    private void latenessRow(final String impl, final int n, final boolean print) throws InterruptedException {
        final Timeouts t = Timeouts.create(impl);
        if (!t.supported() || !t.isTimer()) {
            if (print) {
                System.out.printf(Locale.ROOT, "| %s | %,d | n/a on JDK %d | | | | | | |%n", impl, n, Runtime.version().feature());
            }
            return;
        }
        final int p = Math.min(probes, n);
        final long[] deadlines = new long[n];
        final ConcurrentHistogram late = new ConcurrentHistogram(3);
        final AtomicLong early = new AtomicLong();
        final AtomicLong strays = new AtomicLong();
        final CountDownLatch done = new CountDownLatch(p);
        t.listener(cell -> {
            final long l = System.nanoTime() - deadlines[cell];
            if (cell >= p) {
                strays.incrementAndGet();
                return;
            }
            if (l < 0) {
                early.incrementAndGet();
            }
            late.recordValue(Math.max(0, l));
            done.countDown();
        });
        t.open(n);
        try {
            final SplittableRandom rnd = new SplittableRandom(42);
            final long armStart = System.nanoTime();
            for (int i = p; i < n; i++) {
                deadlines[i] = armStart + FAR_NANOS + rnd.nextLong(FAR_SPREAD_NANOS);
                ok(t.armAt(i, deadlines[i]));
            }
            t.awaitArmed(p, n);
            final long armed = System.nanoTime();
            if (n > p) {
                // a full GC now, so the harness's arming garbage is not evacuated (with the million
                // live timers) by a young pause inside the probe window: that would measure the GC
                System.gc();
            }
            final int[] order = shuffled(p, rnd);
            final long start = System.nanoTime() + LEAD_NANOS;
            for (final int i : order) {
                deadlines[i] = start + i * (WINDOW_NANOS / p);
                ok(t.armAt(i, deadlines[i]));
            }
            final boolean all = done.await(WINDOW_NANOS + LEAD_NANOS + TimeUnit.SECONDS.toNanos(60), TimeUnit.NANOSECONDS);
            if (print) {
                System.out.printf(Locale.ROOT, "| %s | %,d | %s | %,d%s | %d | %.2f |%n", impl, n, quantiles(late),
                    late.getTotalCount(), all ? "" : " (TIMED OUT)", early.get() + strays.get(), (armed - armStart) / 1e9);
            }
        } finally {
            t.close();
        }
        System.gc();
    }

    private static int[] shuffled(final int n, final SplittableRandom rnd) {
        final int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            final int j = rnd.nextInt(i + 1);
            final int x = a[i];
            a[i] = a[j];
            a[j] = x;
        }
        return a;
    }

    // ------------------------------------------------------------------------------------------
    // allocation per operation, every thread counted

    private void allocation() throws InterruptedException {
        final com.sun.management.ThreadMXBean mx =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        final int n = 100_000;
        final long ops = 20_000_000;
        System.out.println("### Allocation per operation, all threads (cross-check of JMH's B/op)");
        System.out.println();
        System.out.printf(Locale.ROOT, "%,d operations round-robin over %,d cells on one thread after two warm-up rounds"
            + " and a wait until the engine is idle;"
            + " bytes from `getTotalThreadAllocatedBytes` (every thread: caller, dispatcher, duty cycle, timer threads)"
            + " and `getThreadAllocatedBytes` of the caller alone.%n%n", ops, n);
        System.out.println("| contender | workload | B/op, all threads | B/op, caller | bytes in total, all threads |");
        System.out.println("|---|---|---:|---:|---:|");
        for (final String impl : Timeouts.IMPLS) {
            final Timeouts t = Timeouts.create(impl);
            if (!t.supported()) {
                continue;
            }
            t.open(n);
            try {
                for (final boolean rearm : new boolean[] {true, false}) {
                    long now = System.nanoTime();
                    long bad = 0;
                    for (int round = 0; round < 3; round++) {
                        if (round == 2) {
                            t.quiesce(); // a deferred engine applies each cell's first arm (allocating its
                                         // wake-up and executor task) well after the caller moved on
                        }
                        final long total0 = mx.getTotalThreadAllocatedBytes();
                        final long own0 = mx.getCurrentThreadAllocatedBytes();
                        final long count = round < 2 ? 2L * n : ops;
                        for (long i = 0; i < count; i++) {
                            if ((i & 1023) == 0) {
                                now = System.nanoTime();
                            }
                            final int cell = (int) (i % n);
                            bad += (rearm ? t.rearm(cell, now) : t.armCancel(cell, now)) != 0 ? 1 : 0;
                        }
                        final long own1 = mx.getCurrentThreadAllocatedBytes();
                        final long total1 = mx.getTotalThreadAllocatedBytes();
                        if (round == 2) {
                            System.out.printf(Locale.ROOT, "| %s | %s | %.4f | %.4f | %,d |%s%n", impl,
                                rearm ? "re-arm" : "arm+cancel", (total1 - total0) / (double) count,
                                (own1 - own0) / (double) count, total1 - total0, bad == 0 ? "" : " " + bad + " non-OK");
                        }
                    }
                }
            } finally {
                t.close();
            }
        }
        System.out.println();
    }

    // ------------------------------------------------------------------------------------------
    // memory

    private void memory() throws InterruptedException {
        System.out.println("### Memory");
        System.out.println();
        System.out.printf(Locale.ROOT, "Heap used after full GCs, divided by %,d cells. \"initialized\": the engine plus"
            + " each cell's state before any arm (latchwork: owner + AsyncTimer + control block; peers: owner task +"
            + " handle slot); \"armed\": what arming every cell once more adds (1 h deadlines).%n%n", memCells);
        System.out.println("| contender | B per initialized cell | B per armed timer |");
        System.out.println("|---|---:|---:|");
        for (final String impl : impls) {
            memoryRow(impl);
        }
        System.out.println();
        System.out.println("JOL instance sizes (this JVM's layout):");
        System.out.println();
        System.out.println("| class | bytes |");
        System.out.println("|---|---:|");
        quietJolInit();
        for (final String cls : new String[] {
            "dev.latchwork.AsyncTimer", "dev.latchwork.TimerBlock", "dev.latchwork.TimerBlock$Wake", "dev.latchwork.ExecutorBackend$Wake",
            "io.netty.util.HashedWheelTimer$HashedWheelTimeout",
            "java.util.concurrent.ScheduledThreadPoolExecutor$ScheduledFutureTask",
            "java.util.concurrent.DelayScheduler$ScheduledForkJoinTask"}) {
            try {
                final Class<?> c = Class.forName(cls);
                System.out.printf(Locale.ROOT, "| `%s` | %d |%n", cls, ClassLayout.parseClass(c).instanceSize());
            } catch (final ClassNotFoundException e) {
                System.out.printf(Locale.ROOT, "| `%s` | n/a on JDK %d |%n", cls, Runtime.version().feature());
            } catch (final RuntimeException | LinkageError e) {
                System.out.printf(Locale.ROOT, "| `%s` | JOL failed: %s |%n", cls, e);
            }
        }
        System.out.println();
    }

    /** JOL prints an attach warning on first use; keep it out of the markdown. */
    private static void quietJolInit() {
        final java.io.PrintStream out = System.out;
        final java.io.PrintStream err = System.err;
        final java.io.PrintStream sink = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
        System.setOut(sink);
        System.setErr(sink);
        try {
            org.openjdk.jol.vm.VM.current();
        } catch (final RuntimeException | LinkageError e) {
            // reported per class below
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private void memoryRow(final String impl) throws InterruptedException {
        final Timeouts t = Timeouts.create(impl);
        if (!t.supported() || !t.isTimer()) {
            System.out.printf(Locale.ROOT, "| %s | n/a on JDK %d | |%n", impl, Runtime.version().feature());
            return;
        }
        final long base = usedAfterGc();
        t.open(memCells);
        try {
            final long opened = usedAfterGc();
            final long now = System.nanoTime();
            final SplittableRandom rnd = new SplittableRandom(7);
            for (int i = 0; i < memCells; i++) {
                ok(t.armAt(i, now + FAR_NANOS + rnd.nextLong(FAR_SPREAD_NANOS)));
            }
            t.awaitArmed(0, memCells);
            Thread.sleep(50); // let background threads move queued arms into their structures
            final long armed = usedAfterGc();
            System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f |%n", impl, (opened - base) / (double) memCells,
                (armed - opened) / (double) memCells);
        } finally {
            t.close();
        }
    }

    private static long usedAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
