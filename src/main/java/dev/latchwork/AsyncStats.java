package dev.latchwork;

/**
 * An immutable snapshot of a runtime's counters. Counters are striped or owned by the drain,
 * never a contended atomic on the hot path, so a snapshot taken while traffic runs is a
 * consistent-enough estimate rather than an atomic cut.
 *
 * @param commandsPublished  commands published by {@code start}/{@code cancelAsync}/{@code cancel}
 *                           (counted when a drain claims them, or drops them on close)
 * @param commandsSuperseded commands coalesced before they took effect (a later one won)
 * @param busy               {@link AsyncStatus#BUSY} answers to publishers
 * @param drains             drain passes run over control blocks
 * @param timersFired        timer callbacks invoked
 * @param workRuns           work callbacks invoked
 * @param callbackErrors     callbacks (and backend submissions) that threw
 * @param controlBlocksLive  control blocks initialized and not yet dead
 * @param timersArmed        timers armed on the backend right now
 * @param drainsPending      control blocks queued for a drain right now (counted by walking the
 *                           queue at snapshot time: exact when no thread publishes or drains)
 * @param commandsDropped    commands never applied because their block died or the runtime closed
 */
public record AsyncStats(
    long commandsPublished,
    long commandsSuperseded,
    long busy,
    long drains,
    long timersFired,
    long workRuns,
    long callbackErrors,
    long controlBlocksLive,
    long timersArmed,
    long drainsPending,
    long commandsDropped) {
}
