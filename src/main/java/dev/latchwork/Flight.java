package dev.latchwork;

/**
 * Where the runtime reports to JDK Flight Recorder. This base class does nothing; when the
 * {@code jdk.jfr} module is present and Flight Recorder is available, {@link #SINK} is a
 * {@link FlightJfr}, the only subclass, which emits the events of docs/OBSERVABILITY.md.
 *
 * <h2>Implementation notes</h2>
 * <b>No JFR class without {@code jdk.jfr}.</b> The module reads {@code jdk.jfr} with
 * {@code requires static}: an application {@code jlink}ed without it must never load a JFR type.
 * So no class but {@link FlightJfr} names one, and {@link FlightJfr} is loaded reflectively, once,
 * after the module was found in the boot layer. Every other class calls the methods below on
 * {@link #SINK}, a static final of this type.
 * <p>
 * <b>Cost when no recording is on.</b> Only one class of sink is ever loaded, so the JIT inlines
 * these calls (class hierarchy analysis): without {@code jdk.jfr} they are empty; with it, each
 * {@code ...On()} is one read of the event class's enabled flag (JFR's own {@code isEnabled()} on
 * a probe instance that is never committed), and no event object is allocated unless the event is
 * enabled in a running recording. The callers' hot paths ({@code start}, {@code cancelAsync},
 * {@code close}) never reach this class; only the fire path, the callback path, the dispatcher's
 * wheel advance and error reporting do.
 */
class Flight {
    /** The sink of this JVM: a {@link FlightJfr} when JFR can be used, else a no-op. */
    static final Flight SINK = load();

    Flight() {
    }

    private static Flight load() {
        try {
            final java.util.Optional<Module> jfr = ModuleLayer.boot().findModule("jdk.jfr");
            if (jfr.isEmpty()) {
                return new Flight();
            }
            final Module self = Flight.class.getModule();
            if (!self.canRead(jfr.get())) {
                self.addReads(jfr.get()); // a named module that required it statically, resolved without it
            }
            final Flight f = (Flight) Class.forName("dev.latchwork.FlightJfr", true, Flight.class.getClassLoader())
                .getDeclaredConstructor().newInstance();
            return f.available() ? f : new Flight();
        } catch (final Throwable t) { // LinkageError, SecurityException, JFR disabled (-XX:-FlightRecorder)...
            return new Flight();
        }
    }

    /** @return true if Flight Recorder can record in this JVM */
    boolean available() {
        return false;
    }

    /** @return true if the timer-fired event is enabled in a running recording */
    boolean timerFiredOn() {
        return false;
    }

    /** A timer is about to run its callback, {@code latenessNanos} after its deadline. */
    void timerFired(final TimerBlock b, final long latenessNanos) {
    }

    /**
     * A callback is about to run.
     *
     * @return an event to hand to {@link #slowEnd}, or null when the slow-callback event is off
     */
    Object slowBegin() {
        return null;
    }

    /** The callback that {@link #slowBegin} saw begin has returned (or thrown). */
    void slowEnd(final Object event, final ControlBlock b) {
    }

    /** An error went to the error handler. */
    void error(final AsyncRuntime rt, final Throwable t) {
    }

    /**
     * The owner of a wheel advanced it: {@code latenessNanos} after its due time, handling
     * {@code handled} blocks, stopped by its budget if {@code budgetHit}. Reports it if the round
     * fell behind.
     */
    void wheelAdvanced(final AsyncRuntime rt, final long latenessNanos, final int handled, final boolean budgetHit) {
    }

    /** A round of the queue drained its limit of blocks: more were waiting. */
    void roundFull(final AsyncRuntime rt, final int drained) {
    }

    /** The watchdog reported a stuck callback. */
    void stuck(final StuckCallbackException e, final Thread thread) {
    }

    /**
     * Lists {@code rt} for the periodic runtime-statistics event (until {@link #unregister}).
     *
     * @return what to hand to {@link #unregister}, or null
     */
    Object register(final AsyncRuntime rt) {
        return null;
    }

    /** Undoes {@link #register}; null is ignored. */
    void unregister(final Object hook) {
    }
}
