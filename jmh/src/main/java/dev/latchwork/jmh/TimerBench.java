package dev.latchwork.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * The side-by-side suite (contract section 5): every contender of {@link Timeouts} on the same two
 * workloads, on one cell per thread and round-robin over 100 000 cells, at 1 and 2 threads.
 * Threads never share a cell: with {@code cells=1} each thread has its own cell ({@link #SPREAD}
 * cells apart, so that two threads' cells share no cache line); with {@code cells=100000} each
 * thread has its own half. Run with {@code -prof gc}; B/op is
 * {@code gc.alloc.rate.norm}, which JMH 1.37 computes from <i>all</i> threads' allocation
 * ({@code getTotalThreadAllocatedBytes}), so a dispatcher, worker or poller thread that allocates
 * shows up too.
 *
 * <p>Honesty checks: every non-OK answer is counted (the {@code nonOk} secondary result, per
 * iteration) and a non-zero total fails the trial at tear-down, since BUSY cannot legitimately
 * happen on distinct cells (same-cell contention is {@link SharedCellBench}). An expiry during the
 * run (none is due within a fork) is printed as a warning.
 *
 * <pre>
 * java -jar jmh/target/benchmarks.jar TimerBench -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc -rf json -rff results.json
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TimerBench {

    @Param({"floor-2cas",
        "latchwork-deferred", "latchwork-deferred-at",
        "latchwork-host", "latchwork-host-at",
        "latchwork-inline", "latchwork-inline-at",
        "latchwork-wheel", "latchwork-executor",
        "netty-hwt", "jdk-stpe", "jdk25-fjp", "agrona-wheel-lock"})
    public String impl;

    /** Cells per run: 1 (each thread its own cell) or N (each thread its own N / threads). */
    @Param({"1", "100000"})
    public int cells;

    /** {@code -Dlatchwork.bench.stats=true} prints each engine's counters at the end of a trial. */
    static final boolean PRINT_STATS = Boolean.getBoolean("latchwork.bench.stats");

    /**
     * With one cell per thread, thread {@code t} uses cell {@code t * SPREAD}: cells are allocated
     * one after another, so the cells of threads 0 and 1 would otherwise share cache lines (two
     * 32-byte floor blocks fit in one line) and the 2-thread runs would measure false sharing of
     * the harness's allocation order instead of the contenders.
     */
    static final int SPREAD = 64;

    Timeouts timeouts;
    int totalCells;
    /** Distance between the first cells of two threads. */
    int stride;

    @Setup(Level.Trial)
    public void setup(final BenchmarkParams params) {
        final int threads = params.getThreads();
        if (cells != 1 && cells % threads != 0) {
            throw new IllegalArgumentException("cells=" + cells + " is not a multiple of threads=" + threads);
        }
        stride = cells == 1 ? SPREAD : cells / threads;
        totalCells = cells == 1 ? threads * SPREAD : cells;
        timeouts = Timeouts.create(impl);
        timeouts.open(totalCells);
        timeouts.closeAtExit();
    }

    /**
     * JMH runs trial tear-downs inside the last measured iteration, so whatever they allocate is
     * charged to that iteration's B/op (the first string concatenation links ~0.5 MB of method
     * handles; printing through JMH's fork link costs ~40 KB): the engine is closed at JVM exit
     * instead ({@link Timeouts#closeAtExit()}), and the engine's counters are printed only if
     * something fired or with {@code -jvmArgsAppend -Dlatchwork.bench.stats=true}.
     */
    @TearDown(Level.Trial)
    public void tearDown() {
        final int fired = timeouts.fired();
        if (fired != 0 || PRINT_STATS) {
            System.out.print("\n  [stats] ");
            System.out.println(timeouts.stats());
        }
        if (fired != 0) {
            System.out.print("  WARNING: timeouts fired during the run (did the fork outlive the idle timeout?): ");
            System.out.println(fired);
        }
    }

    /** One thread's own cells and its cached clock (a duty cycle reads the clock once per cycle). */
    @State(Scope.Thread)
    public static class Cursor {
        int lo;
        int hi;
        int next;
        int tick;
        long now;

        @Setup(Level.Trial)
        public void setup(final TimerBench bench, final ThreadParams thread) {
            lo = thread.getThreadIndex() * bench.stride;
            hi = lo + (bench.cells == 1 ? 1 : bench.stride);
            next = lo;
            now = System.nanoTime();
        }

        final int cell() {
            final int c = next;
            next = c + 1 == hi ? lo : c + 1;
            return c;
        }

        final long now() {
            if ((++tick & 1023) == 0) {
                now = System.nanoTime();
            }
            return now;
        }
    }

    /** Non-OK answers per iteration (reported as the {@code nonOk} secondary result). */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Outcome {
        public long nonOk;
        private long earlier;

        @Setup(Level.Iteration)
        public void nextIteration() {
            earlier += nonOk;
            nonOk = 0;
        }

        @TearDown(Level.Trial)
        public void verify() {
            final long total = earlier + nonOk;
            if (total != 0) {
                throw new IllegalStateException(total + " non-OK answers on cells no other thread touches");
            }
        }

        final int count(final int status) {
            if (status != 0) {
                nonOk++;
            }
            return status;
        }
    }

    @Benchmark
    @Threads(1)
    public int rearm_1t(final Cursor c, final Outcome o) {
        return o.count(timeouts.rearm(c.cell(), c.now()));
    }

    @Benchmark
    @Threads(2)
    public int rearm_2t(final Cursor c, final Outcome o) {
        return o.count(timeouts.rearm(c.cell(), c.now()));
    }

    @Benchmark
    @Threads(1)
    public int armCancel_1t(final Cursor c, final Outcome o) {
        return o.count(timeouts.armCancel(c.cell(), c.now()));
    }

    @Benchmark
    @Threads(2)
    public int armCancel_2t(final Cursor c, final Outcome o) {
        return o.count(timeouts.armCancel(c.cell(), c.now()));
    }
}
