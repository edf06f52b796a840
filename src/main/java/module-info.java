/**
 * latchwork: lock-free, allocation-free async timers and work items for JVM hot paths.
 * Only {@code dev.latchwork} is exported; everything else is package-private.
 */
module dev.latchwork {
    requires org.agrona;
    exports dev.latchwork;
}
