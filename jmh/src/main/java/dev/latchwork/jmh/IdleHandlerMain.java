package dev.latchwork.jmh;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Ticker;

import org.openjdk.jol.info.ClassLayout;

/**
 * Issue 13: bytes per connection of a read-idle timeout in a Netty pipeline ({@link IdleHandlers}),
 * measured like {@link LatencyMain}'s memory rows: heap used after full GCs, with {@code n} active
 * {@link EmbeddedChannel}s holding the handler, minus the same with a pipeline of the sink alone,
 * divided by {@code n}. So a row is what the idle timeout adds to a connection: the handler, its
 * pipeline context, and its armed timeout ({@code IdleStateHandler}: its reader-idle task and the
 * {@code ScheduledFutureTask} on the loop's queue; latchwork: the {@code AsyncTimer} and its
 * control block, which is the wheel node). Each embedded loop's scheduled-task queue is created in
 * every row, the baseline included (a dummy schedule + cancel), so that the per-channel loop's
 * queue, which a real loop shares among all its channels, is not charged to the handler; a real
 * loop adds a heap slot (4 B with compressed oops) per scheduled task on top.
 *
 * <pre>
 * java -Xmx2g -cp jmh/target/benchmarks.jar dev.latchwork.jmh.IdleHandlerMain [n]
 * </pre>
 */
public final class IdleHandlerMain {
    private IdleHandlerMain() {
    }

    public static void main(final String[] args) throws Exception {
        final int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        System.out.printf(Locale.ROOT, "_JDK %s (%s), %d CPUs, max heap %d MiB._%n%n", Runtime.version(),
            System.getProperty("java.vm.name"), Runtime.getRuntime().availableProcessors(),
            Runtime.getRuntime().maxMemory() >> 20);
        System.out.println("### Bytes per connection of a read-idle timeout (Netty pipeline)");
        System.out.println();
        System.out.printf(Locale.ROOT, "%,d active EmbeddedChannels; heap after full GCs minus the sink-only pipeline,"
            + " per channel.%n%n", n);
        System.out.println("| handler | B per connection | beyond a pass-through handler |");
        System.out.println("|---|---:|---:|");
        perChannel(null, n); // warm-up: class loading and one-off statics are not charged to a row
        for (final String impl : IdleHandlers.IMPLS) {
            perChannel(impl, n);
        }
        final double base = perChannel(null, n);
        double pass = 0;
        for (final String impl : IdleHandlers.IMPLS) {
            final double b = perChannel(impl, n) - base;
            if (impl.equals("passthrough")) {
                pass = b;
            }
            System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f |%n", impl, b, b - pass);
        }
        System.out.println();
        System.out.println("JOL instance sizes (this JVM's layout):");
        System.out.println();
        System.out.println("| class | bytes |");
        System.out.println("|---|---:|");
        quietJolInit();
        for (final String cls : new String[] {
            "io.netty.handler.timeout.IdleStateHandler", "io.netty.handler.timeout.IdleStateHandler$ReaderIdleTimeoutTask",
            "io.netty.util.concurrent.ScheduledFutureTask", "io.netty.channel.DefaultChannelHandlerContext",
            "dev.latchwork.jmh.IdleHandlers$LatchworkReadIdle", "dev.latchwork.AsyncTimer", "dev.latchwork.TimerBlock"}) {
            try {
                System.out.printf(Locale.ROOT, "| `%s` | %d |%n", cls, ClassLayout.parseClass(Class.forName(cls)).instanceSize());
            } catch (final ClassNotFoundException | RuntimeException | LinkageError e) {
                System.out.printf(Locale.ROOT, "| `%s` | JOL failed: %s |%n", cls, e);
            }
        }
        System.out.println();
        System.out.flush();
        System.exit(0);
    }

    /** @return heap per channel with {@code impl}'s handler (null: the sink alone), after full GCs */
    private static double perChannel(final String impl, final int n) throws InterruptedException {
        final List<EmbeddedChannel> channels = new ArrayList<>(n);
        final IdleHandlers handlers = impl == null ? null : new IdleHandlers(impl);
        try {
            final long before = usedAfterGc();
            for (int i = 0; i < n; i++) {
                final EmbeddedChannel ch = handlers == null
                    ? EmbeddedChannel.builder().ticker(Ticker.systemTicker()).handlers(IdleHandlers.Sink.INSTANCE).build()
                    : IdleHandlers.channel(handlers.newHandler());
                ch.eventLoop().schedule(() -> { }, 1, TimeUnit.HOURS).cancel(false); // the loop's queue, in every row
                channels.add(ch);
            }
            if (handlers != null) {
                handlers.settle(); // every timer applied (latchwork: on the wheel)
            }
            final long after = usedAfterGc();
            final double per = (after - before) / (double) n;
            if (channels.size() != n) {
                throw new IllegalStateException();
            }
            return per;
        } finally {
            for (final EmbeddedChannel ch : channels) {
                ch.finishAndReleaseAll();
            }
            if (handlers != null) {
                handlers.close();
            }
        }
    }

    /** JOL prints an attach warning on first use; keep it out of the markdown (as LatencyMain does). */
    private static void quietJolInit() {
        final java.io.PrintStream out = System.out;
        final java.io.PrintStream err = System.err;
        final java.io.PrintStream sink = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
        System.setOut(sink);
        System.setErr(sink);
        try {
            org.openjdk.jol.vm.VM.current();
        } catch (final RuntimeException | LinkageError e) {
            // reported per class
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static long usedAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
