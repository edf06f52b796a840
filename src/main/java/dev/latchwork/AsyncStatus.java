package dev.latchwork;

/**
 * The {@code int} results of every latchwork operation.
 * <p>
 * Hot-path operations never throw: they answer one of these codes. {@link #OK} and
 * {@link #WAS_PENDING} are successes; every other value is negative, so {@code status < 0}
 * (or {@link #isError(int)}) is the cheap error test.
 *
 * <table>
 *   <caption>Codes and their Linux {@code bpf_timer} counterparts</caption>
 *   <tr><th>code</th><th>kernel</th><th>meaning</th></tr>
 *   <tr><td>{@link #OK}</td><td>0</td><td>done, or command published</td></tr>
 *   <tr><td>{@link #WAS_PENDING}</td><td>1</td><td>sync cancel found the timer armed / the work queued</td></tr>
 *   <tr><td>{@link #BUSY}</td><td>-EBUSY</td><td>already initialized; or another command on the cell was being
 *       published at the same instant, and it stands (a start is superseded by it; a
 *       {@code cancelAsync} lost to it, so the cell may still be armed): see {@link #BUSY}</td></tr>
 *   <tr><td>{@link #NOT_INITIALIZED}</td><td>-EINVAL</td><td>the cell has no control block: never initialized, or
 *       closed (then {@code init} may be called again at once)</td></tr>
 *   <tr><td>{@link #NO_CALLBACK}</td><td>-EINVAL</td><td>start without a callback</td></tr>
 *   <tr><td>{@link #DEAD}</td><td>-ENOENT</td><td>the control block is being closed; it never arms again</td></tr>
 *   <tr><td>{@link #CLOSED}</td><td>-EPERM</td><td>the runtime is closed</td></tr>
 *   <tr><td>{@link #DEADLOCK}</td><td>-EDEADLK</td><td>a sync cancel would wait for itself or for a cycle</td></tr>
 *   <tr><td>{@link #INVALID_ARGUMENT}</td><td>-EINVAL</td><td>null, or a negative delay</td></tr>
 * </table>
 */
public final class AsyncStatus {
    /** Success. */
    public static final int OK = 0;
    /** Success of a synchronous cancel that found something pending. */
    public static final int WAS_PENDING = 1;
    /**
     * Another thread got there first; what it did stands. What that means depends on the
     * operation:
     * <ul>
     *   <li>{@code init}: the cell is already initialized, or a concurrent {@code init} won. The
     *       cell is usable; close it first to re-initialize it.</li>
     *   <li>{@code start}, {@code startAt} (timer) and {@code start} (work): another command on
     *       the same cell was being published at that instant, after a short bounded spin. Your
     *       start is treated as superseded by that command (last command wins): if it was a
     *       start, the cell is armed by it; if it was a cancel, the cell stays cancelled. Retry if
     *       your deadline must win.</li>
     *   <li>{@code cancelAsync}: your cancel lost to a concurrent command, which stands: if that
     *       was a start, the cell <em>is</em> armed. Retry (or use the synchronous
     *       {@code cancel()}, which never answers BUSY) if the cell must end up cancelled.</li>
     * </ul>
     * {@code setCallback}, {@code cancel()} and {@code close()} never answer it.
     */
    public static final int BUSY = -1;
    /**
     * The cell has no control block: it was never initialized, or it has been closed
     * ({@code close()} detaches the block at once). After a close, every operation on the cell
     * answers this until the next {@code init}, which may be called at once and starts from a
     * fresh block; a second {@code close()} answers it too (there was nothing left to close, or a
     * concurrent close won). Closing the <em>runtime</em> does not detach cells: they answer
     * {@link #CLOSED} until they are closed, then this.
     */
    public static final int NOT_INITIALIZED = -2;
    /** {@code start} without a callback (never set, or cleared by a sync {@code cancel}). */
    public static final int NO_CALLBACK = -3;
    /** The control block is being closed (its refcount reached, or is about to reach, zero). */
    public static final int DEAD = -4;
    /** The runtime is closed. */
    public static final int CLOSED = -5;
    /** A synchronous cancel from the cell's own callback, or a mutual cancel between callbacks. */
    public static final int DEADLOCK = -6;
    /** A null argument or a negative delay. */
    public static final int INVALID_ARGUMENT = -7;

    private AsyncStatus() {
    }

    /**
     * The name of a status, for logs.
     *
     * @param status a status returned by latchwork
     * @return its constant's name, or {@code "UNKNOWN(n)"}
     */
    public static String name(final int status) {
        switch (status) {
            case OK: return "OK";
            case WAS_PENDING: return "WAS_PENDING";
            case BUSY: return "BUSY";
            case NOT_INITIALIZED: return "NOT_INITIALIZED";
            case NO_CALLBACK: return "NO_CALLBACK";
            case DEAD: return "DEAD";
            case CLOSED: return "CLOSED";
            case DEADLOCK: return "DEADLOCK";
            case INVALID_ARGUMENT: return "INVALID_ARGUMENT";
            default: return "UNKNOWN(" + status + ")";
        }
    }

    /**
     * Whether a status is a failure.
     *
     * @param status a status returned by latchwork
     * @return true for every failure code (all are negative)
     */
    public static boolean isError(final int status) {
        return status < 0;
    }
}
