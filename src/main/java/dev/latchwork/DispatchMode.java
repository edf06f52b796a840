package dev.latchwork;

/** Where a published command is applied to the backend. */
public enum DispatchMode {
    /**
     * Every command goes through the runtime's dispatcher thread. Callers never block, never lock,
     * never unpark (unless {@link AsyncRuntime.Builder#wakeDispatcherOnCommand(boolean)}).
     */
    DEFERRED,
    /**
     * The calling thread applies its command itself when no other thread is applying one for that
     * cell (the kernel's non-NMI path). Lowest latency; callers may take the backend's locks.
     */
    INLINE,
    /**
     * As {@link #DEFERRED}, but there is no dispatcher thread: the user's own duty cycle calls
     * {@link AsyncRuntime#drain()} (like Agrona's {@code AgentInvoker}).
     */
    HOST_DRIVEN
}
