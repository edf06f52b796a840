package dev.latchwork.jmh;

import java.util.concurrent.TimeUnit;

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

import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;

/**
 * Issue 13: the per-read cost of a connection's idle timeout as a Netty user meets it, Netty's
 * {@code IdleStateHandler} beside latchwork's handler ({@link IdleHandlers}), one reading thread
 * (an event loop), round-robin over {@code cells} connections. One operation is one read: a
 * {@code channelRead} and a {@code channelReadComplete} (a read batch of one message, the worst
 * case for {@code IdleStateHandler}, which reads the clock once per batch).
 * <ul>
 *   <li>{@code read_direct}: the handler's two methods called directly with a stub context
 *       ({@link StubContext}) whose {@code fire*} calls return at once: the handler's own
 *       bookkeeping and nothing else;</li>
 *   <li>{@code read_pipeline}: {@code pipeline.fireChannelRead(msg).fireChannelReadComplete()} on an
 *       active {@link EmbeddedChannel} holding the handler and a sink: what the read costs with
 *       Netty's pipeline traversal; subtract the {@code passthrough} row for the handler's share.</li>
 * </ul>
 * {@code latchwork-onloop} drains its HOST_DRIVEN runtime on the reading thread every 64 reads,
 * so its rows include the drains (as on the example's event loop); {@code latchwork-deferred}
 * leaves them to its dispatcher thread. Nothing fires (60 s idle time). Run with {@code -prof gc}.
 *
 * <pre>
 * java -jar jmh/target/benchmarks.jar IdleHandlerBench -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class IdleHandlerBench {
    /** The message read: handlers under test never look at it. */
    private static final Object MSG = new Object();

    @Param({"passthrough", "idle-state-handler", "latchwork-deferred", "latchwork-onloop"})
    public String impl;

    /** Connections read round-robin (the smoke run passes 1 and 1000). */
    @Param({"1", "10000"})
    public int cells;

    private IdleHandlers handlers;
    private ChannelInboundHandler[] direct;
    private EmbeddedChannel[] channels;
    private ChannelPipeline[] pipelines;
    private int next;

    @Setup(Level.Trial)
    public void setup(final BenchmarkParams params) throws InterruptedException {
        handlers = new IdleHandlers(impl);
        final boolean pipeline = params.getBenchmark().endsWith("read_pipeline");
        direct = new ChannelInboundHandler[cells];
        if (pipeline) {
            channels = new EmbeddedChannel[cells];
            pipelines = new ChannelPipeline[cells];
        }
        for (int i = 0; i < cells; i++) {
            direct[i] = (ChannelInboundHandler) handlers.newHandler();
            if (pipeline) {
                channels[i] = IdleHandlers.channel(direct[i]);
                pipelines[i] = channels[i].pipeline();
            }
        }
        handlers.settle();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        handlers.close();
    }

    private int cell() {
        final int c = next;
        next = c + 1 == cells ? 0 : c + 1;
        return c;
    }

    @Benchmark
    public void read_direct() throws Exception {
        final ChannelInboundHandler h = direct[cell()];
        h.channelRead(StubContext.INSTANCE, MSG);
        h.channelReadComplete(StubContext.INSTANCE);
        handlers.loopWork();
    }

    @Benchmark
    public void read_pipeline() {
        pipelines[cell()].fireChannelRead(MSG).fireChannelReadComplete();
        handlers.loopWork();
    }
}
