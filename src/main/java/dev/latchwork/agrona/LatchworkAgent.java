package dev.latchwork.agrona;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.DispatchMode;
import java.util.Objects;
import org.agrona.concurrent.Agent;

/**
 * A {@link DispatchMode#HOST_DRIVEN} runtime as an Agrona {@link Agent}, so that an Agrona or
 * Aeron application runs latchwork's commands and timer callbacks on its own duty cycle: alone on
 * an {@code AgentRunner}, polled by an {@code AgentInvoker}, or beside other agents in a
 * {@code CompositeAgent}. Each {@link #doWork()} is one {@link AsyncRuntime#drain()}: it applies
 * queued commands and fires the timers that are due, on the agent's thread.
 * <p>
 * Pair it with an idle strategy that wakes often enough for your timers' resolution (the agent's
 * idle strategy decides how long the thread waits when {@code doWork()} returns 0; a
 * {@code BackoffIdleStrategy} with a 1 ms maximum park fires timers at most about 1 ms late), or
 * use {@link AsyncRuntime#nanosUntilDue()} in a duty cycle of your own.
 */
public final class LatchworkAgent implements Agent {
    private final AsyncRuntime runtime;
    private final String roleName;
    private final boolean closeRuntimeOnClose;

    /**
     * An agent named {@code "latchwork"} that closes the runtime in {@link #onClose()}.
     *
     * @param runtime a runtime built with {@link DispatchMode#HOST_DRIVEN}
     * @throws NullPointerException     if {@code runtime} is null
     * @throws IllegalArgumentException if the runtime is not {@link DispatchMode#HOST_DRIVEN}
     */
    public LatchworkAgent(final AsyncRuntime runtime) {
        this(runtime, "latchwork", true);
    }

    /**
     * An agent over {@code runtime}.
     *
     * @param runtime             a runtime built with {@link DispatchMode#HOST_DRIVEN}
     * @param roleName            the agent's role name (used by Agrona for thread names and errors)
     * @param closeRuntimeOnClose whether {@link #onClose()} closes the runtime; false when the
     *                            runtime outlives the agent (you close it yourself)
     * @throws NullPointerException     if {@code runtime} or {@code roleName} is null
     * @throws IllegalArgumentException if the runtime is not {@link DispatchMode#HOST_DRIVEN}
     */
    public LatchworkAgent(final AsyncRuntime runtime, final String roleName, final boolean closeRuntimeOnClose) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.roleName = Objects.requireNonNull(roleName, "roleName");
        if (runtime.dispatchMode() != DispatchMode.HOST_DRIVEN) {
            throw new IllegalArgumentException("the runtime must be HOST_DRIVEN, was " + runtime.dispatchMode());
        }
        this.closeRuntimeOnClose = closeRuntimeOnClose;
    }

    /**
     * One duty-cycle step: {@link AsyncRuntime#drain()}. Allocation-free unless the backend must
     * be called; 0 once the runtime is closed.
     *
     * @return the work done (control blocks drained plus timers fired); 0 when idle
     */
    @Override
    public int doWork() {
        return runtime.drain();
    }

    /** Closes the runtime if this agent was built to (see the constructor). */
    @Override
    public void onClose() {
        if (closeRuntimeOnClose) {
            runtime.close();
        }
    }

    /**
     * The agent's role name.
     *
     * @return the role name given at construction ({@code "latchwork"} by default)
     */
    @Override
    public String roleName() {
        return roleName;
    }

    /**
     * The runtime this agent drains.
     *
     * @return the runtime
     */
    public AsyncRuntime runtime() {
        return runtime;
    }

    /**
     * Whether {@link #onClose()} closes the runtime.
     *
     * @return true if the agent owns the runtime's lifetime
     */
    public boolean closesRuntimeOnClose() {
        return closeRuntimeOnClose;
    }

    @Override
    public String toString() {
        return "LatchworkAgent(" + roleName + ", " + runtime.dispatchMode() + ", closesRuntime=" + closeRuntimeOnClose + ")";
    }
}
