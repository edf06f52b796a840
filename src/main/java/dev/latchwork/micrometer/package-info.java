/**
 * Optional integration with Micrometer: {@link dev.latchwork.micrometer.LatchworkMetrics}, a
 * {@code MeterBinder} that exposes a runtime's counters as function counters and gauges tagged
 * with the runtime's name. Only this package needs Micrometer: the module reads it with
 * {@code requires static micrometer.core}, and the Maven dependency is optional, so add
 * {@code io.micrometer:micrometer-core} (1.16 or later) to your own build to use it.
 */
package dev.latchwork.micrometer;
