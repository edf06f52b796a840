package dev.latchwork.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.latchwork.AsyncStats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
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
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * The Netty example ({@link LatchworkIdleHandler} on {@link EventLoopDrivers}) on a real Netty 4.2
 * NIO server over loopback: 2 server loops, {@value #CLIENTS} clients, half of them send a byte
 * every idle/4, the other half stay silent. Every silent connection must be closed by the server,
 * none before its idle deadline (last read + idle), on its own event loop; the talking ones must
 * stay open while they talk, and are closed an idle time after they stop. Then every runtime
 * closes cleanly. Timing assertions compare recorded {@code nanoTime}s; sleeps only pace the
 * clients, latches wait with generous timeouts.
 */
class NettyIdleTimeoutTest {
    private static final int CLIENTS = 200;
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(1000);
    /** How long the talking clients talk after every client is connected. */
    private static final long TALK_NANOS = 3 * IDLE_NANOS;
    private static final long WAIT_SECONDS = 60;

    /** What the server saw of one connection (written on its loop, read by the test afterwards). */
    static final class Conn {
        volatile long lastRead;
        volatile long maxGap;
        volatile int reads;
        volatile long idleAt;
        volatile int idleCalls;
        volatile boolean idleOnOwnLoop;
        volatile long inactiveAt;
        volatile Channel channel;
    }

    /** The example handler with the test's bookkeeping. */
    static final class RecordingIdleHandler extends LatchworkIdleHandler {
        private final Conn conn;
        private final CountDownLatch idled;

        RecordingIdleHandler(final EventLoopDrivers drivers, final Conn conn, final CountDownLatch idled) {
            super(drivers, IDLE_NANOS);
            this.conn = conn;
            this.idled = idled;
        }

        @Override
        protected void onRead() {
            final long now = System.nanoTime();
            final long last = conn.lastRead;
            if (last != 0 && now - last > conn.maxGap) {
                conn.maxGap = now - last;
            }
            conn.lastRead = now; // before the re-arm: the idle deadline is at least now + idle
            conn.reads++;
        }

        @Override
        protected void channelIdle(final ChannelHandlerContext ctx) throws Exception {
            conn.idleAt = System.nanoTime();
            conn.idleOnOwnLoop = ctx.channel().eventLoop().inEventLoop();
            conn.idleCalls++;
            idled.countDown();
            super.channelIdle(ctx); // closes the channel
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void idleConnectionsAreClosedOnTheirOwnLoopNoneEarly() throws Exception {
        final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        final EventLoopGroup clientLoops = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        final EventLoopDrivers drivers = new EventLoopDrivers(workers, errors::add);
        final Map<Integer, Conn> byClientPort = new ConcurrentHashMap<>();
        final CountDownLatch idled = new CountDownLatch(CLIENTS);
        final CountDownLatch serverClosed = new CountDownLatch(CLIENTS);
        try {
            final Channel server = new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(final SocketChannel ch) {
                        final Conn conn = new Conn();
                        conn.channel = ch;
                        byClientPort.put(ch.remoteAddress().getPort(), conn);
                        ch.pipeline().addLast(new RecordingIdleHandler(drivers, conn, idled), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
                                ReferenceCountUtil.release(msg); // the application: discards what it reads
                            }

                            @Override
                            public void channelInactive(final ChannelHandlerContext ctx) {
                                conn.inactiveAt = System.nanoTime();
                                serverClosed.countDown();
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            final int port = ((InetSocketAddress) server.localAddress()).getPort();

            // --- clients: even ones talk (a byte every idle/4), odd ones stay silent
            final Bootstrap client = new Bootstrap().group(clientLoops).channel(NioSocketChannel.class)
                .handler(new Discard());
            final List<Channel> talking = new ArrayList<>();
            final List<Channel> silent = new ArrayList<>();
            final List<ScheduledFuture<?>> senders = new ArrayList<>();
            final CountDownLatch silentClosed = new CountDownLatch(CLIENTS / 2);
            final AtomicInteger talkingClosedEarly = new AtomicInteger();
            final AtomicLong talkingStop = new AtomicLong(); // set before the senders are cancelled
            final List<Integer> talkingPorts = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                final Channel ch = client.connect("127.0.0.1", port).sync().channel();
                if (i % 2 == 0) {
                    talking.add(ch);
                    talkingPorts.add(((InetSocketAddress) ch.localAddress()).getPort());
                    senders.add(ch.eventLoop().scheduleAtFixedRate(() -> {
                        final ByteBuf b = ch.alloc().buffer(1).writeByte(1);
                        ch.writeAndFlush(b);
                    }, IDLE_NANOS / 4, IDLE_NANOS / 4, TimeUnit.NANOSECONDS));
                    ch.closeFuture().addListener(f -> {
                        if (talkingStop.get() == 0) {
                            talkingClosedEarly.incrementAndGet();
                        }
                    });
                } else {
                    silent.add(ch);
                    ch.closeFuture().addListener(f -> silentClosed.countDown());
                }
            }
            final long allConnected = System.nanoTime();

            // --- every silent client is closed by the server
            assertTrue(silentClosed.await(WAIT_SECONDS, TimeUnit.SECONDS),
                "silent clients still open after " + WAIT_SECONDS + " s: " + silentClosed.getCount());

            // --- the talking ones talk on, then stop
            final long talkLeft = allConnected + TALK_NANOS - System.nanoTime();
            if (talkLeft > 0) {
                TimeUnit.NANOSECONDS.sleep(talkLeft); // pacing only: nothing below depends on its accuracy
            }
            final long stopAt = System.nanoTime();
            talkingStop.set(stopAt);
            for (final ScheduledFuture<?> s : senders) {
                s.cancel(false);
            }
            assertEquals(0, talkingClosedEarly.get(), "talking clients closed while they talked: " + diagnose(talkingPorts, byClientPort));
            for (final Channel ch : talking) {
                assertTrue(ch.isActive(), "a talking client is closed: " + diagnose(talkingPorts, byClientPort));
            }

            // --- then they go idle too, and every connection is closed by its idle timer
            assertTrue(idled.await(WAIT_SECONDS, TimeUnit.SECONDS), "idle callbacks missing: " + idled.getCount());
            assertTrue(serverClosed.await(WAIT_SECONDS, TimeUnit.SECONDS), "server channels still open: " + serverClosed.getCount());

            assertEquals(CLIENTS, byClientPort.size());
            final long[] lateness = new long[CLIENTS];
            int k = 0;
            for (final int clientPort : talkingPorts) {
                final Conn c = byClientPort.get(clientPort);
                assertTrue(c.reads > 1, "a talking client was read " + c.reads + " time(s)");
                assertTrue(c.idleAt - stopAt >= 0, "a talking connection idled while its client talked");
            }
            for (final Conn c : byClientPort.values()) {
                assertEquals(1, c.idleCalls, "idle callbacks of one connection");
                assertTrue(c.idleOnOwnLoop, "the idle callback ran off the channel's event loop");
                final long sinceRead = c.idleAt - c.lastRead;
                assertTrue(sinceRead >= IDLE_NANOS,
                    "EARLY: idle " + (IDLE_NANOS - sinceRead) / 1000 + " µs before last read + idle");
                assertTrue(c.inactiveAt - c.idleAt >= 0, "closed before its idle callback ran");
                assertTrue(!c.channel.isOpen(), "server channel still open");
                lateness[k++] = sinceRead - IDLE_NANOS;
            }
            Arrays.sort(lateness);
            System.out.printf(Locale.ROOT, "NettyIdleTimeoutTest: %d connections idled and closed; lateness after last read"
                + " + idle: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", CLIENTS, lateness[CLIENTS / 2] / 1e6,
                lateness[CLIENTS * 99 / 100] / 1e6, lateness[CLIENTS - 1] / 1e6);

            server.close().sync();
            // each channel's close queued its control block's last drain pass on its loop: let it run
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (drivers.drivers().stream().anyMatch(d -> d.runtime().stats().controlBlocksLive() != 0)
                && System.nanoTime() - end < 0) {
                Thread.sleep(10);
            }
        } finally {
            drivers.close();
            clientLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }

        // --- every runtime closed cleanly: nothing armed, no control block alive, no error
        for (final EventLoopDriver d : drivers.drivers()) {
            assertTrue(d.runtime().isClosed());
            final AsyncStats s = d.runtime().stats();
            assertEquals(0, s.timersArmed(), "timers armed after close: " + s);
            assertEquals(0, s.controlBlocksLive(), "control blocks alive after every channel closed: " + s);
            assertEquals(0, s.callbackErrors(), "callback errors: " + s);
            assertTrue(s.timersFired() > 0, "a loop's runtime fired nothing: " + s);
        }
        assertTrue(errors.isEmpty(), "errors reported: " + errors);
        assertTrue(workers.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS));
        assertTrue(clientLoops.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS));
        assertTrue(boss.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS));
    }

    /** The clients read nothing worth keeping. */
    @ChannelHandler.Sharable
    static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    private static String diagnose(final List<Integer> talkingPorts, final Map<Integer, Conn> byClientPort) {
        final StringBuilder sb = new StringBuilder();
        for (final int clientPort : talkingPorts) {
            final Conn c = byClientPort.get(clientPort);
            if (c == null || c.idleAt != 0) {
                sb.append(String.format(Locale.ROOT, "[reads %d, longest gap between reads %.1f ms] ",
                    c == null ? -1 : c.reads, c == null ? -1 : c.maxGap / 1e6));
            }
        }
        return sb.toString();
    }
}
