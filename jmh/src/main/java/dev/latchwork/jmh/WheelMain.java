package dev.latchwork.jmh;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.TimerClock;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The built-in wheel's harness (issue 12, "Measured"): what {@link LatencyMain} does not cover.
 * Prints markdown. One section per run:
 *
 * <ul>
 *   <li>{@code alloc}: bytes allocated on every thread over 20M re-arms (100k cells round robin,
 *       later deadlines) and over 1M fire + self-re-arm cycles (periodic timers);</li>
 *   <li>{@code idle}: CPU time and context switches of the runtime's threads over 10 s, nothing
 *       armed and 1M armed an hour away ({@code --tick N --slots N} for the geometry study);</li>
 *   <li>{@code burst}: N timers armed in one burst, deadlines uniform over the next 2 s: lateness
 *       of every one of them;</li>
 *   <li>{@code scale}: 10M timers armed on one default runtime: arm time, heap, GC;</li>
 *   <li>{@code expiry}: 1M timers due within the same 10 ms: time until all fired;</li>
 *   <li>{@code deferral}: publish to applied after quiet spells and under load, and the
 *       dispatcher's unparks per million re-arms.</li>
 * </ul>
 *
 * <pre>
 * java -Xmx8g -cp jmh/target/benchmarks.jar dev.latchwork.jmh.WheelMain alloc
 * </pre>
 */
public final class WheelMain {
    private static final long HOUR = TimeUnit.HOURS.toNanos(1);
    private static final com.sun.management.ThreadMXBean MX =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private long tick;
    private int slots;
    private int scaleN = 10_000_000;
    private int idleSeconds = 10;
    private List<String> impls = Arrays.asList("latchwork-wheel", "latchwork-executor", "jdk-stpe", "netty-hwt");

    private WheelMain() {
    }

    public static void main(final String[] args) throws Exception {
        final WheelMain m = new WheelMain();
        String what = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tick": m.tick = Long.parseLong(args[++i]); break;
                case "--slots": m.slots = Integer.parseInt(args[++i]); break;
                case "--n": m.scaleN = Integer.parseInt(args[++i]); break;
                case "--seconds": m.idleSeconds = Integer.parseInt(args[++i]); break;
                case "--impls": m.impls = Arrays.asList(args[++i].split(",")); break;
                default: what = args[i]; break;
            }
        }
        System.out.printf(Locale.ROOT, "_JDK %s (%s), %d CPUs, max heap %d MiB, load average %s._%n%n",
            Runtime.version(), System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(),
            Runtime.getRuntime().maxMemory() >> 20, loadAverage());
        switch (what) {
            case "alloc": m.alloc(); break;
            case "idle": m.idle(); break;
            case "burst": m.burst(); break;
            case "scale": m.scale(); break;
            case "expiry": m.expiry(); break;
            case "deferral": m.deferral(); break;
            case "stall": m.stall(); break;
            default: throw new IllegalArgumentException("expected alloc|idle|burst|scale|expiry|deferral, got " + what);
        }
        System.out.flush();
        System.exit(0);
    }

    // ------------------------------------------------------------------------------------------
    // helpers

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim().split(" ", 4)[0]
                + " " + Files.readString(Path.of("/proc/loadavg")).trim().split(" ")[1];
        } catch (final IOException e) {
            return "?";
        }
    }

    static void ok(final int status) {
        if (status != AsyncStatus.OK) {
            throw new IllegalStateException("answered " + AsyncStatus.name(status));
        }
    }

    /** Bytes allocated so far by every live thread. */
    static long allBytes() {
        return MX.getTotalThreadAllocatedBytes();
    }

    /** CPU nanoseconds of the live threads whose name starts with one of the prefixes. */
    static long cpuOf(final String... prefixes) {
        long sum = 0;
        for (final java.lang.management.ThreadInfo ti : MX.getThreadInfo(MX.getAllThreadIds())) {
            if (ti == null) {
                continue;
            }
            for (final String p : prefixes) {
                if (ti.getThreadName().startsWith(p)) {
                    final long c = MX.getThreadCpuTime(ti.getThreadId());
                    sum += Math.max(0, c);
                    break;
                }
            }
        }
        return sum;
    }

    /** Voluntary + involuntary context switches of the OS threads whose comm starts with a prefix. */
    static long[] ctxSwitchesOf(final String... prefixes) {
        final long[] r = new long[2];
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (final Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    final String comm = Files.readString(t.resolve("comm")).trim();
                    boolean match = false;
                    for (final String p : prefixes) {
                        match |= comm.startsWith(p.length() > 15 ? p.substring(0, 15) : p);
                    }
                    if (!match) {
                        continue;
                    }
                    for (final String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            r[0] += Long.parseLong(line.split("\\s+")[1]);
                        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                            r[1] += Long.parseLong(line.split("\\s+")[1]);
                        }
                    }
                } catch (final IOException | RuntimeException e) {
                    // thread gone
                }
            }
        } catch (final IOException e) {
            return new long[] {-1, -1};
        }
        return r;
    }

    /** The runtime's package-private {@code wakeups} counter (publishers' unparks), by reflection. */
    static long wakeups(final AsyncRuntime rt) {
        try {
            final Field f = AsyncRuntime.class.getDeclaredField("wakeups");
            f.setAccessible(true);
            return ((LongAdder) f.get(rt)).sum();
        } catch (final ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static long[] gcTotals() {
        long count = 0;
        long millis = 0;
        for (final GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, gc.getCollectionCount());
            millis += Math.max(0, gc.getCollectionTime());
        }
        return new long[] {count, millis};
    }

    static long usedAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    static String us(final long nanos) {
        final double us = nanos / 1000.0;
        return us >= 100 ? String.format(Locale.ROOT, "%,.0f", us) : String.format(Locale.ROOT, "%.1f", us);
    }

    static String quantiles(final Histogram h) {
        return String.format(Locale.ROOT, "%s | %s | %s | %s", us(h.getValueAtPercentile(50)),
            us(h.getValueAtPercentile(99)), us(h.getValueAtPercentile(99.9)), us(h.getMaxValue()));
    }

    private AsyncRuntime.Builder wheelBuilder() {
        final AsyncRuntime.Builder b = AsyncRuntime.builder();
        if (tick > 0 || slots > 0) {
            b.timerWheel(tick > 0 ? tick : 1L << 17, slots > 0 ? slots : 64);
        }
        return b;
    }

    private String geometry() {
        return (tick > 0 ? tick : 1L << 17) + " ns x " + (slots > 0 ? slots : 64);
    }

    /** Owner of a timer in the direct (non-{@link Timeouts}) sections. */
    static final class Owner {
        final int index;

        Owner(final int index) {
            this.index = index;
        }
    }

    @SuppressWarnings("unchecked")
    static AsyncTimer<Owner>[] cells(final AsyncRuntime rt, final int n,
                                     final dev.latchwork.TimerCallback<Owner> cb) {
        final AsyncTimer<Owner>[] timers = new AsyncTimer[n];
        for (int i = 0; i < n; i++) {
            final AsyncTimer<Owner> t = new AsyncTimer<>();
            ok(t.init(rt, new Owner(i), TimerClock.MONOTONIC));
            ok(t.setCallback(cb));
            timers[i] = t;
        }
        return timers;
    }

    static void awaitArmedCount(final AsyncRuntime rt, final long n, final long timeoutNanos) {
        final long end = System.nanoTime() + timeoutNanos;
        while (rt.stats().timersArmed() < n) {
            if (System.nanoTime() - end > 0) {
                throw new IllegalStateException("timed out: armed " + rt.stats().timersArmed() + " of " + n);
            }
            LockSupport.parkNanos(200_000);
        }
    }

    // ------------------------------------------------------------------------------------------
    // 2. allocation on all threads

    private void alloc() throws InterruptedException {
        final int n = 100_000;
        final long ops = 20_000_000;
        System.out.println("#### Allocation on all threads");
        System.out.println();
        System.out.printf(Locale.ROOT, "Re-arm: %,d re-arms (`start(60 s)`, each deadline later than the last) round robin over"
            + " %,d cells from one thread, after two warm-up rounds and a wait until the engine is idle. Fire: %,d periodic"
            + " timers whose callbacks call `start(1 ms)` on their own timer; bytes over 1,000,000 fires after 200,000 warm-up"
            + " fires. Bytes: `getTotalThreadAllocatedBytes` (every live thread: caller, dispatcher, timer threads, and the"
            + " harness's main thread, which only sleeps and polls a counter).%n%n", ops, n, 1_000);
        System.out.println("| contender | workload | ops | bytes, all threads | B/op |");
        System.out.println("|---|---|---:|---:|---:|");
        for (final String impl : impls) {
            final Timeouts t = Timeouts.create(impl);
            t.open(n);
            try {
                long now = System.nanoTime();
                long bad = 0;
                for (int round = 0; round < 3; round++) {
                    if (round == 2) {
                        t.quiesce();
                    }
                    final long b0 = allBytes();
                    final long count = round < 2 ? 2L * n : ops;
                    for (long i = 0; i < count; i++) {
                        if ((i & 1023) == 0) {
                            now = System.nanoTime();
                        }
                        bad += t.rearm((int) (i % n), now) != 0 ? 1 : 0;
                    }
                    final long b1 = allBytes();
                    if (round == 2) {
                        System.out.printf(Locale.ROOT, "| %s | re-arm | %,d | %,d | %.4f |%s%n", impl, count, b1 - b0,
                            (b1 - b0) / (double) count, bad == 0 ? "" : " " + bad + " non-OK");
                    }
                }
            } finally {
                t.close();
            }
        }
        periodicAlloc("latchwork-wheel", wheelBuilder());
        final java.util.concurrent.ScheduledThreadPoolExecutor stpe = new java.util.concurrent.ScheduledThreadPoolExecutor(1);
        stpe.setRemoveOnCancelPolicy(true);
        try {
            periodicAlloc("latchwork-executor", AsyncRuntime.builder().timerScheduler(stpe));
        } finally {
            stpe.shutdownNow();
        }
        System.out.println();
    }

    private static void periodicAlloc(final String label, final AsyncRuntime.Builder b) throws InterruptedException {
        final int cells = 1_000;
        final long period = 1_000_000;
        final AtomicLong fires = new AtomicLong();
        final AtomicInteger bad = new AtomicInteger();
        final boolean[] stop = new boolean[1];
        final AsyncRuntime rt = b.build();
        try {
            final AsyncTimer<Owner>[] timers = cells(rt, cells, (o, timer) -> {
                fires.incrementAndGet();
                if (!stop[0] && timer.start(period) != AsyncStatus.OK) {
                    bad.incrementAndGet();
                }
            });
            for (final AsyncTimer<Owner> t : timers) {
                ok(t.start(period));
            }
            while (fires.get() < 200_000) {
                Thread.sleep(5);
            }
            final long f0 = fires.get();
            final long b0 = allBytes();
            final long t0 = System.nanoTime();
            while (fires.get() - f0 < 1_000_000) {
                Thread.sleep(5);
            }
            final long b1 = allBytes();
            final long f1 = fires.get();
            final long t1 = System.nanoTime();
            stop[0] = true;
            System.out.printf(Locale.ROOT, "| %s | fire + self re-arm (%,d fires/s) | %,d | %,d | %.4f |%s%n", label,
                (long) ((f1 - f0) / ((t1 - t0) / 1e9)), f1 - f0, b1 - b0, (b1 - b0) / (double) (f1 - f0),
                bad.get() == 0 ? "" : " " + bad.get() + " non-OK re-arms");
        } finally {
            rt.close();
        }
    }

    // ------------------------------------------------------------------------------------------
    // 3. idle CPU

    private void idle() throws InterruptedException {
        System.out.println("#### Idle CPU over " + idleSeconds + " s");
        System.out.println();
        System.out.println("CPU time (ThreadMXBean) of every thread the runtime owns (its dispatcher; the STPE's thread for the"
            + " executor backend), context switches of those threads (/proc), unparks by publishers (`wakeups`), wheel "
            + geometry() + " unless the executor backend. 1M armed: `start(1 h + up to 10 s)`, all applied, a full GC, 1 s of"
            + " settling, then the window.");
        System.out.println();
        System.out.println("| runtime | armed | CPU ms | % of a core | voluntary ctx switches | involuntary | per s | drains | unparks |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (final int armed : new int[] {0, 1_000_000}) {
            idleRow("default (wheel " + geometry() + ")", wheelBuilder(), armed);
            if (tick == 0 && slots == 0) {
                idleRow("wheel, `wakeDispatcherOnCommand(false)`", wheelBuilder().wakeDispatcherOnCommand(false), armed);
                final java.util.concurrent.ScheduledThreadPoolExecutor stpe = new java.util.concurrent.ScheduledThreadPoolExecutor(
                    1, Timeouts.daemonThreads("idlestpe"));
                stpe.setRemoveOnCancelPolicy(true);
                stpe.prestartAllCoreThreads();
                try {
                    idleRow("executor backend (owned STPE, remove-on-cancel)", AsyncRuntime.builder().timerScheduler(stpe), armed);
                } finally {
                    stpe.shutdownNow();
                }
            }
        }
        System.out.println();
    }

    private void idleRow(final String label, final AsyncRuntime.Builder b, final int armed) throws InterruptedException {
        final AsyncRuntime rt = b.threadFactory(Timeouts.daemonThreads("idlert")).build();
        try {
            AsyncTimer<Owner>[] timers = cells(rt, armed, (o, t) -> { });
            final SplittableRandom rnd = new SplittableRandom(3);
            final long now = System.nanoTime();
            for (final AsyncTimer<Owner> t : timers) {
                ok(t.startAt(now + HOUR + rnd.nextLong(TimeUnit.SECONDS.toNanos(10))));
            }
            awaitArmedCount(rt, armed, TimeUnit.SECONDS.toNanos(60));
            System.gc();
            Thread.sleep(1_000);
            final long d0 = rt.stats().drains();
            final long w0 = wakeups(rt);
            final long[] c0 = ctxSwitchesOf("idlert", "idlestpe");
            final long cpu0 = cpuOf("idlert", "idlestpe");
            final long t0 = System.nanoTime();
            Thread.sleep(idleSeconds * 1000L);
            final long cpu1 = cpuOf("idlert", "idlestpe");
            final long t1 = System.nanoTime();
            final long[] c1 = ctxSwitchesOf("idlert", "idlestpe");
            final long w1 = wakeups(rt);
            final long d1 = rt.stats().drains();
            final double secs = (t1 - t0) / 1e9;
            System.out.printf(Locale.ROOT, "| %s | %,d | %.1f | %.3f %% | %,d | %,d | %.1f | %,d | %,d |%n", label, armed,
                (cpu1 - cpu0) / 1e6, 100.0 * (cpu1 - cpu0) / (t1 - t0), c1[0] - c0[0], c1[1] - c0[1],
                (c1[0] - c0[0] + c1[1] - c0[1]) / secs, d1 - d0, w1 - w0);
            timers = null;
        } finally {
            rt.close();
        }
        System.gc();
    }

    // ------------------------------------------------------------------------------------------
    // 5. bursts

    private void burst() throws InterruptedException {
        System.out.println("#### Bursts: N timers armed in one burst from one thread, deadlines uniform over the next 2 s");
        System.out.println();
        System.out.println("Lateness (callback start - deadline) of **every** timer of the burst, µs; deadlines drawn before the"
            + " burst starts, so a timer armed after its deadline counts its arming delay as lateness. Wheel " + geometry()
            + "; Netty tick 1 ms.");
        System.out.println();
        System.out.println("| contender | N | burst arm time (ms) | p50 | p99 | p99.9 | max | fired | early | > 1 s late |"
            + " process CPU, burst to last fire (ms) | wall (ms) |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (final String impl : impls) {
            burstRow(impl, 10_000, false); // warm-up
        }
        for (final int n : new int[] {10_000, 1_000_000}) {
            for (final String impl : impls) {
                burstRow(impl, n, true);
            }
        }
        System.out.println();
    }

    private void burstRow(final String impl, final int n, final boolean print) throws InterruptedException {
        final Timeouts t = Timeouts.create(impl);
        final long[] deadlines = new long[n];
        final ConcurrentHistogram late = new ConcurrentHistogram(3);
        final AtomicLong early = new AtomicLong();
        final AtomicLong veryLate = new AtomicLong();
        final CountDownLatch done = new CountDownLatch(n);
        t.listener(cell -> {
            final long l = System.nanoTime() - deadlines[cell];
            if (l < 0) {
                early.incrementAndGet();
            } else if (l > 1_000_000_000L) {
                veryLate.incrementAndGet();
            }
            late.recordValue(Math.max(0, l));
            done.countDown();
        });
        t.open(n);
        System.gc();
        try {
            final SplittableRandom rnd = new SplittableRandom(11);
            final long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                deadlines[i] = start + rnd.nextLong(2_000_000_000L);
            }
            final com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            final long cpu0 = os.getProcessCpuTime();
            final long a0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                ok(t.armAt(i, deadlines[i]));
            }
            final long a1 = System.nanoTime();
            final boolean all = done.await(120, TimeUnit.SECONDS);
            final long cpu1 = os.getProcessCpuTime();
            final long a2 = System.nanoTime();
            if (print) {
                System.out.printf(Locale.ROOT, "| %s | %,d | %.1f | %s | %,d%s | %d | %d | %.0f | %.0f |%n", impl, n,
                    (a1 - a0) / 1e6, quantiles(late), late.getTotalCount(), all ? "" : " (TIMED OUT)", early.get(),
                    veryLate.get(), (cpu1 - cpu0) / 1e6, (a2 - a0) / 1e6);
            }
        } finally {
            t.close();
        }
        System.gc();
    }

    // ------------------------------------------------------------------------------------------
    // 6. scale: 10M armed on one default runtime

    private void scale() throws InterruptedException {
        final int n = scaleN;
        System.out.printf(Locale.ROOT, "#### %,d timers armed on one default runtime (wheel %s)%n%n", n, geometry());
        final long base = usedAfterGc();
        final AsyncRuntime rt = wheelBuilder().threadFactory(Timeouts.daemonThreads("scalert")).build();
        try {
            AsyncTimer<Owner>[] timers = cells(rt, n, (o, t) -> { });
            final long init = usedAfterGc();
            final SplittableRandom rnd = new SplittableRandom(5);
            final long[] g0 = gcTotals();
            final long cpu0 = cpuOf("scalert");
            final long t0 = System.nanoTime();
            for (final AsyncTimer<Owner> t : timers) {
                ok(t.startAt(t0 + HOUR + rnd.nextLong(TimeUnit.SECONDS.toNanos(10))));
            }
            final long t1 = System.nanoTime();
            awaitArmedCount(rt, n, TimeUnit.SECONDS.toNanos(300));
            final long t2 = System.nanoTime();
            final long cpu1 = cpuOf("scalert");
            final long[] g1 = gcTotals();
            final long armed = usedAfterGc();
            System.out.println("| metric | value |");
            System.out.println("|---|---:|");
            System.out.printf(Locale.ROOT, "| publisher: %,d `startAt` calls | %.2f s (%.0f ns each) |%n", n, (t1 - t0) / 1e9,
                (t1 - t0) / (double) n);
            System.out.printf(Locale.ROOT, "| until `stats().timersArmed()` = %,d | %.2f s |%n", n, (t2 - t0) / 1e9);
            System.out.printf(Locale.ROOT, "| dispatcher CPU while arming | %.2f s |%n", (cpu1 - cpu0) / 1e9);
            System.out.printf(Locale.ROOT, "| GC during arming: collections / total pause (GC MXBeans) | %d / %d ms |%n",
                g1[0] - g0[0], g1[1] - g0[1]);
            System.out.printf(Locale.ROOT, "| heap per initialized cell (owner 16 + AsyncTimer + block + array slot) | %.1f B |%n",
                (init - base) / (double) n);
            System.out.printf(Locale.ROOT, "| heap added by arming them all | %.2f B per timer (%,d B in all) |%n",
                (armed - init) / (double) n, armed - init);
            System.out.printf(Locale.ROOT, "| heap per armed cell, all-in (cell + block + backend) | %.1f B |%n",
                (armed - base) / (double) n);
            System.out.printf(Locale.ROOT, "| … without the harness's owner object (16 B) and array slot (4 B) | %.1f B |%n",
                (armed - base) / (double) n - 20);
            System.out.println();
            if (timers.length != n) {
                throw new AssertionError();
            }
            timers = null;
        } finally {
            rt.close();
        }
    }

    // ------------------------------------------------------------------------------------------
    // 7. mass expiry

    private void expiry() throws InterruptedException {
        final int n = 1_000_000;
        System.out.println("#### Mass expiry: 1,000,000 timers due within the same 10 ms");
        System.out.println();
        System.out.println("Deadlines uniform in [T, T + 10 ms], T = 2 s after arming starts (all armed well before T); the"
            + " callback only counts. \"All fired\": from T until the last callback; \"after last deadline\": from T + 10 ms."
            + " Three runs each, median shown with the three values. Wheel " + geometry() + "; Netty tick 1 ms.");
        System.out.println();
        System.out.println("| contender | all fired after T (ms), median | runs | after last deadline (ms) | process CPU from T to the last fire (ms), median | ns of CPU per timer | early |");
        System.out.println("|---|---:|---|---:|---:|---:|---:|");
        for (final String impl : impls) {
            expiryRun(impl, 100_000); // warm-up
        }
        for (final String impl : impls) {
            final double[] r = new double[3];
            final double[] cpu = new double[3];
            long early = 0;
            for (int i = 0; i < r.length; i++) {
                final double[] x = expiryRun(impl, n);
                r[i] = x[0];
                early += (long) x[1];
                cpu[i] = x[2];
            }
            final double[] s = r.clone();
            Arrays.sort(s);
            Arrays.sort(cpu);
            System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f, %.1f, %.1f | %.1f | %.1f | %.0f | %d |%n", impl, s[1], r[0], r[1],
                r[2], s[1] - 10, cpu[1], cpu[1] * 1e6 / n, early);
        }
        System.out.println();
    }

    private static double[] expiryRun(final String impl, final int n) throws InterruptedException {
        final Timeouts t = Timeouts.create(impl);
        final AtomicInteger count = new AtomicInteger();
        final AtomicLong early = new AtomicLong();
        final long[] deadlines = new long[n];
        final long[] end = new long[1];
        final CountDownLatch done = new CountDownLatch(1);
        t.listener(cell -> {
            final long now = System.nanoTime();
            if (now < deadlines[cell]) {
                early.incrementAndGet();
            }
            if (count.incrementAndGet() == n) {
                end[0] = now;
                done.countDown();
            }
        });
        t.open(n);
        System.gc();
        try {
            final SplittableRandom rnd = new SplittableRandom(13);
            final long due = System.nanoTime() + 2_000_000_000L;
            for (int i = 0; i < n; i++) {
                deadlines[i] = due + rnd.nextLong(10_000_000L);
            }
            for (int i = 0; i < n; i++) {
                ok(t.armAt(i, deadlines[i]));
            }
            final com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            final long armedAt = System.nanoTime();
            if (armedAt < due) {
                LockSupport.parkNanos(due - armedAt);
            }
            final long cpu0 = os.getProcessCpuTime();
            if (!done.await(120, TimeUnit.SECONDS)) {
                return new double[] {Double.NaN, early.get(), Double.NaN};
            }
            final long cpu1 = os.getProcessCpuTime();
            if (armedAt > due) {
                System.out.printf(Locale.ROOT, "(%s: arming ended %.1f ms after T)%n", impl, (armedAt - due) / 1e6);
            }
            return new double[] {(end[0] - due) / 1e6, early.get(), (cpu1 - cpu0) / 1e6};
        } finally {
            t.close();
            System.gc();
        }
    }

    // ------------------------------------------------------------------------------------------
    // diagnostic: where does a probe window stall with many timers armed far away?

    private void stall() throws InterruptedException {
        final int n = scaleN;
        final int p = 10_000;
        System.out.printf(Locale.ROOT, "#### Probe window with %,d timers armed 1 h away (wheel %s)%n%n", n, geometry());
        final AsyncRuntime rt = wheelBuilder().threadFactory(Timeouts.daemonThreads("stallrt")).build();
        try {
            final long[] deadlines = new long[p];
            final long[] firedAt = new long[p];
            final CountDownLatch done = new CountDownLatch(p);
            final AsyncTimer<Owner>[] probes = cells(rt, p, (o, t) -> {
                firedAt[o.index] = System.nanoTime();
                done.countDown();
            });
            AsyncTimer<Owner>[] far = cells(rt, n, (o, t) -> { });
            final SplittableRandom rnd = new SplittableRandom(42);
            final long now = System.nanoTime();
            for (final AsyncTimer<Owner> t : far) {
                ok(t.startAt(now + HOUR + rnd.nextLong(TimeUnit.SECONDS.toNanos(10))));
            }
            awaitArmedCount(rt, n, TimeUnit.SECONDS.toNanos(300));
            System.gc();
            final long[] g0 = gcTotals();
            final long cpu0 = cpuOf("stallrt");
            final long start = System.nanoTime() + 300_000_000L;
            for (int i = 0; i < p; i++) {
                deadlines[i] = start + i * (1_000_000_000L / p);
                ok(probes[i].startAt(deadlines[i]));
            }
            done.await(120, TimeUnit.SECONDS);
            final long cpu1 = cpuOf("stallrt");
            final long[] g1 = gcTotals();
            final long end = System.nanoTime();
            final Histogram h = new Histogram(3);
            long maxLate = 0;
            int at = 0;
            long early = 0;
            for (int i = 0; i < p; i++) {
                final long l = firedAt[i] - deadlines[i];
                early += l < 0 ? 1 : 0;
                h.recordValue(Math.max(0, l));
                if (l > maxLate) {
                    maxLate = l;
                    at = i;
                }
            }
            System.out.printf(Locale.ROOT, "lateness p50 %s µs, p99 %s, p99.9 %s, max %s (probe %d, due %.1f ms into the"
                + " window); early %d; dispatcher CPU %.1f ms over %.1f ms (arming the probes to the last fire); GC %d"
                + " collections, %d ms%n%n", us(h.getValueAtPercentile(50)), us(h.getValueAtPercentile(99)),
                us(h.getValueAtPercentile(99.9)), us(h.getMaxValue()), at, (deadlines[at] - start) / 1e6, early,
                (cpu1 - cpu0) / 1e6, (end - (start - 300_000_000L)) / 1e6, g1[0] - g0[0], g1[1] - g0[1]);
            far = null;
        } finally {
            rt.close();
        }
    }

    // ------------------------------------------------------------------------------------------
    // 8. deferral and unparks

    private void deferral() throws InterruptedException {
        System.out.println("#### Deferral: `startAt(now + 1 h)` until `isArmed()`, µs");
        System.out.println();
        System.out.println("One timer; after each sample a `cancelAsync` (also awaited) and a gap. Quiet: the gap is a 5 ms park, so"
            + " the dispatcher (which sleeps after 1 ms without work) is asleep at every sample. Sustained: a 10 µs busy"
            + " gap. Unparks: the runtime's `wakeups` counter (read by reflection) per sample.");
        System.out.println();
        System.out.println("| runtime | gaps | samples | applied p50 | p99 | p99.9 | max | unparks per sample |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|");
        deferralRow("default (sleeping dispatcher)", wheelBuilder(), 5_000_000, 1_500);
        deferralRow("default (sleeping dispatcher)", wheelBuilder(), 10_000, 30_000);
        deferralRow("`wakeDispatcherOnCommand(false)`", wheelBuilder().wakeDispatcherOnCommand(false), 5_000_000, 1_500);
        deferralRow("`wakeDispatcherOnCommand(false)`", wheelBuilder().wakeDispatcherOnCommand(false), 10_000, 30_000);
        System.out.println();
        System.out.println("#### Unparks per million re-arms (100,000 cells round robin, `start(60 s)`, default runtime)");
        System.out.println();
        System.out.println("| re-arm gap | re-arms | duration (s) | unparks | per million re-arms | per re-arm |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        unparkRow(0, 20_000_000);
        unparkRow(1_000, 2_000_000);
        unparkRow(10_000, 300_000);
        unparkRow(100_000, 30_000);
        unparkRow(2_000_000, 1_500);
        System.out.println();
    }

    private static void spinFor(final long nanos) {
        final long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    private static void gap(final long nanos) {
        if (nanos >= 1_000_000) {
            LockSupport.parkNanos(nanos);
        } else if (nanos > 0) {
            spinFor(nanos);
        }
    }

    private void deferralRow(final String label, final AsyncRuntime.Builder b, final long gapNanos, final int samples)
        throws InterruptedException {
        final AsyncRuntime rt = b.build();
        try {
            final AsyncTimer<Owner> timer = cells(rt, 1, (o, t) -> { })[0];
            final Histogram h = new Histogram(3);
            final int warm = samples / 10;
            long w0 = 0;
            for (int i = -warm; i < samples; i++) {
                if (i == 0) {
                    w0 = wakeups(rt);
                }
                final long t0 = System.nanoTime();
                ok(timer.startAt(t0 + HOUR));
                Timeouts.await(timer::isArmed, TimeUnit.SECONDS.toNanos(10), "a start to be applied");
                final long a = System.nanoTime() - t0;
                gap(gapNanos);
                ok(timer.cancelAsync());
                Timeouts.await(() -> !timer.isArmed(), TimeUnit.SECONDS.toNanos(10), "a cancel to be applied");
                gap(gapNanos);
                if (i >= 0) {
                    h.recordValue(a);
                }
            }
            final long w1 = wakeups(rt);
            System.out.printf(Locale.ROOT, "| %s | %s | %,d | %s | %.3f |%n", label,
                gapNanos >= 1_000_000 ? gapNanos / 1_000_000 + " ms park" : gapNanos / 1_000 + " µs spin", samples,
                quantiles(h), (w1 - w0) / (double) samples);
        } finally {
            rt.close();
        }
    }

    private void unparkRow(final long gapNanos, final long ops) throws InterruptedException {
        final int n = 100_000;
        final AsyncRuntime rt = wheelBuilder().build();
        try {
            final AsyncTimer<Owner>[] timers = cells(rt, n, (o, t) -> { });
            for (int i = 0; i < 2 * n; i++) {
                ok(timers[i % n].start(60_000_000_000L));
            }
            Thread.sleep(100);
            final long w0 = wakeups(rt);
            final long t0 = System.nanoTime();
            for (long i = 0; i < ops; i++) {
                ok(timers[(int) (i % n)].start(60_000_000_000L));
                gap(gapNanos);
            }
            final long t1 = System.nanoTime();
            final long w1 = wakeups(rt);
            System.out.printf(Locale.ROOT, "| %s | %,d | %.2f | %,d | %,.1f | %.4f |%n",
                gapNanos == 0 ? "none (back to back)" : gapNanos >= 1_000_000 ? gapNanos / 1_000_000 + " ms park"
                    : gapNanos / 1_000 + " µs spin", ops, (t1 - t0) / 1e9, w1 - w0, (w1 - w0) * 1e6 / ops,
                (w1 - w0) / (double) ops);
        } finally {
            rt.close();
        }
    }
}
