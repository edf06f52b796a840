package dev.latchwork.netty;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;

/**
 * One {@link EventLoopDriver} (one HOST_DRIVEN runtime) per event loop of a group, created up front
 * and looked up by a channel's loop. Share one instance between all the channels of the group; it
 * is read-only after construction. Close it before the group shuts down.
 */
public final class EventLoopDrivers implements AutoCloseable {
    private final Map<EventExecutor, EventLoopDriver> byLoop = new IdentityHashMap<>();
    private final List<EventLoopDriver> all = new ArrayList<>();

    /**
     * @param group        the group whose loops serve the channels (a server's child group)
     * @param errorHandler receives callback exceptions of every runtime
     */
    public EventLoopDrivers(final EventLoopGroup group, final Consumer<Throwable> errorHandler) {
        for (final EventExecutor e : group) {
            final EventLoopDriver d = new EventLoopDriver((EventLoop) e, errorHandler);
            byLoop.put(e, d);
            all.add(d);
        }
    }

    /**
     * @param channel a channel registered on one of the group's loops
     * @return the driver of that loop
     */
    public EventLoopDriver forChannel(final Channel channel) {
        final EventLoopDriver d = byLoop.get(channel.eventLoop());
        if (d == null) {
            throw new IllegalStateException(channel + " is not registered on a loop of this group");
        }
        return d;
    }

    /** @return every driver, one per loop */
    public List<EventLoopDriver> drivers() {
        return List.copyOf(all);
    }

    /** Closes every runtime (no timer callback runs after this returns). */
    @Override
    public void close() {
        for (final EventLoopDriver d : all) {
            d.close();
        }
    }
}
