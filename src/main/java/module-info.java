/**
 * latchwork: lock-free, allocation-free async timers and work items for JVM hot paths.
 * <p>
 * The core, package {@code dev.latchwork}, needs no module but {@code java.base} at run time, so
 * an application that uses it {@code jlink}s with {@code dev.latchwork} alone. The optional
 * package {@code dev.latchwork.agrona} adapts latchwork to Agrona ({@code Agent},
 * {@code IdleStrategy}); it needs {@code org.agrona} only when it is used. The optional package
 * {@code dev.latchwork.micrometer} binds a runtime's counters to a Micrometer registry; it needs
 * {@code micrometer.core} only when it is used. JDK Flight Recorder events (docs/OBSERVABILITY.md)
 * are emitted when the {@code jdk.jfr} module is in the boot layer (a full JDK resolves it; a
 * {@code jlink}ed image needs {@code --add-modules jdk.jfr}) and are skipped otherwise.
 */
module dev.latchwork {
    requires static org.agrona;
    requires static jdk.jfr;
    requires static micrometer.core;
    exports dev.latchwork;
    exports dev.latchwork.agrona;
    exports dev.latchwork.micrometer;
}
