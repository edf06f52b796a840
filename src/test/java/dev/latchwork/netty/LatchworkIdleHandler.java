package dev.latchwork.netty;

import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.TimerClock;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * A per-connection read-idle timeout on a latchwork {@link AsyncTimer}: every read re-arms the
 * timer ({@code start(idleNanos)}: a write into the timer's command latch, no allocation, no
 * clock read, no task); when nothing was read for {@code idleNanos}, {@link #channelIdle} runs on
 * the channel's event loop and, unless overridden, closes the channel.
 * <p>
 * The timer belongs to the HOST_DRIVEN runtime of the channel's own loop ({@link EventLoopDrivers}),
 * so the callback runs inside that loop's drain task, on the channel's thread. One instance per
 * channel (the timer is a field: this handler is the timer's owner); not {@code @Sharable}.
 * <pre>
 * EventLoopDrivers timers = new EventLoopDrivers(workerGroup, Throwable::printStackTrace);
 * serverBootstrap.childHandler(new ChannelInitializer&lt;SocketChannel&gt;() {
 *     protected void initChannel(SocketChannel ch) {
 *         ch.pipeline().addLast(new LatchworkIdleHandler(timers, TimeUnit.SECONDS.toNanos(30)), ...);
 *     }
 * });
 * </pre>
 */
public class LatchworkIdleHandler extends ChannelInboundHandlerAdapter {
    private final AsyncTimer<LatchworkIdleHandler> idle = new AsyncTimer<>(); // embedded, one per channel
    private final EventLoopDrivers drivers;
    private final long idleNanos;
    private ChannelHandlerContext ctx;

    /**
     * @param drivers   the runtimes of the group the channel is registered on
     * @param idleNanos how long the channel may go without a read
     */
    public LatchworkIdleHandler(final EventLoopDrivers drivers, final long idleNanos) {
        this.drivers = drivers;
        this.idleNanos = idleNanos;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            arm(ctx); // added to a channel that is already active: channelActive will not come
        }
    }

    @Override
    public void channelActive(final ChannelHandlerContext ctx) throws Exception {
        arm(ctx);
        super.channelActive(ctx);
    }

    /** Initializes the timer on the runtime of this channel's loop and arms it. On the loop. */
    private void arm(final ChannelHandlerContext ctx) {
        if (idle.isInitialized()) {
            return;
        }
        final int status = idle.init(drivers.forChannel(ctx.channel()).runtime(), this, TimerClock.MONOTONIC);
        if (status != AsyncStatus.OK) { // CLOSED: the runtime was closed (the server is stopping)
            ctx.close();
            return;
        }
        idle.setCallback(LatchworkIdleHandler::expired); // a static method: no capturing lambda per channel
        onRead();
        idle.start(idleNanos);
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg) throws Exception {
        onRead();
        idle.start(idleNanos); // the hot path: re-arm; OK, or CLOSED while the server stops
        super.channelRead(ctx, msg);
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) throws Exception {
        idle.close(); // cancel-and-free: no callback starts after this returns
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx) {
        idle.close();
    }

    /** The timer's callback: runs in the drain task, on the channel's event loop. */
    private static void expired(final LatchworkIdleHandler handler, final AsyncTimer<LatchworkIdleHandler> timer)
        throws Exception {
        handler.channelIdle(handler.ctx);
    }

    /**
     * Called just before each re-arm (a read, and the first arm). Does nothing; a subclass may
     * record the time (the test does).
     */
    protected void onRead() {
    }

    /**
     * Nothing was read for the idle time. Runs on the channel's event loop. Closes the channel;
     * override to do something else (fire an event, send a ping and re-arm with {@link #rearm()}).
     *
     * @param ctx this handler's context
     * @throws Exception reported to the runtime's error handler
     */
    protected void channelIdle(final ChannelHandlerContext ctx) throws Exception {
        ctx.close();
    }

    /**
     * Re-arms the idle timeout from now (as a read does).
     *
     * @return the timer's status ({@link AsyncStatus#OK}, or {@link AsyncStatus#NOT_INITIALIZED}
     *         after the channel closed)
     */
    protected final int rearm() {
        return idle.start(idleNanos);
    }
}
