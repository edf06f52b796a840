package dev.latchwork.jmh;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.TimerCallback;
import dev.latchwork.TimerClock;

import org.HdrHistogram.Histogram;

/**
 * The dispatcher's ceiling (issue 14, part 2): how many commands per second one dispatcher
 * applies on distinct cells, and how deferral (publish to applied) grows as publishers approach
 * that ceiling. Prints markdown.
 *
 * <ul>
 *   <li>{@code flood}: 1 and 2 publisher threads, each round-robin over its own cells as fast as
 *       it can, for each workload: {@code later} (every {@code startAt} later than the cell's
 *       last: the wheel's node stays), {@code earlier} (every one earlier: a relink),
 *       {@code cancel} (laps alternate arm and {@code cancelAsync}: a link or an unlink per
 *       applied command), {@code closeinit} ({@code close} + {@code init} + {@code setCallback} +
 *       {@code startAt}: a detach pass, a final pass and an arm per cycle). Applied commands per
 *       second come from the runtime's counters (claimed minus superseded minus dropped) over a
 *       window after a warm-up; the dispatcher's CPU time over the same window (ThreadMXBean)
 *       gives the CPU cost per applied command, which does not depend on how much of a core the
 *       dispatcher got on a loaded machine.</li>
 *   <li>{@code deferral}: one publisher paced at a given rate of re-arms to a later deadline over
 *       distinct cells; a probe cell is re-armed every 50 µs and the publisher itself polls its
 *       {@code deadline()} between operations until the dispatcher has applied it: publish to
 *       applied, µs.</li>
 * </ul>
 *
 * <pre>
 * java -Xmx4g -cp jmh/target/benchmarks.jar dev.latchwork.jmh.CeilingMain flood
 * java -Xmx4g -cp jmh/target/benchmarks.jar dev.latchwork.jmh.CeilingMain deferral
 * </pre>
 */
public final class CeilingMain {
    private static final long HOUR = TimeUnit.HOURS.toNanos(1);
    private static final com.sun.management.ThreadMXBean MX =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private int cells = 200_000;
    private double seconds = 2;
    private List<String> ops = Arrays.asList("later", "earlier", "cancel", "closeinit");
    private int[] publishers = {1, 2};
    private long[] rates = {250_000, 500_000, 1_000_000, 2_000_000, 4_000_000, 0};

    private CeilingMain() {
    }

    public static void main(final String[] args) throws Exception {
        final CeilingMain m = new CeilingMain();
        String what = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cells": m.cells = Integer.parseInt(args[++i]); break;
                case "--seconds": m.seconds = Double.parseDouble(args[++i]); break;
                case "--ops": m.ops = Arrays.asList(args[++i].split(",")); break;
                case "--publishers": m.publishers = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray(); break;
                case "--rates": m.rates = Arrays.stream(args[++i].split(",")).mapToLong(Long::parseLong).toArray(); break;
                default: what = args[i]; break;
            }
        }
        System.out.printf(Locale.ROOT, "_JDK %s (%s), %d CPUs, max heap %d MiB, load average %s._%n%n",
            Runtime.version(), System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(),
            Runtime.getRuntime().maxMemory() >> 20, WheelMain.loadAverage());
        switch (what) {
            case "flood": m.flood(); break;
            case "deferral": m.deferral(); break;
            case "apply": m.apply(); break;
            case "burst": m.burst(); break;
            case "fire": m.fire(); break;
            default: throw new IllegalArgumentException("expected flood|deferral|apply, got " + what);
        }
        System.out.flush();
        System.exit(0);
    }

    // ------------------------------------------------------------------------------------------
    // counters (package-private fields of the runtime, read by reflection: no stats() walk of a
    // queue that holds up to every cell)

    private static long counter(final AsyncRuntime rt, final String name) {
        try {
            final Field f = AsyncRuntime.class.getDeclaredField(name);
            f.setAccessible(true);
            final Object c = f.get(rt);
            final Method sum = c.getClass().getDeclaredMethod("sum");
            sum.setAccessible(true);
            return (long) sum.invoke(c);
        } catch (final ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Commands the dispatcher applied: claimed, minus those superseded in the latch, minus dropped. */
    private static long applied(final AsyncRuntime rt) {
        return counter(rt, "published") - counter(rt, "superseded") - counter(rt, "dropped");
    }

    private static long dispatcherCpu(final String prefix) {
        return WheelMain.cpuOf(prefix);
    }

    static final class Owner {
        final int index;

        Owner(final int index) {
            this.index = index;
        }
    }

    private static final TimerCallback<Owner> NOOP = (o, t) -> { };

    @SuppressWarnings("unchecked")
    private static AsyncTimer<Owner>[] newCells(final AsyncRuntime rt, final int n, final int base) {
        final AsyncTimer<Owner>[] a = new AsyncTimer[n];
        for (int i = 0; i < n; i++) {
            a[i] = new AsyncTimer<>();
            WheelMain.ok(a[i].init(rt, new Owner(base + i), TimerClock.MONOTONIC));
            WheelMain.ok(a[i].setCallback(NOOP));
        }
        return a;
    }

    // ------------------------------------------------------------------------------------------
    // flood

    private void flood() throws Exception {
        System.out.println("#### Dispatcher ceiling: applied commands per second on distinct cells");
        System.out.println();
        System.out.printf(Locale.ROOT, "Default runtime (wheel 2^17 ns x 64, drain interval 20 µs); each publisher round-robin over its"
            + " own %,d cells as fast as it can for %.1f s; window = the last %.1f s. \"applied/s\": commands the dispatcher"
            + " applied (claimed - superseded - dropped) per second of wall time; \"disp. CPU\": the dispatcher's CPU time over"
            + " the window / the window; \"ns CPU/applied\": dispatcher CPU per applied command (the ceiling of one full core"
            + " is 1e9 / this); \"publishes/s\": OK answers to the publishers (the rest coalesced in the latch).%n%n",
            cells, seconds, seconds - 0.5);
        System.out.println("| workload | publishers | publishes/s | applied/s | disp. CPU | ns CPU / applied | ceiling of one core (M/s) | superseded | load |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        // warm-up, not printed
        for (final String op : ops) {
            floodRow(op, 1, Math.min(cells, 50_000), 0.6, false);
        }
        for (final int p : publishers) {
            for (final String op : ops) {
                floodRow(op, p, cells, seconds, true);
            }
        }
        System.out.println();
    }

    private static final class Pub extends Thread {
        final String op;
        final AsyncRuntime rt;
        final AsyncTimer<Owner>[] timers;
        final CyclicBarrier go;
        final long base;
        volatile boolean stop;
        long count;
        long bad;

        Pub(final String op, final AsyncRuntime rt, final AsyncTimer<Owner>[] timers, final CyclicBarrier go, final long base) {
            super("ceiling-publisher");
            setDaemon(true);
            this.op = op;
            this.rt = rt;
            this.timers = timers;
            this.go = go;
            this.base = base;
        }

        @Override
        public void run() {
            try {
                go.await();
            } catch (final Exception e) {
                throw new IllegalStateException(e);
            }
            final AsyncTimer<Owner>[] a = timers;
            final int n = a.length;
            long c = 0;
            long b = 0;
            for (long lap = 1; !stop; lap++) {
                switch (op) {
                    case "later":
                        for (int i = 0; i < n; i++) {
                            b += a[i].startAt(base + lap * 1_000 + i) != AsyncStatus.OK ? 1 : 0;
                        }
                        break;
                    case "earlier":
                        for (int i = 0; i < n; i++) {
                            b += a[i].startAt(base - lap * 1_000 + i) != AsyncStatus.OK ? 1 : 0;
                        }
                        break;
                    case "cancel":
                        if ((lap & 1) == 0) {
                            for (int i = 0; i < n; i++) {
                                b += a[i].startAt(base + lap * 1_000 + i) != AsyncStatus.OK ? 1 : 0;
                            }
                        } else {
                            for (int i = 0; i < n; i++) {
                                b += a[i].cancelAsync() != AsyncStatus.OK ? 1 : 0;
                            }
                        }
                        break;
                    case "closeinit":
                        for (int i = 0; i < n && !stop; i++) {
                            final AsyncTimer<Owner> t = a[i];
                            final Owner o = new Owner(i);
                            t.close();
                            b += t.init(rt, o, TimerClock.MONOTONIC) != AsyncStatus.OK ? 1 : 0;
                            t.setCallback(NOOP);
                            b += t.startAt(base + lap * 1_000 + i) != AsyncStatus.OK ? 1 : 0;
                            c++;
                        }
                        c -= n; // counted per cycle above
                        break;
                    default:
                        throw new IllegalArgumentException(op);
                }
                c += n;
            }
            count = c;
            bad = b;
        }
    }

    private void floodRow(final String op, final int p, final int n, final double secs, final boolean print) throws Exception {
        final AsyncRuntime rt = AsyncRuntime.builder().threadFactory(Timeouts.daemonThreads("ceilrt")).build();
        try {
            final long now = System.nanoTime();
            final long base = op.equals("earlier") ? now + 2 * HOUR : now + HOUR;
            final Pub[] pubs = new Pub[p];
            final CyclicBarrier go = new CyclicBarrier(p + 1);
            for (int k = 0; k < p; k++) {
                final AsyncTimer<Owner>[] a = newCells(rt, n, k * n);
                for (int i = 0; i < n; i++) {
                    WheelMain.ok(a[i].startAt(base + i)); // armed before the flood: every cell is on the wheel
                }
                pubs[k] = new Pub(op, rt, a, go, base);
                pubs[k].start();
            }
            WheelMain.awaitArmedCount(rt, (long) p * n, TimeUnit.SECONDS.toNanos(60));
            System.gc();
            Thread.sleep(200);
            go.await();
            final long warm = 500_000_000L;
            Thread.sleep(warm / 1_000_000);
            final long a0 = applied(rt);
            final long s0 = counter(rt, "superseded");
            final long c0 = dispatcherCpu("ceilrt");
            final long t0 = System.nanoTime();
            LockSupport.parkNanos((long) (secs * 1e9) - warm);
            final long a1 = applied(rt);
            final long s1 = counter(rt, "superseded");
            final long c1 = dispatcherCpu("ceilrt");
            final long t1 = System.nanoTime();
            long pubCount = 0;
            long bad = 0;
            for (final Pub x : pubs) {
                x.stop = true;
            }
            for (final Pub x : pubs) {
                x.join();
                pubCount += x.count;
                bad += x.bad;
            }
            final double window = (t1 - t0) / 1e9;
            final double appliedPerS = (a1 - a0) / window;
            final double cpuPer = (c1 - c0) / (double) Math.max(1, a1 - a0);
            if (print) {
                System.out.printf(Locale.ROOT, "| %s | %d | %,.0f | **%,.0f** | %.0f %% | %.1f | %.2f | %,d | %s |%s%n", op, p,
                    pubCount / secs, appliedPerS, 100.0 * (c1 - c0) / (t1 - t0), cpuPer, 1e3 / cpuPer, s1 - s0,
                    WheelMain.loadAverage(), bad == 0 ? "" : " " + bad + " non-OK");
            }
        } finally {
            rt.close();
        }
        System.gc();
    }

    // ------------------------------------------------------------------------------------------
    // fire: the drain's cost per fire on one thread (HOST_DRIVEN), no cascade

    private void fire() throws Exception {
        System.out.println("#### Cost of one fire, one thread (HOST_DRIVEN `drain()`)");
        System.out.println();
        System.out.printf(Locale.ROOT, "A HOST_DRIVEN runtime on the wheel (2^17 ns x 64), %,d cells; each repetition arms every cell"
            + " 300 ms ahead (one deadline: one level-1 bucket, one cascade), applies the arms (not timed), waits until 2 ms"
            + " past the deadline, then times `drain()`"
            + " until it returns 0 by the thread's CPU time: ns per fire (the cascade of its bucket, onExpire's checks,"
            + " disarm, the callback call, counters, refcount), the callback counting in a plain field. %d repetitions after 3 warm-up ones;"
            + " min and median.%n%n", cells, reps);
        System.out.println("| cells | min ns / fire | median ns / fire | load |");
        System.out.println("|---:|---:|---:|---|");
        final AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(dev.latchwork.DispatchMode.HOST_DRIVEN).build();
        try {
            final int n = cells;
            final long[] count = new long[1];
            @SuppressWarnings("unchecked")
            final AsyncTimer<Owner>[] a = new AsyncTimer[n];
            for (int i = 0; i < n; i++) {
                a[i] = new AsyncTimer<>();
                WheelMain.ok(a[i].init(rt, new Owner(i), TimerClock.MONOTONIC));
                WheelMain.ok(a[i].setCallback((o, t) -> count[0]++));
            }
            final double[] r = new double[reps];
            int skipped = 0;
            for (int rep = -3; rep < reps; rep++) {
                final long due = System.nanoTime() + 300_000_000L;
                for (int i = 0; i < n; i++) {
                    WheelMain.ok(a[i].startAt(due));
                }
                while (rt.drain() > 0) {
                    // apply the arms (they are not due yet)
                }
                final long before = count[0];
                if (System.nanoTime() > due - 50_000_000L) { // arming was too slow (cold code, load): not measured
                    LockSupport.parkNanos(due + 2_000_000L - System.nanoTime());
                    while (rt.drain() > 0) {
                        // let them fire
                    }
                    if (++skipped > 20) {
                        throw new IllegalStateException("arming keeps taking longer than 250 ms");
                    }
                    rep--;
                    continue;
                }
                LockSupport.parkNanos(due + 2_000_000L - System.nanoTime());
                final long t0 = MX.getCurrentThreadCpuTime();
                while (rt.drain() > 0) {
                    // the timed part: every timer is due
                }
                final long t1 = MX.getCurrentThreadCpuTime();
                if (count[0] - before != n) {
                    throw new IllegalStateException("fired " + (count[0] - before) + " of " + n);
                }
                if (rep >= 0) {
                    r[rep] = (t1 - t0) / (double) n;
                }
            }
            Arrays.sort(r);
            System.out.printf(Locale.ROOT, "| %,d | %.1f | %.1f | %s |%n", n, r[0], r[reps / 2], WheelMain.loadAverage());
        } finally {
            rt.close();
        }
        System.out.println();
    }

    // ------------------------------------------------------------------------------------------
    // burst: where the lateness of a 1M burst comes from

    private int burstN = Integer.getInteger("ceiling.burstN", 1_000_000);

    private void burst() throws Exception {
        final int n = burstN;
        System.out.printf(Locale.ROOT, "#### Burst of %,d arms (one thread, deadlines uniform over the next 2 s): where the lateness comes from%n%n", n);
        for (int round = 0; round < 3; round++) {
            burstRun(round == 0 ? Math.min(n, 100_000) : n, round > 0);
        }
    }

    private void burstRun(final int n, final boolean print) throws Exception {
        final long[] deadlines = new long[n];
        final long[] late = new long[n];
        final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(n);
        final AsyncRuntime.Builder b = AsyncRuntime.builder().threadFactory(Timeouts.daemonThreads("burstrt"));
        if (Integer.getInteger("ceiling.slots", 0) > 0) {
            b.timerWheel(1L << 17, Integer.getInteger("ceiling.slots", 64));
        }
        final AsyncRuntime rt = b.build();
        try {
            final TimerCallback<Owner> cb = (o, t) -> {
                late[o.index] = System.nanoTime() - deadlines[o.index];
                done.countDown();
            };
            @SuppressWarnings("unchecked")
            final AsyncTimer<Owner>[] a = new AsyncTimer[n];
            for (int i = 0; i < n; i++) {
                a[i] = new AsyncTimer<>();
                WheelMain.ok(a[i].init(rt, new Owner(i), TimerClock.MONOTONIC));
                WheelMain.ok(a[i].setCallback(cb));
            }
            System.gc();
            Thread.sleep(200);
            final java.util.SplittableRandom rnd = new java.util.SplittableRandom(11);
            final long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                deadlines[i] = start + rnd.nextLong(2_000_000_000L);
            }
            final long applied0 = applied(rt);
            final long cpu0 = dispatcherCpu("burstrt");
            final long a0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                WheelMain.ok(a[i].startAt(deadlines[i]));
            }
            final long a1 = System.nanoTime();
            while (applied(rt) - applied0 < n) {
                LockSupport.parkNanos(100_000); // not a spin: the dispatcher needs the core
            }
            final long a2 = System.nanoTime();
            final long cpu2 = dispatcherCpu("burstrt");
            done.await(60, TimeUnit.SECONDS);
            final long a3 = System.nanoTime();
            final long cpu3 = dispatcherCpu("burstrt");
            if (!print) {
                return;
            }
            final Histogram all = new Histogram(3);
            long early = 0;
            long armLate = 0;
            final int slices = 40;
            final Histogram[] by = new Histogram[slices];
            for (int k = 0; k < slices; k++) {
                by[k] = new Histogram(3);
            }
            for (int i = 0; i < n; i++) {
                final long l = late[i];
                early += l < 0 ? 1 : 0;
                all.recordValue(Math.max(0, l));
                final long publishedAt = a0 + (long) ((a1 - a0) * (double) i / n);
                armLate += publishedAt > deadlines[i] ? 1 : 0;
                by[(int) Math.min(slices - 1, (deadlines[i] - start) / (2_000_000_000L / slices))].recordValue(Math.max(0, l));
            }
            System.out.printf(Locale.ROOT, "load %s: publish %.1f ms, all applied %.1f ms after the first publish (dispatcher"
                + " CPU %.1f ms: %.0f ns per arm), all fired %.0f ms (dispatcher CPU from the first publish %.0f ms);"
                + " lateness p50 %s µs, p99 %s, p99.9 %s, max %s; early %d; published after their deadline %d (%.2f %%)%n%n",
                WheelMain.loadAverage(), (a1 - a0) / 1e6, (a2 - a0) / 1e6, (cpu2 - cpu0) / 1e6, (cpu2 - cpu0) / (double) n,
                (a3 - a0) / 1e6, (cpu3 - cpu0) / 1e6, WheelMain.us(all.getValueAtPercentile(50)),
                WheelMain.us(all.getValueAtPercentile(99)), WheelMain.us(all.getValueAtPercentile(99.9)),
                WheelMain.us(all.getMaxValue()), early, armLate, 100.0 * armLate / n);
            System.out.println("| deadline after the burst began (ms) | timers | p50 µs | p99 | max |");
            System.out.println("|---|---:|---:|---:|---:|");
            for (int k = 0; k < slices; k++) {
                final Histogram h = by[k];
                System.out.printf(Locale.ROOT, "| %d-%d | %,d | %s | %s | %s |%n", k * 50, k * 50 + 50, h.getTotalCount(),
                    WheelMain.us(h.getValueAtPercentile(50)), WheelMain.us(h.getValueAtPercentile(99)), WheelMain.us(h.getMaxValue()));
            }
            System.out.println();
        } finally {
            rt.close();
        }
        System.gc();
    }

    // ------------------------------------------------------------------------------------------
    // apply: the drain's cost per command on one thread (HOST_DRIVEN), no second core involved

    private int reps = Integer.getInteger("ceiling.reps", 15);

    private void apply() throws Exception {
        System.out.println("#### Cost of applying one command, one thread (HOST_DRIVEN `drain()`)");
        System.out.println();
        System.out.printf(Locale.ROOT, "A HOST_DRIVEN runtime on the wheel (2^17 ns x 64), %,d cells armed 1 h away; each repetition"
            + " publishes one command to every cell (the publisher's time is not counted), then times `drain()` until it"
            + " returns 0: ns of the thread's CPU time per applied command (poll, latch read and claim, apply, wheel, counters, refcount, status)."
            + " %d repetitions after 3 warm-up ones; min and median. One thread, so neither the load nor a second core's"
            + " cache matters much; the working set (%,d blocks of 112 B) is larger than the L2.%n%n", cells, reps, cells);
        System.out.println("| workload | min ns / applied | median ns / applied | load |");
        System.out.println("|---|---:|---:|---|");
        for (final String op : ops) {
            if (op.equals("closeinit")) {
                continue;
            }
            applyRow(op);
        }
        System.out.println();
    }

    private void applyRow(final String op) throws Exception {
        final AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(dev.latchwork.DispatchMode.HOST_DRIVEN).build();
        try {
            final int n = cells;
            final AsyncTimer<Owner>[] a = newCells(rt, n, 0);
            final long base = System.nanoTime() + (op.equals("earlier") ? 2 * HOUR : HOUR);
            for (int i = 0; i < n; i++) {
                WheelMain.ok(a[i].startAt(base + i));
            }
            while (rt.drain() > 0) {
                // apply the first arms
            }
            final double[] r = new double[reps];
            for (int rep = -3; rep < reps; rep++) {
                final long lap = rep + 4;
                for (int i = 0; i < n; i++) {
                    final int st;
                    switch (op) {
                        case "later": st = a[i].startAt(base + lap * 1_000 + i); break;
                        case "earlier": st = a[i].startAt(base - lap * 1_000 + i); break;
                        case "cancel": st = (lap & 1) == 0 ? a[i].startAt(base + lap * 1_000 + i) : a[i].cancelAsync(); break;
                        default: throw new IllegalArgumentException(op);
                    }
                    WheelMain.ok(st);
                }
                final long a0 = applied(rt);
                final long t0 = MX.getCurrentThreadCpuTime();
                while (rt.drain() > 0) {
                    // the timed part
                }
                final long t1 = MX.getCurrentThreadCpuTime();
                final long a1 = applied(rt);
                if (a1 - a0 != n) {
                    throw new IllegalStateException("applied " + (a1 - a0) + " of " + n);
                }
                if (rep >= 0) {
                    r[rep] = (t1 - t0) / (double) n;
                }
            }
            Arrays.sort(r);
            System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %s |%n", op, r[0], r[reps / 2], WheelMain.loadAverage());
        } finally {
            rt.close();
        }
    }

    // ------------------------------------------------------------------------------------------
    // deferral as the rate approaches the ceiling

    private void deferral() throws Exception {
        System.out.println("#### Deferral (publish -> applied) as one publisher approaches the ceiling");
        System.out.println();
        System.out.printf(Locale.ROOT, "Default runtime; one publisher paced at the offered rate (0 = as fast as it can) of re-arms to"
            + " a later deadline, round-robin over %,d cells, for %.1f s; every 50 µs it re-arms a probe cell and polls the"
            + " probe's `deadline()` between its own operations until the dispatcher has applied it. µs.%n%n", cells, seconds);
        System.out.println("| offered (M/s) | achieved publishes/s | applied/s | disp. CPU | probes | p50 | p99 | p99.9 | max | load |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        deferralRow(1_000_000, Math.min(cells, 50_000), 0.6, false); // warm-up
        for (final long r : rates) {
            deferralRow(r, cells, seconds, true);
        }
        System.out.println();
    }

    private void deferralRow(final long rate, final int n, final double secs, final boolean print) throws Exception {
        final AsyncRuntime rt = AsyncRuntime.builder().threadFactory(Timeouts.daemonThreads("ceilrt")).build();
        try {
            final AsyncTimer<Owner>[] a = newCells(rt, n, 0);
            final AsyncTimer<Owner> probe = newCells(rt, 1, n)[0];
            final long base = System.nanoTime() + HOUR;
            for (int i = 0; i < n; i++) {
                WheelMain.ok(a[i].startAt(base + i));
            }
            WheelMain.ok(probe.startAt(base));
            WheelMain.awaitArmedCount(rt, n + 1, TimeUnit.SECONDS.toNanos(60));
            System.gc();
            Thread.sleep(200);
            final Histogram h = new Histogram(3);
            final long warm = 300_000_000L;
            final long t0 = System.nanoTime();
            final long end = t0 + (long) (secs * 1e9);
            long count = 0;
            long lap = 1;
            int i = 0;
            long probeValue = 0;
            long probeAt = 0;
            long nextProbe = t0;
            long probeSeq = 0;
            long a0 = 0;
            long c0 = 0;
            long w0 = 0;
            long count0 = 0;
            boolean measuring = false;
            for (;;) {
                final long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                if (!measuring && now - t0 >= warm) {
                    measuring = true;
                    a0 = applied(rt);
                    c0 = dispatcherCpu("ceilrt");
                    w0 = now;
                    count0 = count;
                }
                if (probeValue != 0 && probe.deadline() == probeValue) {
                    if (measuring) {
                        h.recordValue(now - probeAt);
                    }
                    probeValue = 0;
                    nextProbe = now + 50_000;
                }
                if (probeValue == 0 && now >= nextProbe) {
                    probeValue = base + 10 * HOUR + ++probeSeq;
                    probeAt = System.nanoTime();
                    WheelMain.ok(probe.startAt(probeValue));
                }
                final long due = rate == 0 ? Long.MAX_VALUE : (long) ((now - t0) * (rate / 1e9));
                if (count < due) {
                    for (int k = 0; k < 16; k++) {
                        a[i].startAt(base + lap * 1_000 + i);
                        if (++i == n) {
                            i = 0;
                            lap++;
                        }
                    }
                    count += 16;
                } else {
                    Thread.onSpinWait();
                }
            }
            final long w1 = System.nanoTime();
            final long a1 = applied(rt);
            final long c1 = dispatcherCpu("ceilrt");
            final double window = (w1 - w0) / 1e9;
            if (print) {
                System.out.printf(Locale.ROOT, "| %s | %,.0f | %,.0f | %.0f %% | %,d | %s | %s | %s | %s | %s |%n",
                    rate == 0 ? "max" : String.format(Locale.ROOT, "%.2f", rate / 1e6), (count - count0) / window,
                    (a1 - a0) / window, 100.0 * (c1 - c0) / (w1 - w0), h.getTotalCount(),
                    WheelMain.us(h.getValueAtPercentile(50)), WheelMain.us(h.getValueAtPercentile(99)),
                    WheelMain.us(h.getValueAtPercentile(99.9)), WheelMain.us(h.getMaxValue()), WheelMain.loadAverage());
            }
        } finally {
            rt.close();
        }
        System.gc();
    }
}
