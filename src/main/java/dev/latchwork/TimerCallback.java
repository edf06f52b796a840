package dev.latchwork;

/**
 * A timer's callback. Runs on the timer backend's thread; must not block for long.
 * It may call {@code start} on its own timer (periodic timers re-arm themselves, as in the
 * kernel), {@code setCallback}, {@code close} and {@code cancelAsync}; {@code cancel()} on its
 * own timer answers {@link AsyncStatus#DEADLOCK}. An exception goes to the runtime's error
 * handler and is counted; the timer stays usable.
 *
 * @param <T> the owner type
 */
@FunctionalInterface
public interface TimerCallback<T> {
    /**
     * Called when the timer fires.
     *
     * @param owner the object the timer was initialized with
     * @param timer the timer that fired
     * @throws Exception reported to the runtime's error handler
     */
    void onTimer(T owner, AsyncTimer<T> timer) throws Exception;
}
