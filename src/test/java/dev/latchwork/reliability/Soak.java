package dev.latchwork.reliability;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStats;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.AsyncWork;
import dev.latchwork.TimerClock;

/**
 * The soak: busy-spin threads re-arm thousands of idle-timeout cells (one per "connection", as a
 * server would on every read), connections go quiet and time out, their callbacks close them and
 * they are replaced; a churn thread creates and closes short-lived request-timeout cells
 * continuously; the runtime is closed and replaced every ~10 s while all of that runs. Every few
 * seconds it prints throughput, fired and superseded counts, live control blocks and the heap used
 * after a GC, and at the end it fails (exit status 1) if the live control blocks or the heap grew
 * without bound (the maximum over the last third of the samples against the first third's, after
 * a warm-up, with a generous factor), if any thread stalled, or if an invariant broke (a callback
 * after its runtime's close returned, two runs of one work item at once, an unexpected error).
 * <p>
 * Run: {@code ./mvnw -B -ntp -q -Psoak verify -DskipTests -Dsoak.seconds=60}. System properties:
 * {@code soak.seconds} (60), {@code soak.connections} (10000), {@code soak.spinners} (2),
 * {@code soak.requests.per.second} (50000), {@code soak.report.seconds} (5), {@code soak.swap.seconds} (10),
 * {@code soak.seed} (42).
 * <p>
 * The live control blocks are judged net of the drains still pending: a closed block is counted
 * live until the dispatcher finalizes it, and on an oversubscribed machine (the busy-spin threads
 * take every core) the dispatcher's backlog swings by tens of thousands of blocks. The backlog is
 * printed; the heap check covers it if it ever ran away.
 */
public final class Soak {
    static final long MS = 1_000_000L;

    final long seconds = Long.getLong("soak.seconds", 60);
    final int connections = Integer.getInteger("soak.connections", 10_000);
    final int spinners = Integer.getInteger("soak.spinners", 2);
    final long reportSeconds = Long.getLong("soak.report.seconds", 5);
    final long swapSeconds = Long.getLong("soak.swap.seconds", 10);
    final long requestsPerSecond = Long.getLong("soak.requests.per.second", 50_000);

    volatile boolean running = true;
    volatile Generation gen;
    final AtomicInteger generations = new AtomicInteger();
    final LongAdder violations = new LongAdder();
    final List<String> violationSamples = new ArrayList<>();
    final LongAdder unexpectedErrors = new LongAdder();
    final LongAdder expired = new LongAdder();
    final LongAdder replaced = new LongAdder();
    final LongAdder requestsOpened = new LongAdder();
    final LongAdder requestsTimedOut = new LongAdder();
    final LongAdder workRuns = new LongAdder();
    /** Totals of the runtimes already closed. */
    final AtomicLong firedBefore = new AtomicLong();
    final AtomicLong supersededBefore = new AtomicLong();
    final AtomicLong publishedBefore = new AtomicLong();
    final AtomicLong errorsBefore = new AtomicLong();
    final Spinner[] spinnerThreads;

    /** One runtime and the flag its callbacks check. */
    static final class Generation {
        final AsyncRuntime rt;
        final int index;
        volatile boolean closeReturned;

        Generation(final AsyncRuntime rt, final int index) {
            this.rt = rt;
            this.index = index;
        }
    }

    /** A connection: an idle timeout re-armed on every read, and a flush work item. */
    static final class Conn {
        final AsyncTimer<Conn> idle = new AsyncTimer<>();
        final AsyncWork<Conn> flush = new AsyncWork<>();
        final Generation gen;
        final long timeoutNanos;
        final AtomicInteger flushing = new AtomicInteger();
        final byte[] buffer = new byte[128];
        volatile boolean expired;
        long quietUntil;

        Conn(final Generation gen, final long timeoutNanos) {
            this.gen = gen;
            this.timeoutNanos = timeoutNanos;
        }
    }

    /** A short-lived request with a timeout, opened and closed by the churn thread. */
    static final class Request {
        final AsyncTimer<Request> timeout = new AsyncTimer<>();
        final Generation gen;

        Request(final Generation gen) {
            this.gen = gen;
        }
    }

    Soak() {
        spinnerThreads = new Spinner[spinners];
    }

    Generation newGeneration() {
        final AsyncRuntime rt = AsyncRuntime.builder().errorHandler(t -> {
            unexpectedErrors.increment();
            violation("error reported: " + t);
        }).build();
        return new Generation(rt, generations.incrementAndGet());
    }

    void violation(final String what) {
        violations.increment();
        synchronized (violationSamples) {
            if (violationSamples.size() < 20) {
                violationSamples.add(what + " [" + Thread.currentThread().getName() + "]");
            }
        }
    }

    void checkGeneration(final Generation g, final String who) {
        if (g.closeReturned) {
            violation(who + " callback ran after runtime #" + g.index + " close() returned");
        }
    }

    // ------------------------------------------------------------------------------------------
    // callbacks (static shapes: they capture only this soak, never the owner)

    void onIdle(final Conn c, final AsyncTimer<Conn> t) {
        checkGeneration(c.gen, "idle");
        expired.increment();
        c.idle.close(); // an idle connection is closed and dropped, as a server would
        c.flush.close();
        c.expired = true;
        checkGeneration(c.gen, "idle");
    }

    void onFlush(final Conn c, final AsyncWork<Conn> w) {
        checkGeneration(c.gen, "flush");
        if (c.flushing.incrementAndGet() != 1) {
            violation("flush of one connection running twice at once");
        }
        workRuns.increment();
        for (int i = 0; i < c.buffer.length; i++) {
            c.buffer[i]++;
        }
        c.flushing.decrementAndGet();
        checkGeneration(c.gen, "flush");
    }

    void onRequestTimeout(final Request r, final AsyncTimer<Request> t) {
        checkGeneration(r.gen, "request");
        requestsTimedOut.increment();
    }

    Conn newConn(final SplittableRandom rnd) {
        final Generation g = gen;
        final Conn c = new Conn(g, 20 * MS + rnd.nextLong(200 * MS));
        if (c.idle.init(g.rt, c, TimerClock.MONOTONIC) == AsyncStatus.OK
            && c.flush.init(g.rt, c) == AsyncStatus.OK) {
            c.idle.setCallback(this::onIdle);
            c.flush.setCallback(this::onFlush);
        }
        return c; // if the runtime was closed meanwhile, the next start answers CLOSED and it is replaced
    }

    // ------------------------------------------------------------------------------------------
    // threads

    /** A busy-spin duty cycle re-arming the idle timeouts of its share of the connections. */
    final class Spinner extends Thread {
        final SplittableRandom rnd;
        final Conn[] conns;
        final AtomicLong rearms = new AtomicLong();
        final AtomicLong busy = new AtomicLong();
        long rearmsLocal;

        Spinner(final int k, final int n, final long seed) {
            super("soak-spinner-" + k);
            setDaemon(true);
            rnd = new SplittableRandom(seed);
            conns = new Conn[n];
            for (int i = 0; i < n; i++) {
                conns[i] = newConn(rnd);
            }
        }

        @Override
        public void run() {
            long iter = 0;
            while (running) {
                final int i = rnd.nextInt(conns.length);
                Conn c = conns[i];
                if (c.expired) {
                    c = replace(i, c);
                }
                if ((++iter & 63) == 0) {
                    rearms.lazySet(rearmsLocal);
                }
                final long now = System.nanoTime();
                if (now < c.quietUntil) {
                    Thread.onSpinWait();
                    continue; // a quiet connection: no read, its idle timeout runs down
                }
                final int s = c.idle.start(c.timeoutNanos); // the hot path: a read re-arms the idle timeout
                if (s == AsyncStatus.OK) {
                    rearmsLocal++;
                } else if (s == AsyncStatus.BUSY) {
                    busy.lazySet(busy.get() + 1);
                } else if (s == AsyncStatus.CLOSED) {
                    replace(i, c); // the runtime was replaced under us
                } else if (s != AsyncStatus.NOT_INITIALIZED && s != AsyncStatus.DEAD) {
                    violation("idle.start answered " + AsyncStatus.name(s));
                }
                final int r = rnd.nextInt(4096);
                if (r < 16) {
                    c.flush.start();
                } else if (r == 16) {
                    c.quietUntil = now + rnd.nextLong(400 * MS); // goes quiet: may time out
                }
                Thread.onSpinWait();
            }
            rearms.lazySet(rearmsLocal);
        }

        Conn replace(final int i, final Conn old) {
            old.idle.close();
            old.flush.close();
            final Conn c = newConn(rnd);
            conns[i] = c;
            replaced.increment();
            return c;
        }
    }

    /** Opens and closes request-timeout cells continuously, and replaces the runtime every few seconds. */
    final class Churn extends Thread {
        final SplittableRandom rnd;
        static final int RING = 2_000;
        final Request[] ring = new Request[RING];

        Churn(final long seed) {
            super("soak-churn");
            setDaemon(true);
            rnd = new SplittableRandom(seed);
        }

        @Override
        public void run() {
            final long begin = System.nanoTime();
            long nextSwap = begin + TimeUnit.SECONDS.toNanos(swapSeconds);
            long opened = 0;
            int i = 0;
            while (running) {
                final Request old = ring[i];
                if (old != null) {
                    old.timeout.close(); // completed (or timed out): cancel-and-free
                }
                final Generation g = gen;
                final Request r = new Request(g);
                if (r.timeout.init(g.rt, r, TimerClock.MONOTONIC) == AsyncStatus.OK) {
                    r.timeout.setCallback(Soak.this::onRequestTimeout);
                    r.timeout.start(rnd.nextLong(80 * MS)); // the ring recycles a request after ~40 ms: about half time out
                    requestsOpened.increment();
                }
                ring[i] = r;
                i = (i + 1) % ring.length;
                if ((++opened & 63) == 0) { // paced: a steady request rate, not an overload test
                    final long ahead = begin + opened * 1_000_000_000L / requestsPerSecond - System.nanoTime();
                    if (ahead > 0) {
                        LockSupport.parkNanos(ahead);
                    }
                }
                if (System.nanoTime() > nextSwap) {
                    swap();
                    nextSwap = System.nanoTime() + TimeUnit.SECONDS.toNanos(swapSeconds);
                }
            }
        }
    }

    /** Guards the hand-over of the totals at a swap, so a report never counts a runtime twice or not at all. */
    final Object totalsLock = new Object();

    void swap() {
        final Generation old = gen;
        final Generation fresh = newGeneration();
        synchronized (totalsLock) {
            gen = fresh;
            old.rt.close(); // stops its callbacks: its counters are final from here on
            old.closeReturned = true;
            final AsyncStats s = old.rt.stats();
            firedBefore.addAndGet(s.timersFired());
            supersededBefore.addAndGet(s.commandsSuperseded());
            publishedBefore.addAndGet(s.commandsPublished());
            errorsBefore.addAndGet(s.callbackErrors());
        }
    }

    // ------------------------------------------------------------------------------------------
    // the run

    int run() throws InterruptedException {
        final Runtime jvm = Runtime.getRuntime(); // (java.management is not readable from the patched test module)
        gen = newGeneration();
        final SplittableRandom seeds = new SplittableRandom(Long.getLong("soak.seed", 42));
        for (int k = 0; k < spinners; k++) {
            spinnerThreads[k] = new Spinner(k, connections / spinners, seeds.nextLong());
        }
        final Churn churn = new Churn(seeds.nextLong());
        System.out.printf("latchwork soak: %d s, %d connections on %d busy-spin threads, %d requests/s, runtime replaced "
            + "every %d s, %d cores, Java %s%n", seconds, connections, spinners, requestsPerSecond, swapSeconds,
            Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        for (final Spinner s : spinnerThreads) {
            s.start();
        }
        churn.start();

        final long t0 = System.nanoTime();
        final long end = t0 + TimeUnit.SECONDS.toNanos(seconds);
        final List<long[]> samples = new ArrayList<>(); // {elapsed s, live, heap}
        long lastRearms = 0;
        long lastFired = 0;
        long lastT = t0;
        int stalls = 0;
        boolean failed = false;
        while (System.nanoTime() < end) {
            final long sleep = Math.min(TimeUnit.SECONDS.toNanos(reportSeconds), end - System.nanoTime());
            if (sleep > 0) {
                TimeUnit.NANOSECONDS.sleep(sleep);
            }
            final long now = System.nanoTime();
            long rearms = 0;
            long busy = 0;
            for (final Spinner s : spinnerThreads) {
                rearms += s.rearms.get();
                busy += s.busy.get();
            }
            final Generation g;
            final AsyncStats st;
            final long fired;
            final long superseded;
            synchronized (totalsLock) {
                g = gen;
                st = g.rt.stats();
                fired = firedBefore.get() + st.timersFired();
                superseded = supersededBefore.get() + st.commandsSuperseded();
            }
            System.gc();
            final long heap = jvm.totalMemory() - jvm.freeMemory();
            final double dt = (now - lastT) / 1e9;
            final long elapsed = Math.round((now - t0) / 1e9);
            // Blocks closed but not yet finalized by the dispatcher are still counted live; under CPU
            // pressure the dispatcher lags, so the bound uses the live count minus the pending drains.
            final long settledLive = st.controlBlocksLive() - st.drainsPending();
            samples.add(new long[] {elapsed, st.controlBlocksLive(), heap, settledLive});
            System.out.printf("[%3ds] re-arms %6.2f M/s | fired %9d (%6.0f/s) | superseded %11d | expired %7d "
                    + "| requests %8d (timed out %7d) | live CBs %6d (pending drains %5d) | armed %6d | heap after GC %6.1f MB | rt #%d | busy %d%n",
                elapsed, (rearms - lastRearms) / dt / 1e6, fired, (fired - lastFired) / dt, superseded, expired.sum(),
                requestsOpened.sum(), requestsTimedOut.sum(), st.controlBlocksLive(), st.drainsPending(), st.timersArmed(), heap / 1048576.0,
                g.index, busy);
            if (rearms == lastRearms || fired == lastFired) {
                stalls++;
                System.out.println("  no progress in this interval (" + (rearms == lastRearms ? "re-arms" : "fires") + ")");
            } else {
                stalls = 0;
            }
            if (stalls >= 2) {
                System.out.println("FAIL: no progress for two intervals in a row");
                failed = true;
                break;
            }
            lastRearms = rearms;
            lastFired = fired;
            lastT = now;
        }
        running = false;
        for (final Spinner s : spinnerThreads) {
            s.join(10_000);
        }
        churn.join(10_000);
        gen.rt.close();
        gen.closeReturned = true;
        final AsyncStats last = gen.rt.stats();
        final long errors = errorsBefore.get() + last.callbackErrors();

        System.out.printf("totals: %d runtimes, %d fires, %d commands published, %d superseded, %d connections expired, "
                + "%d replaced, %d requests (%d timed out), %d flushes, %d callback errors%n",
            generations.get(), firedBefore.get() + last.timersFired(), publishedBefore.get() + last.commandsPublished(),
            supersededBefore.get() + last.commandsSuperseded(), expired.sum(), replaced.sum(), requestsOpened.sum(),
            requestsTimedOut.sum(), workRuns.sum(), errors);
        failed |= checkGrowth(samples, 3, "live control blocks (minus pending drains)", 1.5, 2_000);
        // The runtime is replaced every few seconds and each runtime counts its own blocks, so a
        // leak of blocks within one runtime would show as a sawtooth: bound every sample as well.
        // Expected: a timer and a work item per connection, plus the requests in flight.
        final long expectedLive = 2L * connections + Churn.RING;
        long maxLive = 0;
        for (final long[] sample : samples) {
            maxLive = Math.max(maxLive, sample[3]);
        }
        if (maxLive > expectedLive * 3 / 2) {
            System.out.println("FAIL: live control blocks (minus pending drains) reached " + maxLive
                + ", expected at most about " + expectedLive);
            failed = true;
        }
        failed |= checkGrowth(samples, 2, "heap used after GC", 2.0, 32L << 20);
        if (violations.sum() > 0 || errors > 0) {
            System.out.println("FAIL: " + violations.sum() + " invariant violations, " + errors + " callback errors");
            synchronized (violationSamples) {
                for (final String v : violationSamples) {
                    System.out.println("  " + v);
                }
            }
            failed = true;
        }
        if (expired.sum() == 0 || requestsTimedOut.sum() == 0) {
            System.out.println("FAIL: no idle timeout or no request timeout ever fired");
            failed = true;
        }
        System.out.println(failed ? "SOAK FAILED" : "SOAK PASSED");
        return failed ? 1 : 0;
    }

    /**
     * Unbounded growth check: after a warm-up (the first quarter of the run, at most 15 s), the
     * maximum over the last third of the samples must not exceed the first third's maximum times
     * {@code factor} plus {@code slack}.
     *
     * @return true if it failed
     */
    boolean checkGrowth(final List<long[]> samples, final int col, final String what, final double factor, final long slack) {
        final long warmup = Math.min(15, seconds / 4);
        final List<Long> v = new ArrayList<>();
        for (final long[] s : samples) {
            if (s[0] > warmup) {
                v.add(s[col]);
            }
        }
        if (v.size() < 3) {
            System.out.println(what + ": too few samples after the warm-up for a growth check (run longer)");
            return false;
        }
        final int third = v.size() / 3;
        long first = 0;
        long lastMax = 0;
        for (int i = 0; i < third; i++) {
            first = Math.max(first, v.get(i));
        }
        for (int i = v.size() - third; i < v.size(); i++) {
            lastMax = Math.max(lastMax, v.get(i));
        }
        final double limit = first * factor + slack;
        final boolean bad = lastMax > limit;
        System.out.printf("%s: first third max %d, last third max %d, limit %.0f -> %s%n", what, first, lastMax, limit,
            bad ? "GREW WITHOUT BOUND" : "bounded");
        return bad;
    }

    public static void main(final String[] args) throws Exception {
        final int status = new Soak().run();
        System.out.flush();
        System.exit(status);
    }
}
