package dev.latchwork;

/**
 * The hooks around a callback invocation: the stuck-callback {@link Watchdog}'s tracking and the
 * JFR events of {@link Flight}. Called by {@link TimerBlock} and {@link WorkBlock} right around
 * the user's callback, never from a caller's hot path.
 *
 * <h2>Implementation notes</h2>
 * {@code begin} answers a token that {@code end} needs, or null when there is nothing to end; so a
 * runtime without a watchdog, with no recording on, pays a field read, the JFR enabled checks
 * (inlined reads, see {@link Flight}) and a null test per callback, and allocates nothing. With the
 * watchdog on and JFR off the token is {@link #TRACKED} (no allocation either); only an enabled
 * slow-callback event allocates its event object. Neither method throws: a failure here (an
 * OutOfMemoryError) must not cost the callback or leave it tracked.
 */
final class Probes {
    /** The token of a callback tracked by the watchdog, with no JFR event to end. */
    static final Object TRACKED = new Object();

    private Probes() {
    }

    /**
     * A timer's callback is about to run: it was due at {@code due} on the clock of the block's
     * current target.
     *
     * @return the token for {@link #end}, or null
     */
    static Object beginTimer(final TimerBlock b, final long due) {
        final Flight fl = Flight.SINK;
        if (fl.timerFiredOn()) {
            try {
                final long late = b.nowOn(b.wall) - due;
                fl.timerFired(b, late < 0 ? 0 : late);
            } catch (final Throwable ignored) {
                // JFR must not cost the callback
            }
        }
        return begin(b);
    }

    /**
     * A callback of {@code b} is about to run.
     *
     * @return the token for {@link #end}, or null
     */
    static Object begin(final ControlBlock b) {
        Object token = null;
        try {
            if (b.runtime.watchdog != null && Watchdog.track(b)) {
                token = TRACKED;
            }
            final Object ev = Flight.SINK.slowBegin();
            if (ev != null) {
                token = ev;
            }
        } catch (final Throwable ignored) {
            // an OutOfMemoryError from JFR: the callback runs untracked by it
        }
        return token;
    }

    /** The callback that {@link #begin} answered {@code token} (not null) for has returned or thrown. */
    static void end(final ControlBlock b, final Object token) {
        try {
            if (b.runtime.watchdog != null) {
                Watchdog.untrack(b);
            }
            if (token != TRACKED) {
                Flight.SINK.slowEnd(token, b);
            }
        } catch (final Throwable ignored) {
            // JFR must not cost the callback
        }
    }
}
