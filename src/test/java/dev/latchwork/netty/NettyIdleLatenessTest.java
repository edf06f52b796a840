package dev.latchwork.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;

/**
 * The lateness of the idle close, {@link LatchworkIdleHandler} beside Netty's
 * {@link IdleStateHandler}, measured the same way on the same kind of server (2 NIO loops over
 * loopback, {@value #CLIENTS} silent clients): from the moment the server set the connection up
 * (before the idle handler was added) plus the idle time, to the moment the idle action ran on the
 * channel's loop. Prints both distributions (docs/BENCHMARKS.md quotes them); asserts only what
 * must hold: every connection idles once, on its own loop, and the latchwork one never early.
 */
class NettyIdleLatenessTest {
    private static final int CLIENTS = 100;
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long WAIT_SECONDS = 60;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void latenessBesideIdleStateHandler() throws Exception {
        final long[] netty = run("IdleStateHandler", true);
        final long[] ours = run("LatchworkIdleHandler", false);
        for (final long l : ours) {
            assertTrue(l >= 0, "EARLY by " + -l / 1000 + " µs");
        }
        print("IdleStateHandler", netty);
        print("LatchworkIdleHandler", ours);
    }

    private static void print(final String what, final long[] lateness) {
        Arrays.sort(lateness);
        final int n = lateness.length;
        System.out.printf(Locale.ROOT, "NettyIdleLatenessTest: %-20s %d idle closes, lateness after setup + %d ms:"
            + " min %.2f ms, p50 %.2f ms, p90 %.2f ms, max %.2f ms%n", what, n, TimeUnit.NANOSECONDS.toMillis(IDLE_NANOS),
            lateness[0] / 1e6, lateness[n / 2] / 1e6, lateness[n * 9 / 10] / 1e6, lateness[n - 1] / 1e6);
    }

    /** What both idle handlers do when a connection idles: record, check the thread, close. */
    interface IdleAction {
        void idle(ChannelHandlerContext ctx, long setupNanos);
    }

    /**
     * @return per connection: the idle action's time minus (setup time + idle)
     */
    private static long[] run(final String what, final boolean nettyHandler) throws Exception {
        final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        final EventLoopGroup clientLoops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        final EventLoopDrivers drivers = new EventLoopDrivers(workers, errors::add);
        final ConcurrentLinkedQueue<Long> lateness = new ConcurrentLinkedQueue<>();
        final CountDownLatch idled = new CountDownLatch(CLIENTS);
        final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        try {
            final IdleAction idleNow = (ctx, t0) -> {
                lateness.add(System.nanoTime() - t0 - IDLE_NANOS);
                if (!ctx.channel().eventLoop().inEventLoop()) {
                    problems.add(what + ": idle action off the channel's loop");
                }
                idled.countDown();
                ctx.close();
            };
            final Function<long[], ChannelHandler> idleAction = t0 -> new ChannelInboundHandlerAdapter() {
                @Override
                public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt) {
                    if (evt instanceof IdleStateEvent) { // IdleStateHandler's event: close, as ours does
                        idleNow.idle(ctx, t0[0]);
                    }
                }
            };
            final Channel server = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(final SocketChannel ch) {
                        final long[] t0 = {System.nanoTime()}; // before the idle handler exists
                        if (nettyHandler) {
                            ch.pipeline().addLast(new IdleStateHandler(IDLE_NANOS, 0, 0, TimeUnit.NANOSECONDS), idleAction.apply(t0));
                        } else {
                            ch.pipeline().addLast(new LatchworkIdleHandler(drivers, IDLE_NANOS) {
                                @Override
                                protected void channelIdle(final ChannelHandlerContext ctx) {
                                    idleNow.idle(ctx, t0[0]);
                                }
                            });
                        }
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            final int port = ((InetSocketAddress) server.localAddress()).getPort();
            final Bootstrap client = new Bootstrap().group(clientLoops).channel(NioSocketChannel.class)
                .handler(new NettyIdleTimeoutTest.Discard());
            for (int i = 0; i < CLIENTS; i++) {
                client.connect("127.0.0.1", port).sync();
            }
            assertTrue(idled.await(WAIT_SECONDS, TimeUnit.SECONDS), what + ": idle actions missing: " + idled.getCount());
            server.close().sync();
        } finally {
            drivers.close();
            clientLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        assertTrue(problems.isEmpty(), problems.toString());
        assertTrue(errors.isEmpty(), errors.toString());
        assertEquals(CLIENTS, lateness.size(), what + ": idle actions");
        return lateness.stream().mapToLong(Long::longValue).toArray();
    }
}
