package dev.latchwork.jmh;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerClock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fire path with observability off and on (issue 13 section 3): what a timer fire costs when
 * no Flight Recording runs, when one runs with the events' defaults (what {@code jcmd JFR.start}
 * gives: {@code SlowCallback}, {@code DispatcherBehind}, {@code CallbackError},
 * {@code StuckCallback} and {@code RuntimeStatistics} on, {@code TimerFired} off), when one runs
 * with every latchwork event on (a {@code TimerFired} event committed per fire), and with the
 * stuck-callback watchdog on (no recording).
 *
 * <p>One invocation arms {@link #BATCH} timers of a {@link DispatchMode#HOST_DRIVEN} runtime at a
 * deadline already past and calls {@code drain()} on the benchmark thread until they have all
 * fired: per operation, one command applied, one wheel insertion, one expiry and one callback
 * (which does nothing but count). The wheel's tick is its smallest (2^10 ns), so the wait for the
 * due bucket is a microsecond or two per batch of 1 000 fires. The recording is started in-process
 * ({@link Recording}, to disk, in the fork's temporary directory) before the measurement and
 * closed after it. Run with {@code -prof gc}: B/op counts every thread.
 *
 * <pre>
 * java -jar jmh/target/benchmarks.jar FireBench -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FireBench {
    static final int BATCH = 1_000;

    /** off, jfr-default, jfr-all, watchdog. */
    @Param({"off", "jfr-default", "jfr-all", "watchdog"})
    public String observe;

    AsyncRuntime rt;
    AsyncTimer<FireBench>[] timers;
    Recording recording;
    long fired;

    @Setup(Level.Trial)
    @SuppressWarnings("unchecked")
    public void setup() {
        final AsyncRuntime.Builder b = AsyncRuntime.builder().name("fire-bench")
            .dispatchMode(DispatchMode.HOST_DRIVEN).timerWheel(1 << 10, 64);
        switch (observe) {
            case "off":
                break;
            case "jfr-default":
                recording = new Recording(); // the events' own defaults
                break;
            case "jfr-all":
                recording = new Recording();
                recording.enable("dev.latchwork.TimerFired");
                recording.enable("dev.latchwork.SlowCallback");
                recording.enable("dev.latchwork.StuckCallback");
                recording.enable("dev.latchwork.CallbackError");
                recording.enable("dev.latchwork.DispatcherBehind");
                recording.enable("dev.latchwork.RuntimeStatistics");
                break;
            case "watchdog":
                b.stuckCallbackThreshold(Duration.ofSeconds(1));
                break;
            default:
                throw new IllegalArgumentException(observe);
        }
        if (recording != null) {
            recording.setMaxSize(256L << 20);
            recording.start();
        }
        rt = b.build();
        timers = new AsyncTimer[BATCH];
        for (int i = 0; i < BATCH; i++) {
            timers[i] = new AsyncTimer<>();
            check(timers[i].init(rt, this, TimerClock.MONOTONIC));
            check(timers[i].setCallback((o, t) -> o.fired++));
        }
    }

    private static void check(final int status) {
        if (status != AsyncStatus.OK) {
            throw new IllegalStateException(AsyncStatus.name(status));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        rt.close();
        if (recording != null) {
            recording.close();
        }
    }

    /** @return the fires counted so far (a sink for JMH) */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long armAndFire() {
        final long target = fired + BATCH;
        final long past = System.nanoTime() - 1;
        final AsyncTimer<FireBench>[] ts = timers;
        for (int i = 0; i < BATCH; i++) {
            ts[i].startAt(past);
        }
        while (fired < target) {
            rt.drain();
        }
        return fired;
    }
}
