package dev.latchwork.jmh;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerClock;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.Ticker;

/**
 * The per-connection read-idle handlers a Netty user compares (issue 13): what one connection's
 * pipeline holds for its idle timeout, and what a read costs it.
 * <ul>
 *   <li>{@code passthrough}: a {@link ChannelInboundHandlerAdapter} that forwards every event (the
 *       baseline: what any handler costs, before it keeps an idle timeout);</li>
 *   <li>{@code idle-state-handler}: Netty's {@link IdleStateHandler} with a reader-idle time only
 *       (per read: two field writes in {@code channelRead}, a {@code Ticker.nanoTime()} in
 *       {@code channelReadComplete}; one task on the loop's scheduled-task queue per connection,
 *       re-scheduled when it expires);</li>
 *   <li>{@code latchwork-deferred}: {@link LatchworkReadIdle} ({@code AsyncTimer.start(idle)} per
 *       read) on a default runtime (its dispatcher thread applies the commands);</li>
 *   <li>{@code latchwork-onloop}: the same handler on a HOST_DRIVEN runtime that the reading thread
 *       drains itself, as the Netty example's event loop does (docs/NETTY.md): the caller of
 *       {@link #loopWork()} pays the drains too.</li>
 * </ul>
 * The idle time is {@link Timeouts#IDLE_TIMEOUT_NANOS} (60 s): nothing fires during a run.
 */
final class IdleHandlers implements AutoCloseable {
    static final List<String> IMPLS = Arrays.asList("passthrough", "idle-state-handler", "latchwork-deferred", "latchwork-onloop");
    /** Reads between two drains in {@code latchwork-onloop}: one event-loop iteration's batch of reads. */
    static final int READS_PER_DRAIN = 64;

    private final String impl;
    private final AsyncRuntime runtime;
    private final boolean drainsOnLoop;
    private int reads;

    IdleHandlers(final String impl) {
        this.impl = impl;
        switch (impl) {
            case "passthrough":
            case "idle-state-handler":
                runtime = null;
                drainsOnLoop = false;
                break;
            case "latchwork-deferred":
                runtime = AsyncRuntime.builder().threadFactory(Timeouts.daemonThreads("latchwork-idle")).build();
                drainsOnLoop = false;
                break;
            case "latchwork-onloop":
                runtime = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN)
                    .threadFactory(Timeouts.daemonThreads("latchwork-idle")).build();
                drainsOnLoop = true;
                break;
            default:
                throw new IllegalArgumentException("unknown impl " + impl + ", expected one of " + IMPLS);
        }
    }

    /** @return a new handler for one connection (its timer initialized and armed, where it has one) */
    ChannelHandler newHandler() {
        switch (impl) {
            case "passthrough":
                return new ChannelInboundHandlerAdapter();
            case "idle-state-handler":
                return new IdleStateHandler(Timeouts.IDLE_TIMEOUT_NANOS, 0, 0, TimeUnit.NANOSECONDS);
            default:
                return new LatchworkReadIdle(runtime, Timeouts.IDLE_TIMEOUT_NANOS);
        }
    }

    /** @return an active embedded channel whose pipeline is {@code handler}, then a sink; real clock */
    static EmbeddedChannel channel(final ChannelHandler handler) {
        return EmbeddedChannel.builder().ticker(Ticker.systemTicker()).handlers(handler, Sink.INSTANCE).build();
    }

    /** Called once per read: in {@code latchwork-onloop} every {@link #READS_PER_DRAIN}th read drains the runtime. */
    void loopWork() {
        if (drainsOnLoop && (++reads & (READS_PER_DRAIN - 1)) == 0) {
            runtime.drain();
        }
    }

    /** Applies everything published so far (HOST_DRIVEN: drains here; DEFERRED: waits for the dispatcher). */
    void settle() throws InterruptedException {
        if (runtime == null) {
            return;
        }
        if (drainsOnLoop) {
            while (runtime.drain() != 0) {
                Thread.onSpinWait();
            }
        } else {
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (runtime.stats().drainsPending() != 0 && System.nanoTime() - end < 0) {
                Thread.sleep(10);
            }
        }
    }

    @Override
    public void close() {
        if (runtime != null) {
            runtime.close();
        }
    }

    /** The end of the measured pipelines: swallows reads and read-completes. */
    @ChannelHandler.Sharable
    static final class Sink extends ChannelInboundHandlerAdapter {
        static final Sink INSTANCE = new Sink();

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            // consumed
        }

        @Override
        public void channelReadComplete(final ChannelHandlerContext ctx) {
            // consumed
        }
    }

    /**
     * The benchmark's copy of the example's handler (src/test {@code dev.latchwork.netty.LatchworkIdleHandler}):
     * an embedded {@link AsyncTimer} re-armed on every read. Its callback would close the channel;
     * with a 60 s idle time it never runs here.
     */
    static final class LatchworkReadIdle extends ChannelInboundHandlerAdapter {
        private final AsyncTimer<LatchworkReadIdle> idle = new AsyncTimer<>();
        private final long idleNanos;

        LatchworkReadIdle(final AsyncRuntime rt, final long idleNanos) {
            this.idleNanos = idleNanos;
            check(idle.init(rt, this, TimerClock.MONOTONIC));
            check(idle.setCallback((h, t) -> { }));
            check(idle.start(idleNanos));
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            idle.start(idleNanos); // the per-read re-arm
            ctx.fireChannelRead(msg);
        }

        private static void check(final int status) {
            if (status != AsyncStatus.OK) {
                throw new IllegalStateException("answered " + AsyncStatus.name(status));
            }
        }
    }
}
