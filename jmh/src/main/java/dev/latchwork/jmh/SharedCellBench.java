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

/**
 * Two threads re-arming <b>the same</b> cell: the case where latchwork's publish may answer
 * {@code BUSY} (another command on this cell was being published at that instant; it supersedes
 * ours). Not a contract goal; it is here so the BUSY rate is measured rather than guessed. The
 * {@code busy} and {@code ops} secondary results count non-OK answers and operations per
 * iteration; nothing fails on them. The floor is two CAS on one shared cell (a failed CAS counts
 * as busy).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SharedCellBench {

    @Param({"floor-2cas", "latchwork-deferred", "latchwork-host", "latchwork-inline"})
    public String impl;

    Timeouts timeouts;

    @Setup(Level.Trial)
    public void setup() {
        timeouts = Timeouts.create(impl);
        timeouts.open(1);
        timeouts.closeAtExit();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (TimerBench.PRINT_STATS) {
            System.out.print("\n  [stats] ");
            System.out.println(timeouts.stats());
        }
    }

    /** Operations and non-OK answers per iteration (their ratio is the BUSY rate). */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class Outcome {
        public long ops;
        public long busy;

        @Setup(Level.Iteration)
        public void nextIteration() {
            ops = 0;
            busy = 0;
        }
    }

    @Benchmark
    @Threads(2)
    public int rearmSameCell_2t(final Outcome o) {
        final int s = timeouts.rearm(0, 0);
        o.ops++;
        if (s != 0) {
            o.busy++;
        }
        return s;
    }
}
