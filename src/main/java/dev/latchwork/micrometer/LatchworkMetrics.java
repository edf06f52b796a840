package dev.latchwork.micrometer;

import dev.latchwork.AsyncRuntime;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Binds an {@link AsyncRuntime}'s counters to a Micrometer {@link MeterRegistry}: the cumulative
 * ones as {@link FunctionCounter}s, the current levels as {@link Gauge}s, each tagged
 * {@code runtime=}{@link AsyncRuntime#name()} plus any tags given here.
 *
 * <pre>{@code
 * AsyncRuntime rt = AsyncRuntime.builder().name("sessions").build();
 * new LatchworkMetrics(rt).bindTo(registry);
 * }</pre>
 *
 * <table>
 * <caption>Meters</caption>
 * <tr><th>name</th><th>type</th><th>reads</th></tr>
 * <tr><td>{@code latchwork.commands.published}</td><td>counter</td><td>{@link AsyncRuntime#commandsPublished()}</td></tr>
 * <tr><td>{@code latchwork.commands.superseded}</td><td>counter</td><td>{@link AsyncRuntime#commandsSuperseded()}</td></tr>
 * <tr><td>{@code latchwork.commands.dropped}</td><td>counter</td><td>{@link AsyncRuntime#commandsDropped()}</td></tr>
 * <tr><td>{@code latchwork.commands.busy}</td><td>counter</td><td>{@link AsyncRuntime#busyAnswers()}</td></tr>
 * <tr><td>{@code latchwork.drains}</td><td>counter</td><td>{@link AsyncRuntime#drains()}</td></tr>
 * <tr><td>{@code latchwork.timers.fired}</td><td>counter</td><td>{@link AsyncRuntime#timersFired()}</td></tr>
 * <tr><td>{@code latchwork.work.runs}</td><td>counter</td><td>{@link AsyncRuntime#workRuns()}</td></tr>
 * <tr><td>{@code latchwork.callbacks.errors}</td><td>counter</td><td>{@link AsyncRuntime#callbackErrors()}</td></tr>
 * <tr><td>{@code latchwork.callbacks.stuck}</td><td>counter</td><td>{@link AsyncRuntime#stuckCallbacks()}</td></tr>
 * <tr><td>{@code latchwork.blocks.live}</td><td>gauge</td><td>{@link AsyncRuntime#controlBlocksLive()}</td></tr>
 * <tr><td>{@code latchwork.timers.armed}</td><td>gauge</td><td>{@link AsyncRuntime#timersArmed()}</td></tr>
 * <tr><td>{@code latchwork.drains.pending}</td><td>gauge</td><td>{@link AsyncRuntime#drainsPending()}</td></tr>
 * </table>
 * <p>
 * The meters read the runtime when the registry publishes (each read is allocation-free and
 * lock-free, see the accessors), not on latchwork's paths: binding costs the runtime nothing.
 * Micrometer holds the runtime weakly: a runtime that is dropped reads as NaN. After
 * {@link AsyncRuntime#close()} the counters keep their last values. Remove the meters yourself
 * (by the {@code runtime} tag) if runtimes come and go. {@code drainsPending} walks the runtime's
 * queue (O(cells queued)) on each read.
 */
public final class LatchworkMetrics implements MeterBinder {
    private final AsyncRuntime runtime;
    private final Iterable<Tag> tags;

    /**
     * Meters for {@code runtime}, tagged with its name only.
     *
     * @param runtime the runtime to expose
     */
    public LatchworkMetrics(final AsyncRuntime runtime) {
        this(runtime, Tags.empty());
    }

    /**
     * Meters for {@code runtime}, tagged with its name and {@code tags}.
     *
     * @param runtime the runtime to expose
     * @param tags    more tags for every meter (a {@code runtime} tag here replaces the name)
     */
    public LatchworkMetrics(final AsyncRuntime runtime, final Iterable<Tag> tags) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.tags = Tags.of("runtime", runtime.name()).and(Objects.requireNonNull(tags, "tags"));
    }

    @Override
    public void bindTo(final MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        counter(registry, "latchwork.commands.published", "Commands published by start, startAt, cancelAsync and cancel",
            AsyncRuntime::commandsPublished);
        counter(registry, "latchwork.commands.superseded", "Commands coalesced before they took effect",
            AsyncRuntime::commandsSuperseded);
        counter(registry, "latchwork.commands.dropped", "Commands never applied (block died or runtime closed)",
            AsyncRuntime::commandsDropped);
        counter(registry, "latchwork.commands.busy", "BUSY answers given to publishers", AsyncRuntime::busyAnswers);
        counter(registry, "latchwork.drains", "Drain passes run over control blocks", AsyncRuntime::drains);
        counter(registry, "latchwork.timers.fired", "Timer callbacks invoked", AsyncRuntime::timersFired);
        counter(registry, "latchwork.work.runs", "Work callbacks invoked", AsyncRuntime::workRuns);
        counter(registry, "latchwork.callbacks.errors", "Callback exceptions and backend failures reported",
            AsyncRuntime::callbackErrors);
        counter(registry, "latchwork.callbacks.stuck", "Callbacks reported stuck by the watchdog",
            AsyncRuntime::stuckCallbacks);
        gauge(registry, "latchwork.blocks.live", "Control blocks initialized and not yet dead",
            AsyncRuntime::controlBlocksLive);
        gauge(registry, "latchwork.timers.armed", "Timers armed on the backend", AsyncRuntime::timersArmed);
        gauge(registry, "latchwork.drains.pending", "Control blocks queued for a drain", AsyncRuntime::drainsPending);
    }

    private void counter(final MeterRegistry registry, final String name, final String description,
                         final ToDoubleFunction<AsyncRuntime> f) {
        FunctionCounter.builder(name, runtime, f).description(description).tags(tags).register(registry);
    }

    private void gauge(final MeterRegistry registry, final String name, final String description,
                       final ToDoubleFunction<AsyncRuntime> f) {
        Gauge.builder(name, runtime, f).description(description).tags(tags).register(registry);
    }
}
