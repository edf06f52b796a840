package dev.latchwork.netty;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.DispatchMode;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * Drives one {@link DispatchMode#HOST_DRIVEN HOST_DRIVEN} {@link AsyncRuntime} on one Netty
 * {@link EventLoop}: the runtime has no thread of its own, its commands are applied and its timer
 * callbacks run inside {@link AsyncRuntime#drain()}, and every drain runs as a task on this loop.
 * So a timer of a channel registered on this loop fires on the channel's own thread, like any
 * other handler code, with no locking and no hop between threads. (An example, documented in
 * docs/NETTY.md; tested by {@code NettyIdleTimeoutTest}.)
 *
 * <h2>When the loop drains</h2>
 * <ul>
 *   <li><b>A command while the runtime is idle.</b> The runtime calls its {@code hostWakeup} (here
 *       {@link #requestDrain()}) on the publisher's thread, at most once per idle spell, when a
 *       {@code start}/{@code cancelAsync}/{@code close} queues work after a drain that found
 *       nothing. {@code requestDrain} submits one drain task with {@code loop.execute}: an
 *       {@link AtomicBoolean} keeps at most one such task pending, so a burst of wake-ups costs the
 *       loop one task. From a handler on this loop the task runs after the current batch of I/O,
 *       so all the re-arms of one batch of reads are applied by one drain.</li>
 *   <li><b>Timers coming due.</b> After a drain that left the runtime idle, the loop schedules the
 *       next drain {@link AsyncRuntime#nanosUntilDue()} from now with {@code loop.schedule}. One
 *       scheduled drain is kept at a time; it is replaced only when the runtime's next due time
 *       moves earlier than it, so re-arming idle timeouts to later deadlines (the common case)
 *       schedules nothing.</li>
 *   <li><b>Work left over.</b> {@code drain()} does one bounded round. While it reports work, the
 *       loop drains again (up to {@link #PASSES} rounds in one task, then it yields to I/O by
 *       submitting another task). Only a drain that reports 0 puts the runtime back in the idle
 *       state in which the next command calls {@code hostWakeup}, so the driver always drains
 *       until it sees 0.</li>
 * </ul>
 * Everything but {@link #requestDrain()} and {@link #close()} runs on the loop; the scheduled
 * drain's fields are therefore plain fields.
 */
public final class EventLoopDriver implements AutoCloseable {
    /** Drain rounds per task before the loop gets back to its I/O. */
    static final int PASSES = 4;

    private final EventLoop loop;
    private final AsyncRuntime runtime;
    /** True while a drain task submitted by {@link #requestDrain()} waits on the loop. */
    private final AtomicBoolean drainQueued = new AtomicBoolean();
    private final Runnable drainTask = this::queuedDrain;
    private final Runnable timedDrainTask = this::timedDrain;

    // Loop-confined: the pending timed drain and its deadline (System.nanoTime scale).
    private ScheduledFuture<?> timedDrain;
    private long timedDrainAt;

    /**
     * Creates the runtime; it starts idle, so the loop drains only once a command arrives.
     *
     * @param loop         the event loop that drains the runtime and runs its timer callbacks
     * @param errorHandler receives callback exceptions and a wake-up the loop rejected (it was shut
     *                     down before this driver was closed)
     */
    public EventLoopDriver(final EventLoop loop, final Consumer<Throwable> errorHandler) {
        this.loop = loop;
        this.runtime = AsyncRuntime.builder()
            .dispatchMode(DispatchMode.HOST_DRIVEN) // no latchwork thread: this loop drains
            .hostWakeup(this::requestDrain)         // a command arrived while the loop was not draining
            .errorHandler(errorHandler)
            .build();
        // A new HOST_DRIVEN runtime starts idle: its first command calls hostWakeup, so no drain is needed yet.
    }

    /** @return the runtime whose timers this loop drains: give it to {@code AsyncTimer.init} */
    public AsyncRuntime runtime() {
        return runtime;
    }

    /** @return the loop that drains the runtime */
    public EventLoop loop() {
        return loop;
    }

    /**
     * Makes sure one drain task is pending on the loop. Any thread; lock-free; submits at most one
     * task until that task starts. This is the runtime's {@code hostWakeup}.
     */
    void requestDrain() {
        if (!drainQueued.get() && drainQueued.compareAndSet(false, true)) {
            try {
                loop.execute(drainTask);
            } catch (final RejectedExecutionException e) {
                drainQueued.set(false);
                throw e; // the runtime reports a hostWakeup that throws to its error handler
            }
        }
    }

    private void queuedDrain() {
        drainQueued.set(false); // first: a wake-up from here on submits the next task
        drainNow();
    }

    private void timedDrain() {
        timedDrain = null; // it is running: no longer pending
        drainNow();
    }

    /** On the loop: drain until the runtime is idle (or yield to I/O), then arm the timed drain. */
    private void drainNow() {
        int work = 0;
        for (int pass = 0; pass < PASSES; pass++) {
            work = runtime.drain(); // applies commands, fires due timers: their callbacks run here
            if (work == 0) {
                break;
            }
        }
        if (work != 0) {
            requestDrain(); // more to do: let the loop serve its channels first
            return;
        }
        scheduleTimedDrain(runtime.nanosUntilDue());
    }

    /** On the loop: the next drain for timers, {@code nanos} from now (MAX_VALUE: none armed). */
    private void scheduleTimedDrain(final long nanos) {
        if (nanos == Long.MAX_VALUE) {
            return; // nothing armed; a pending timed drain may stay (it drains once, finds nothing)
        }
        if (nanos == 0) {
            requestDrain(); // a timer is due or a command slipped in
            return;
        }
        final long at = System.nanoTime() + nanos;
        if (timedDrain != null) {
            if (timedDrainAt - at <= 0) {
                return; // the pending one comes first; it re-computes when it runs
            }
            timedDrain.cancel(false); // the runtime's next due time moved earlier: replace it
        }
        timedDrainAt = at;
        timedDrain = loop.schedule(timedDrainTask, nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Closes the runtime (see {@link AsyncRuntime#close()}: no timer callback runs after it returns,
     * and every cell answers {@code CLOSED}). Any thread, the loop's included. Close it before the
     * loop shuts down; tasks still queued on the loop then find the runtime closed and do nothing.
     */
    @Override
    public void close() {
        runtime.close();
        if (loop.inEventLoop()) {
            cancelTimedDrain();
        } else {
            try {
                loop.execute(this::cancelTimedDrain);
            } catch (final RejectedExecutionException e) {
                // the loop is gone, and so are its scheduled tasks
            }
        }
    }

    private void cancelTimedDrain() {
        if (timedDrain != null) {
            timedDrain.cancel(false);
            timedDrain = null;
        }
    }
}
