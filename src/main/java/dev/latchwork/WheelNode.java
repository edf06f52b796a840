package dev.latchwork;

/**
 * A node of a {@link TimerWheel}: the wheel links it into its buckets through two plain fields,
 * so filing, relinking and unlinking allocate nothing.
 * <p>
 * <b>Not thread safe</b>: {@link #wheelPrev} and {@link #wheelNext} are read and written only by
 * the thread that owns the wheel (plain accesses, no fences). A node belongs to at most one
 * wheel at a time.
 *
 * <h2>Implementation notes</h2>
 *
 * The node adds exactly two reference fields to {@link BlockQueue.Node} (8 bytes with
 * compressed oops), so a control block that extends it stays within its 128-byte budget. It
 * stores neither a slot index nor a copy of its deadline: the wheel's per-bucket sentinels
 * ({@link TimerWheel.Bucket}) carry the bucket's level and slot, and the deadline is asked for
 * through {@link #wheelDeadline()} whenever the wheel needs it.
 * <p>
 * {@code wheelNext == null} means "not filed"; a filed node is on a circular doubly linked list
 * that contains exactly one sentinel. {@link #wheelDeadline()} may change while the node is
 * filed:
 * <ul>
 * <li>to a <em>later</em> time without telling the wheel (Jetty's {@code CyclicTimeout} trick):
 * the node stays in its earlier bucket and is re-filed when that bucket comes due;</li>
 * <li>to {@code Long.MAX_VALUE} ("never") without telling the wheel: the node is dropped
 * (unlinked, not handed over) when its bucket comes due;</li>
 * <li>to an <em>earlier</em> time only if the owner then calls {@link TimerWheel#schedule}
 * (a relink); otherwise the node could be handed over late.</li>
 * </ul>
 */
abstract class WheelNode extends BlockQueue.Node {

    /** Previous node on the wheel list this node is filed on; null when not filed. Owner thread only. */
    WheelNode wheelPrev;
    /** Next node on the wheel list this node is filed on; null when not filed. Owner thread only. */
    WheelNode wheelNext;

    /**
     * The node's current exact deadline on the wheel's time scale (nanoseconds, same origin as
     * the {@code now} values given to the wheel); {@code Long.MAX_VALUE} means never. Called only
     * by the wheel's owner thread; must be cheap and must not touch the wheel.
     */
    abstract long wheelDeadline();
}
