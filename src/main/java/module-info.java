/**
 * latchwork: lock-free, allocation-free async timers and work items for JVM hot paths.
 * <p>
 * The core, package {@code dev.latchwork}, needs no module but {@code java.base} at run time, so
 * an application that uses it {@code jlink}s with {@code dev.latchwork} alone. The optional
 * package {@code dev.latchwork.agrona} adapts latchwork to Agrona ({@code Agent},
 * {@code IdleStrategy}); it needs {@code org.agrona} only when it is used. JDK Flight Recorder events are emitted when the
 * {@code jdk.jfr} module is in the boot layer (always on the class path; on the module path, when
 * something requires it or {@code --add-modules jdk.jfr} is given) and are skipped otherwise.
 */
module dev.latchwork {
    requires static org.agrona;
    requires static jdk.jfr;
    exports dev.latchwork;
    exports dev.latchwork.agrona;
}
