package dev.latchwork.jmh;

import java.net.SocketAddress;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelProgressivePromise;
import io.netty.channel.ChannelPromise;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;

/**
 * A {@link ChannelHandlerContext} that ends the pipeline at once: {@code fireChannelRead} and
 * {@code fireChannelReadComplete} return without going anywhere, so {@link IdleHandlerBench}'s
 * "direct" rows measure a handler's own read bookkeeping and nothing of Netty's pipeline. Every
 * other method throws: the per-read paths measured never call them.
 */
final class StubContext implements ChannelHandlerContext {
    static final StubContext INSTANCE = new StubContext();

    private StubContext() {
    }

    @Override public ChannelHandlerContext fireChannelRead(final Object msg) { return this; }
    @Override public ChannelHandlerContext fireChannelReadComplete() { return this; }

    private static UnsupportedOperationException no() {
        return new UnsupportedOperationException("not on the measured read path");
    }

    @Override public Channel channel() { throw no(); }
    @Override public EventExecutor executor() { throw no(); }
    @Override public String name() { return "stub"; }
    @Override public ChannelHandler handler() { throw no(); }
    @Override public boolean isRemoved() { return false; }
    @Override public ChannelHandlerContext fireChannelRegistered() { throw no(); }
    @Override public ChannelHandlerContext fireChannelUnregistered() { throw no(); }
    @Override public ChannelHandlerContext fireChannelActive() { throw no(); }
    @Override public ChannelHandlerContext fireChannelInactive() { throw no(); }
    @Override public ChannelHandlerContext fireExceptionCaught(final Throwable cause) { throw no(); }
    @Override public ChannelHandlerContext fireUserEventTriggered(final Object evt) { throw no(); }
    @Override public ChannelHandlerContext fireChannelWritabilityChanged() { throw no(); }
    @Override public ChannelHandlerContext read() { throw no(); }
    @Override public ChannelHandlerContext flush() { throw no(); }
    @Override public ChannelPipeline pipeline() { throw no(); }
    @Override public ByteBufAllocator alloc() { throw no(); }
    @Override public <T> Attribute<T> attr(final AttributeKey<T> key) { throw no(); }
    @Override public <T> boolean hasAttr(final AttributeKey<T> key) { throw no(); }
    @Override public ChannelFuture bind(final SocketAddress localAddress, final ChannelPromise promise) { throw no(); }
    @Override public ChannelFuture connect(final SocketAddress remoteAddress, final ChannelPromise promise) { throw no(); }
    @Override public ChannelFuture connect(final SocketAddress remoteAddress, final SocketAddress localAddress,
        final ChannelPromise promise) { throw no(); }
    @Override public ChannelFuture disconnect(final ChannelPromise promise) { throw no(); }
    @Override public ChannelFuture close(final ChannelPromise promise) { throw no(); }
    @Override public ChannelFuture deregister(final ChannelPromise promise) { throw no(); }
    @Override public ChannelFuture write(final Object msg, final ChannelPromise promise) { throw no(); }
    @Override public ChannelFuture writeAndFlush(final Object msg, final ChannelPromise promise) { throw no(); }
    @Override public ChannelPromise newPromise() { throw no(); }
    @Override public ChannelProgressivePromise newProgressivePromise() { throw no(); }
    @Override public ChannelFuture newSucceededFuture() { throw no(); }
    @Override public ChannelFuture newFailedFuture(final Throwable cause) { throw no(); }
    @Override public ChannelPromise voidPromise() { throw no(); }
}
