package dev.latchwork.demo;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStats;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerClock;

/**
 * The latchwork demo: thousands of idle-timeout timers re-armed from busy-spin loops, then a
 * verified expiry.
 * <p>
 * Usage: {@code Demo [seconds [cells [threads [timeoutMillis]]]]}, defaults {@code 10 20000 2 2000}.
 * <ol>
 *   <li><b>Load.</b> {@code cells} "connections", each owning an {@link AsyncTimer} idle-timeout
 *       cell on one {@link DispatchMode#DEFERRED} runtime. {@code threads} busy-spin loops (the
 *       shape of an event loop: handle a batch of events, {@link Thread#onSpinWait()}) walk all
 *       cells round-robin, each from its own offset, and re-arm every cell they visit with
 *       {@code start(timeout)} as if a read had arrived. Progress is printed once a second.</li>
 *   <li><b>Expiry.</b> The loops stop; every cell should fire once, {@code timeout} after its last
 *       re-arm.</li>
 *   <li><b>Verification.</b> Exits 0 only if: every armed cell fired exactly once; no cell fired
 *       before its last deadline; nothing fired while the load ran; every {@code start} answered
 *       {@code OK} or {@code BUSY}; no callback error; no timer left armed; after closing every
 *       cell, no control block left alive. Otherwise prints why and exits 1.</li>
 * </ol>
 *
 * <h2>Why the "not before the deadline" check is exact</h2>
 * Before each {@code start} the loop reads {@code System.nanoTime()} into {@code t}; when the
 * start answers {@code OK} it raises the cell's {@code notBefore} to {@code max(notBefore, t)}.
 * The command that finally wins on a cell was published last, hence no earlier than any other
 * {@code OK} start on that cell began; and a relative start is measured from when the dispatcher
 * applies it, which is after it was published. So the cell's real deadline is at least
 * {@code notBefore + timeout}, and a callback running earlier is a bug. A {@code BUSY} start was
 * superseded (the concurrent command that made it {@code BUSY} stands in for it), so it does not
 * raise {@code notBefore}.
 * <p>
 * The idle timeout must exceed the gap between two re-arms of the same cell (at most one pass of
 * a loop over all cells, tens of milliseconds at the defaults), or a cell legitimately fires
 * during the load and may fire again after its next re-arm. The demo therefore treats any fire
 * during the load as a failure of the set-up and says so (with the longest pass it measured), so
 * the exactly-once check stays exact.
 * <p>
 * The commands/s printed include the demo's own bookkeeping (a {@code nanoTime} and a CAS per
 * re-arm); see {@code docs/BENCHMARKS.md} for measured costs of {@code start} itself.
 */
public final class Demo {
    private static final int BATCH = 256;

    /** True while the load runs: a fire seen then is reported. */
    private static volatile boolean loading;
    private static final AtomicInteger FIRES_DURING_LOAD = new AtomicInteger();
    private static final AtomicLong TOTAL_FIRES = new AtomicLong();

    private Demo() {
    }

    /** A stand-in for a network connection: owner of one idle-timeout cell plus what we verify. */
    static final class Connection {
        private static final VarHandle NOT_BEFORE;
        private static final VarHandle FIRES;

        static {
            try {
                final MethodHandles.Lookup l = MethodHandles.lookup();
                NOT_BEFORE = l.findVarHandle(Connection.class, "notBefore", long.class);
                FIRES = l.findVarHandle(Connection.class, "fires", int.class);
            } catch (final ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final int id;
        final AsyncTimer<Connection> idle = new AsyncTimer<>();
        /** Max nanoTime read just before a start that answered OK; MIN_VALUE = never armed. */
        volatile long notBefore = Long.MIN_VALUE;
        volatile int fires;
        /** nanoTime at the latest fire. */
        volatile long firedAt;

        Connection(final int id) {
            this.id = id;
        }

        /** Called by a load thread after start(...) answered OK for a start begun at {@code t}. */
        void armedAfter(final long t) {
            long cur = notBefore;
            while (t > cur && !NOT_BEFORE.compareAndSet(this, cur, t)) {
                cur = notBefore;
            }
        }

        /** The idle-timeout callback: a real server would close the connection here. */
        void onIdle() {
            firedAt = System.nanoTime(); // one timer's callbacks never overlap
            FIRES.getAndAdd(this, 1);
            if (loading) {
                FIRES_DURING_LOAD.incrementAndGet();
            }
            TOTAL_FIRES.incrementAndGet();
        }
    }

    /** One busy-spin loop re-arming cells. Counters are single-writer, published once a batch. */
    static final class Loop extends Thread {
        private final Connection[] conns;
        private final int offset;
        private final long timeoutNanos;
        volatile boolean stop;
        volatile long ok;
        volatile long busy;
        volatile long other;
        volatile int lastOther = AsyncStatus.OK;
        volatile long longestPassNanos;

        Loop(final Connection[] conns, final int index, final int threads, final long timeoutNanos) {
            super("demo-loop-" + index);
            this.conns = conns;
            this.offset = (int) ((long) conns.length * index / threads);
            this.timeoutNanos = timeoutNanos;
            setDaemon(true);
        }

        @Override
        public void run() {
            final Connection[] conns = this.conns;
            final int n = conns.length;
            final long timeout = timeoutNanos;
            int i = offset;
            long ok = 0;
            long busy = 0;
            long other = 0;
            long passStart = System.nanoTime();
            long longest = 0;
            while (!stop) {
                for (int k = 0; k < BATCH; k++) { // a batch of "reads", one per connection
                    final Connection c = conns[i];
                    final long t = System.nanoTime();
                    final int status = c.idle.start(timeout);
                    if (status == AsyncStatus.OK) {
                        c.armedAfter(t);
                        ok++;
                    } else if (status == AsyncStatus.BUSY) {
                        busy++;
                    } else {
                        other++;
                        lastOther = status;
                    }
                    if (++i == n) {
                        i = 0;
                        final long now = System.nanoTime();
                        longest = Math.max(longest, now - passStart);
                        passStart = now;
                    }
                }
                this.ok = ok;
                this.busy = busy;
                this.other = other;
                this.longestPassNanos = longest;
                Thread.onSpinWait(); // the event loop's idle hint between polls
            }
        }
    }

    public static void main(final String[] args) throws Exception {
        final int seconds;
        final int cells;
        final int threads;
        final long timeoutMillis;
        try {
            seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
            cells = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
            threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
            timeoutMillis = args.length > 3 ? Long.parseLong(args[3]) : 2_000;
            if (seconds < 1 || cells < 1 || threads < 1 || timeoutMillis < 1 || args.length > 4) {
                throw new IllegalArgumentException();
            }
        } catch (final IllegalArgumentException e) {
            System.err.println("usage: Demo [seconds>=1 [cells>=1 [threads>=1 [timeoutMillis>=1]]]]");
            System.exit(2);
            return;
        }
        System.exit(run(seconds, cells, threads, timeoutMillis) ? 0 : 1);
    }

    static boolean run(final int seconds, final int cells, final int threads, final long timeoutMillis)
            throws InterruptedException {
        final long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        final List<String> failures = new ArrayList<>();
        final AtomicLong callbackErrors = new AtomicLong();
        out("latchwork demo: %,d connections, each with an idle-timeout AsyncTimer (%,d ms), re-armed by %d"
            + " busy-spin thread(s) for %d s; JDK %s, %d CPU(s)", cells, timeoutMillis, threads, seconds,
            Runtime.version(), Runtime.getRuntime().availableProcessors());

        final AsyncRuntime rt = AsyncRuntime.builder()
            .dispatchMode(DispatchMode.DEFERRED)
            .errorHandler(t -> {
                callbackErrors.incrementAndGet();
                System.err.println("callback error: " + t);
            })
            .build();

        final Connection[] conns = new Connection[cells];
        for (int i = 0; i < cells; i++) {
            final Connection c = new Connection(i);
            check(failures, c.idle.init(rt, c, TimerClock.MONOTONIC), "init", i);
            check(failures, c.idle.setCallback((owner, timer) -> owner.onIdle()), "setCallback", i);
            conns[i] = c;
        }
        if (!failures.isEmpty()) {
            return fail(failures, rt);
        }

        // ---- load ------------------------------------------------------------------------
        loading = true;
        final Loop[] loops = new Loop[threads];
        for (int w = 0; w < threads; w++) {
            loops[w] = new Loop(conns, w, threads, timeoutNanos);
        }
        final long t0 = System.nanoTime();
        for (final Loop l : loops) {
            l.start();
        }
        out("%-6s %-7s %14s %14s %8s %8s %8s", "time", "phase", "re-arms/s", "superseded/s", "BUSY", "fired",
            "armed");
        long prevOk = 0;
        long prevSuperseded = rt.stats().commandsSuperseded();
        long prevAt = t0;
        final long loadEnd = t0 + TimeUnit.SECONDS.toNanos(seconds);
        for (int tick = 1; ; tick++) {
            sleepUntil(Math.min(loadEnd, t0 + TimeUnit.SECONDS.toNanos(tick)));
            final long now = System.nanoTime();
            long ok = 0;
            long busy = 0;
            for (final Loop l : loops) {
                ok += l.ok;
                busy += l.busy;
            }
            final AsyncStats s = rt.stats();
            final double dt = (now - prevAt) / 1e9;
            out("%5.1fs %-7s %,14.0f %,14.0f %,8d %,8d %,8d", (now - t0) / 1e9, "load", (ok - prevOk) / dt,
                (s.commandsSuperseded() - prevSuperseded) / dt, busy, s.timersFired(), s.timersArmed());
            prevOk = ok;
            prevSuperseded = s.commandsSuperseded();
            prevAt = now;
            if (now - loadEnd >= 0) {
                break;
            }
        }
        for (final Loop l : loops) {
            l.stop = true;
        }
        for (final Loop l : loops) {
            l.join();
        }
        loading = false;
        final long stoppedAt = System.nanoTime();
        long ok = 0;
        long busy = 0;
        long other = 0;
        long longestPass = 0;
        for (final Loop l : loops) {
            ok += l.ok;
            busy += l.busy;
            other += l.other;
            longestPass = Math.max(longestPass, l.longestPassNanos);
            if (l.other != 0) {
                failures.add(l.getName() + ": " + l.other + " start(s) answered neither OK nor BUSY, e.g. "
                    + AsyncStatus.name(l.lastOther));
            }
        }
        final double loadSeconds = (stoppedAt - t0) / 1e9;
        out("load stopped after %.1f s: %,d re-arms OK (%,.0f/s), %,d BUSY, %,d other; longest pass over all"
            + " cells %.1f ms (the idle timeout is %,d ms)", loadSeconds, ok, ok / loadSeconds, busy, other,
            longestPass / 1e6, timeoutMillis);

        // ---- expiry ----------------------------------------------------------------------
        long expected = 0;
        for (final Connection c : conns) {
            if (c.notBefore != Long.MIN_VALUE) {
                expected++;
            }
        }
        final long giveUpAt = stoppedAt + timeoutNanos + TimeUnit.SECONDS.toNanos(30);
        for (int tick = 1; ; tick++) {
            final long now = System.nanoTime();
            if (TOTAL_FIRES.get() >= expected + FIRES_DURING_LOAD.get() && now - (stoppedAt + timeoutNanos) >= 0
                || now - giveUpAt >= 0) {
                break;
            }
            sleepUntil(Math.min(giveUpAt, stoppedAt + TimeUnit.SECONDS.toNanos(tick)));
            final AsyncStats s = rt.stats();
            out("%5.1fs %-7s %14s %14s %8s %,8d %,8d", (System.nanoTime() - t0) / 1e9, "expiry", "-", "-", "-",
                s.timersFired(), s.timersArmed());
        }
        // a grace period in which a duplicate fire would show up
        Thread.sleep(Math.min(500, Math.max(100, timeoutMillis / 4)));

        // ---- verification ----------------------------------------------------------------
        if (FIRES_DURING_LOAD.get() != 0) {
            failures.add(String.format("%,d", FIRES_DURING_LOAD.get()) + " fire(s) while the load ran: a cell went longer than the"
                + " idle timeout without a re-arm (longest pass " + String.format("%.1f ms", longestPass / 1e6)
                + "); on an overloaded machine, rerun with a longer timeout (4th argument)");
        }
        final long[] lateness = new long[cells];
        int late = 0;
        int never = 0;
        int missing = 0;
        int twice = 0;
        int early = 0;
        for (final Connection c : conns) {
            final long nb = c.notBefore;
            final int f = c.fires;
            if (nb == Long.MIN_VALUE) { // never armed (every start BUSY): must not fire
                never++;
                if (f != 0) {
                    detail(failures, twice++, "connection " + c.id + " was never armed but fired " + f + " time(s)");
                }
                continue;
            }
            if (f == 0) {
                detail(failures, missing++, "connection " + c.id + " never fired");
                continue;
            }
            if (f > 1) {
                detail(failures, twice++, "connection " + c.id + " fired " + f + " times");
            }
            final long earliest = nb + timeoutNanos;
            if (c.firedAt - earliest < 0) {
                detail(failures, early++, String.format("connection %d last fired %.3f ms before its last deadline",
                    c.id, (earliest - c.firedAt) / 1e6));
            } else {
                lateness[late++] = c.firedAt - earliest;
            }
        }
        summary(failures, missing, "cell(s) never fired");
        summary(failures, twice, "cell(s) fired more than once");
        summary(failures, early, "cell(s) fired before their last deadline");
        final AsyncStats afterExpiry = rt.stats();
        if (afterExpiry.timersFired() != TOTAL_FIRES.get()) {
            failures.add("stats().timersFired() = " + afterExpiry.timersFired() + " but the callbacks counted "
                + TOTAL_FIRES.get());
        }
        if (afterExpiry.timersArmed() != 0) {
            failures.add("stats().timersArmed() = " + afterExpiry.timersArmed() + " after every cell fired");
        }
        if (callbackErrors.get() != 0 || afterExpiry.callbackErrors() != 0) {
            failures.add(afterExpiry.callbackErrors() + " callback error(s)");
        }

        // ---- close every cell (as a server does when its connections close) ----------------
        int closeNotOk = 0;
        for (final Connection c : conns) {
            if (c.idle.close() != AsyncStatus.OK) {
                closeNotOk++;
            }
        }
        if (closeNotOk != 0) {
            failures.add(closeNotOk + " close() call(s) did not answer OK");
        }
        final long liveDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (rt.stats().controlBlocksLive() != 0 && System.nanoTime() - liveDeadline < 0) {
            Thread.sleep(10);
        }
        final AsyncStats end = rt.stats();
        if (end.controlBlocksLive() != 0) {
            failures.add(end.controlBlocksLive() + " control block(s) still live 10 s after every cell was closed");
        }
        rt.close();

        if (!failures.isEmpty()) {
            return fail(failures, null);
        }
        Arrays.sort(lateness, 0, late);
        out("");
        out("verified: %,d of %,d cells fired exactly once, none before its last deadline, none during the"
            + " load%s", late, cells, never == 0 ? "" : String.format(" (%,d never armed: every start BUSY)", never));
        if (late > 0) {
            out("  callback time after the earliest legal instant (start call + timeout; includes the deferred"
                + " apply and %,d timers expiring together on one scheduler thread): p50 %.2f ms, p99 %.2f ms,"
                + " max %.2f ms", late, pct(lateness, late, 0.50) / 1e6, pct(lateness, late, 0.99) / 1e6,
                lateness[late - 1] / 1e6);
        }
        out("  runtime stats: %,d commands applied or dropped, %,d superseded (last command wins), %,d BUSY,"
            + " %,d drains, %,d fired, 0 armed, 0 live after close", end.commandsPublished(),
            end.commandsSuperseded(), end.busy(), end.drains(), end.timersFired());
        out("DEMO PASSED");
        return true;
    }

    private static void check(final List<String> failures, final int status, final String op, final int id) {
        if (status != AsyncStatus.OK) {
            detail(failures, failures.size(), op + " on connection " + id + " answered " + AsyncStatus.name(status));
        }
    }

    private static void detail(final List<String> failures, final int count, final String message) {
        if (count < 10) {
            failures.add(message);
        }
    }

    private static void summary(final List<String> failures, final int count, final String what) {
        if (count > 0) {
            failures.add(String.format("%,d %s", count, what));
        }
    }

    private static boolean fail(final List<String> failures, final AsyncRuntime rt) {
        if (rt != null) {
            rt.close();
        }
        System.out.flush();
        System.err.println();
        System.err.println("DEMO FAILED:");
        for (final String f : failures) {
            System.err.println("  - " + f);
        }
        System.err.flush();
        return false;
    }

    private static long pct(final long[] sorted, final int n, final double q) {
        return sorted[Math.min(n - 1, (int) Math.ceil(q * n) - 1)];
    }

    private static void sleepUntil(final long deadline) throws InterruptedException {
        for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    private static void out(final String format, final Object... args) {
        System.out.println(args.length == 0 ? format : String.format(format, args));
        System.out.flush();
    }
}
