package dev.latchwork;

/**
 * A work item's callback. Runs on the work executor and may block (see
 * {@link AsyncRuntime.Builder#workExecutor(java.util.concurrent.Executor)} for sizing). Never
 * runs on two threads at once for the same cell. An exception goes to the runtime's error handler
 * and is counted; the work item stays usable.
 *
 * @param <T> the owner type
 */
@FunctionalInterface
public interface WorkCallback<T> {
    /**
     * Runs the work.
     *
     * @param owner the object the work item was initialized with
     * @param work  the work item
     * @throws Exception reported to the runtime's error handler
     */
    void run(T owner, AsyncWork<T> work) throws Exception;
}
