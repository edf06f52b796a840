/**
 * Optional integration with Agrona and Aeron: a {@link dev.latchwork.DispatchMode#HOST_DRIVEN}
 * runtime as an Agrona {@code Agent} ({@link dev.latchwork.agrona.LatchworkAgent}) and Agrona
 * {@code IdleStrategy} instances as the dispatcher's idle strategy
 * ({@link dev.latchwork.agrona.AgronaIdle}). Only this package needs Agrona: the module reads it
 * with {@code requires static org.agrona}, and the Maven dependency is optional, so add
 * {@code org.agrona:agrona} to your own build to use it. Neither class touches Agrona's
 * {@code Unsafe}-based classes, so no {@code --add-exports} flag is needed.
 */
package dev.latchwork.agrona;
