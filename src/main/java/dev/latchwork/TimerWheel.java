package dev.latchwork;

/**
 * An intrusive, hierarchical (cascading) timer wheel of {@link WheelNode}s with power-of-two
 * geometry, occupancy bitmaps and a budgeted, re-entrant expiry walk.
 * <p>
 * <b>Not thread safe</b>: every method must be called by the single thread that owns the wheel
 * (no locks, no volatile, no atomics). <b>Allocation-free after construction</b>: filing,
 * unlinking, advancing and {@link #nextDue()} allocate nothing; the only arrays are fixed at
 * construction (about {@code levels * slots} bucket sentinels plus the bitmaps; 512 sentinels,
 * roughly 16 KB, for the default 64 slots at a 2^17 ns tick).
 *
 * <h2>Contract</h2>
 * <ul>
 * <li><b>Never early</b>: a node is handed to {@link Expiry#expired} only when its exact
 * {@link WheelNode#wheelDeadline()} is {@code <= now}; the deadline is re-read at every
 * hand-over.</li>
 * <li><b>Lateness</b>: a node is handed over at the first {@link #advance} whose {@code now} is
 * at or past its deadline rounded up to a tick boundary of the wheel (ticks are counted from the
 * origin given to the constructor), or at the first {@code advance} after it was filed if its
 * deadline was already {@code <=} {@link #now()} when it was filed; provided the budget suffices.
 * Nodes filed at higher levels cascade, so this holds at every level.</li>
 * <li><b>Never lost</b>: with a budget {@code >= size()}, one {@code advance(now)} hands over
 * every node due by the rule above, except nodes filed by callbacks during that very call with
 * a deadline {@code <= now}: those wait for the next {@code advance} (no loop on a callback that
 * re-arms itself into the past).</li>
 * <li>Hand-over order among due nodes is unspecified.</li>
 * </ul>
 *
 * <h2>Implementation notes</h2>
 *
 * <p><b>Time.</b> The wheel counts ticks of {@code tick = 2^k} ns from {@code origin} (the
 * constructor's {@code nowNanos}). A deadline {@code d} maps to the tick
 * {@code D = ceil((d - origin) / tick)}, computed on the unsigned 64-bit difference (0 for
 * {@code d <= origin}), so every deadline from {@code Long.MIN_VALUE} to
 * {@code Long.MAX_VALUE - 1} is representable without saturation or overflow, whatever the
 * origin's sign. {@code D} is capped at {@code maxTick}, the tick of {@code Long.MAX_VALUE - 1},
 * so that every bucket start is a representable time; a deadline inside that very last tick is
 * then only "due by bucket" once the clock reaches the last tick, and the exact re-check keeps it
 * from firing early. {@code now} values are clamped to {@code Long.MAX_VALUE - 1}.
 * {@code Long.MAX_VALUE} means never: such a node is never filed (schedule only unlinks it).
 *
 * <p><b>Geometry.</b> {@code slots = 2^b} per level, {@code b} in [4, 12]; {@code levels =
 * ceil((64 - k) / b)} covers every tick count {@code < 2^(64-k)} (2^17 ns and 64 slots give 8
 * levels: a level-0 slot is one tick, 131 µs, a level-0 rotation 8.4 ms, level 1 0.54 s, level
 * 2 34 s, ..., level 7 beyond the 584-year range). Level {@code l}, slot {@code s} is the bucket
 * for ticks whose digit {@code l} (base {@code 2^b}) is {@code s}. Each level has an occupancy
 * bitmap ({@code slots / 64} longs, at least one) plus a one-long summary of its non-zero words,
 * and {@link #nonEmptyLevels} has bit {@code l} set iff level {@code l} has a filed node.
 *
 * <p><b>Placement (tokio/Linux style).</b> {@link #cursor} is the tick up to which every bucket
 * has been processed. A node with {@code D > cursor} is filed at level {@code l = (index of the
 * highest bit of (cursor ^ D)) / b}, the highest base-2^b digit in which {@code D} differs from
 * the cursor, in slot {@code digit_l(D)}. A node with {@code d <= now()} (or, after the cap,
 * {@code D <= cursor}) goes to the {@link #pending} list, which the next {@code advance} hands
 * over first.
 *
 * <p><b>Invariants</b> (checked by {@link #checkIntegrity()}):
 * <ol>
 * <li>Every occupied bucket at level {@code l} has slot {@code s > digit_l(cursor)}; its
 * <em>start</em> is the cursor with digits {@code 0..l} replaced by {@code s, 0, ..., 0}, which
 * is {@code > cursor}. Hence buckets never wrap and the earliest occupied bucket of a level is
 * simply its lowest set bit (no rotation needed).</li>
 * <li>Any occupied bucket of level {@code l} starts before any occupied bucket of a level
 * {@code > l} (it lies inside the cursor's current level-{@code l+1} slot). So the earliest
 * occupied bucket overall is the lowest set bit of the lowest non-empty level: {@link #nextDue()}
 * and the expiry walk find it in O(1) (three {@code numberOfTrailingZeros}).</li>
 * <li>A filed node's bucket starts no later than its deadline's tick {@code D} (the rounding is
 * up, a later re-arm only moves {@code D} later, and an earlier one relinks).</li>
 * <li>A bucket's occupancy bit is set iff its list is non-empty; an unlink that leaves the
 * list as {@code prev == next == sentinel} clears it.</li>
 * </ol>
 *
 * <p><b>Advance.</b> {@code advance(now)} sets {@code target = floor((now - origin) / tick)},
 * appends the {@link #pending} list to the {@link #processing} list, and then repeats: if the
 * processing list is non-empty, take its <em>current head</em>, unlink it and handle it (deadline
 * never: drop; {@code <= now}: hand over; later: re-file, which cascades it to a lower level or
 * to a later bucket); otherwise take the earliest occupied bucket; if it starts at or before
 * {@code target}, move the cursor to its start and splice its whole chain onto the processing
 * list in O(1); else move the cursor to {@code target} and stop. Moving the cursor to the
 * earliest bucket start keeps invariants 1 and 2 (no other bucket is skipped) and never moves it
 * back. A node whose tick is already {@code <= target} is handed over directly rather than
 * cascaded. Empty stretches cost nothing: a 10 s jump over an empty wheel is O(1).
 *
 * <p><b>Re-entrancy.</b> Callbacks may call {@link #schedule}, {@link #remove} and
 * {@link #clear} on any node, including the one being handed over and nodes still on the
 * processing list: the walk never holds a reference across a callback except the wheel's own
 * sentinels, and the processing list is an ordinary sentinel list, so an unlink from it works as
 * usual. A node filed by a callback into a bucket that starts at or before {@code target} is
 * processed later in the same call (the cursor only moves forward, so this terminates); one
 * filed into the past goes to {@link #pending} and waits for the next call. {@code advance}
 * itself must not be called from a callback ({@link IllegalStateException}).
 *
 * <p><b>Budget and throwing callbacks.</b> {@code advance} stops after {@code budget} nodes
 * handled (handed over, re-filed or dropped); the rest stays on the processing list or in
 * buckets that start at or before the last {@code now}, and {@link #nextDue()} then answers a
 * time {@code <=} {@link #now()}, so the owner calls again. An exception thrown by
 * {@link Expiry#expired} is not caught: the node was unlinked before the call and every field
 * of the wheel is consistent whenever a callback runs, so the exception propagates and the next
 * {@code advance} resumes with the remaining nodes (the handled count of the aborted call is
 * lost).
 */
final class TimerWheel {

    /** Receives the nodes handed over by {@link #advance} (or dropped by {@link #clear}). */
    interface Expiry {
        /**
         * @param n   the node, already unlinked (it may be re-filed from here)
         * @param now the time given to {@code advance} (clamped to {@code Long.MAX_VALUE - 1})
         */
        void expired(WheelNode n, long now);
    }

    /** A list sentinel: a bucket ({@code level >= 0}) or one of the wheel's own lists ({@code < 0}). */
    static final class Bucket extends WheelNode {
        final int level;
        final int slot;

        Bucket(final int level, final int slot) {
            this.level = level;
            this.slot = slot;
            wheelPrev = this;
            wheelNext = this;
        }

        @Override
        long wheelDeadline() {
            return Long.MAX_VALUE;
        }
    }

    /** Deadline value meaning "never". */
    static final long NEVER = Long.MAX_VALUE;
    /** Smallest tick: 2^10 ns (about 1 µs); smaller requests are rounded up to it. */
    static final int MIN_TICK_SHIFT = 10;
    /** Largest tick: 2^30 ns (about 1.07 s); larger requests are clamped down to it. */
    static final int MAX_TICK_SHIFT = 30;
    static final int MIN_SLOTS = 16;
    static final int MAX_SLOTS = 4096;

    private final int tickShift;
    private final long tickMask;
    private final int slotBits;
    private final int slotMask;
    private final int levels;
    private final int wordsPerLevel;
    private final long origin;
    /** The tick of {@code Long.MAX_VALUE - 1}: no deadline tick and no cursor goes beyond it. */
    private final long maxTick;
    /** Level of a bucket for each index of the highest bit of {@code cursor ^ D}. */
    private final byte[] levelOfBit = new byte[64];
    /** {@code level << slotBits | slot}. */
    private final Bucket[] buckets;
    /** Occupancy: bit {@code s & 63} of word {@code level * wordsPerLevel + (s >>> 6)}. */
    private final long[] occupied;
    /** Per level: bit {@code w} set iff occupancy word {@code w} of that level is non-zero. */
    private final long[] summary;
    /** Bit {@code l} set iff level {@code l} has an occupied bucket. */
    private long nonEmptyLevels;
    /** Nodes filed with a deadline {@code <= now}: handed over by the next advance. */
    private final Bucket pending = new Bucket(-1, 0);
    /** The chain being expired: spliced from a due bucket (and from pending), walked head first. */
    private final Bucket processing = new Bucket(-2, 0);
    /** Ticks since origin; every bucket starting at or before it has been processed. */
    private long cursor;
    /** The last {@code now} given to advance (initially the origin). */
    private long now;
    private int size;
    private boolean advancing;

    /**
     * @param tickNanos     the wanted tick; rounded up to a power of two, then clamped into
     *                      [2^{@value #MIN_TICK_SHIFT}, 2^{@value #MAX_TICK_SHIFT}] ns
     * @param ticksPerWheel slots per level; rounded up to a power of two within
     *                      [{@value #MIN_SLOTS}, {@value #MAX_SLOTS}] (64 recommended)
     * @param nowNanos      the current time, which becomes the origin of the tick count (clamped
     *                      to {@code Long.MAX_VALUE - 1})
     * @throws IllegalArgumentException if {@code tickNanos <= 0} or {@code ticksPerWheel <= 0}
     */
    TimerWheel(final long tickNanos, final int ticksPerWheel, final long nowNanos) {
        if (tickNanos <= 0) {
            throw new IllegalArgumentException("tickNanos must be positive: " + tickNanos);
        }
        if (ticksPerWheel <= 0) {
            throw new IllegalArgumentException("ticksPerWheel must be positive: " + ticksPerWheel);
        }
        final int shift = 64 - Long.numberOfLeadingZeros(tickNanos - 1); // ceil(log2)
        tickShift = Math.max(MIN_TICK_SHIFT, Math.min(MAX_TICK_SHIFT, shift));
        tickMask = (1L << tickShift) - 1;
        final int slots = ticksPerWheel <= MIN_SLOTS ? MIN_SLOTS
            : ticksPerWheel >= MAX_SLOTS ? MAX_SLOTS : Integer.highestOneBit(ticksPerWheel - 1) << 1;
        slotBits = Integer.numberOfTrailingZeros(slots);
        slotMask = slots - 1;
        levels = (64 - tickShift + slotBits - 1) / slotBits;
        wordsPerLevel = Math.max(1, slots >>> 6);
        origin = Math.min(nowNanos, NEVER - 1);
        now = origin;
        maxTick = (NEVER - 1 - origin) >>> tickShift;
        for (int bit = 0; bit < 64; bit++) {
            levelOfBit[bit] = (byte) Math.min(levels - 1, bit / slotBits);
        }
        buckets = new Bucket[levels << slotBits];
        for (int l = 0; l < levels; l++) {
            for (int s = 0; s < slots; s++) {
                buckets[(l << slotBits) | s] = new Bucket(l, s);
            }
        }
        occupied = new long[levels * wordsPerLevel];
        summary = new long[levels];
    }

    // ------------------------------------------------------------------ filing

    /** @return whether {@code n} is filed (on some wheel list) */
    static boolean isFiled(final WheelNode n) {
        return n.wheelNext != null;
    }

    /**
     * Files {@code n} by its current {@link WheelNode#wheelDeadline()}, unlinking it first if it
     * is filed (an O(1) relink). A deadline of {@code Long.MAX_VALUE} only unlinks. A deadline at
     * or before {@link #now()} is handed over by the next {@link #advance}. O(1).
     */
    void schedule(final WheelNode n) {
        if (n.wheelNext != null) {
            unlink(n);
        }
        final long d = n.wheelDeadline();
        if (d != NEVER) {
            file(n, d);
        }
    }

    /** Unlinks {@code n} if it is filed. O(1). */
    void remove(final WheelNode n) {
        if (n.wheelNext != null) {
            unlink(n);
        }
    }

    private void file(final WheelNode n, final long d) {
        if (d <= now) {
            linkLast(pending, n);
            return;
        }
        final long t = tickOf(d);
        final long c = cursor;
        if (t <= c) { // only after the maxTick cap, at the very end of the time scale
            linkLast(pending, n);
            return;
        }
        final int level = levelOfBit[63 - Long.numberOfLeadingZeros((c ^ t) | slotMask)];
        final int slot = (int) (t >>> (level * slotBits)) & slotMask;
        final Bucket b = buckets[(level << slotBits) | slot];
        if (b.wheelNext == b) {
            markOccupied(level, slot);
        }
        linkLast(b, n);
    }

    /** The deadline's tick, rounded up, capped at {@link #maxTick}; 0 at or before the origin. */
    private long tickOf(final long d) {
        if (d <= origin) {
            return 0;
        }
        final long r = d - origin; // unsigned difference, exact
        final long t = (r >>> tickShift) + ((r & tickMask) == 0 ? 0 : 1);
        return Math.min(t, maxTick);
    }

    private void linkLast(final Bucket list, final WheelNode n) {
        final WheelNode last = list.wheelPrev;
        n.wheelPrev = last;
        n.wheelNext = list;
        last.wheelNext = n;
        list.wheelPrev = n;
        size++;
    }

    private void unlink(final WheelNode n) {
        final WheelNode p = n.wheelPrev;
        final WheelNode x = n.wheelNext;
        p.wheelNext = x;
        x.wheelPrev = p;
        n.wheelPrev = null;
        n.wheelNext = null;
        size--;
        if (p == x) { // only the sentinel is left: every list holds exactly one
            final Bucket b = (Bucket) p;
            if (b.level >= 0) {
                markEmpty(b.level, b.slot);
            }
        }
    }

    private void markOccupied(final int level, final int slot) {
        occupied[level * wordsPerLevel + (slot >>> 6)] |= 1L << slot;
        summary[level] |= 1L << (slot >>> 6);
        nonEmptyLevels |= 1L << level;
    }

    private void markEmpty(final int level, final int slot) {
        final int w = level * wordsPerLevel + (slot >>> 6);
        final long bits = occupied[w] & ~(1L << slot);
        occupied[w] = bits;
        if (bits == 0) {
            final long sum = summary[level] & ~(1L << (slot >>> 6));
            summary[level] = sum;
            if (sum == 0) {
                nonEmptyLevels &= ~(1L << level);
            }
        }
    }

    /** @return {@code level << slotBits | slot} of the earliest occupied bucket, or -1 if none */
    private int earliestBucket() {
        final long lv = nonEmptyLevels;
        if (lv == 0) {
            return -1;
        }
        final int level = Long.numberOfTrailingZeros(lv);
        final int word = Long.numberOfTrailingZeros(summary[level]);
        final int slot = (word << 6) | Long.numberOfTrailingZeros(occupied[level * wordsPerLevel + word]);
        return (level << slotBits) | slot;
    }

    /** The first tick of bucket ({@code level}, {@code slot}) given the cursor (invariant 1). */
    private long bucketStart(final int level, final int slot) {
        final int lo = level * slotBits;
        final int hi = lo + slotBits;
        final long prefix = hi >= 64 ? 0 : (cursor >>> hi) << hi;
        return prefix | ((long) slot << lo);
    }

    private long timeOfTick(final long tick) {
        return origin + (tick << tickShift); // tick <= maxTick: no overflow past Long.MAX_VALUE - 1
    }

    // ------------------------------------------------------------------ expiry

    /**
     * Moves the cursor toward {@code now} and handles every node whose bucket has come due: a
     * node whose deadline is {@code Long.MAX_VALUE} is dropped, one whose deadline is
     * {@code <= now} is handed to {@code expiry}, any other is re-filed. A {@code now} before the
     * last one is a no-op; {@code now} is clamped to {@code Long.MAX_VALUE - 1}. Stops after
     * {@code budget} nodes; the next call resumes. O(1) per bucket passed and per node handled.
     *
     * @return the number of nodes handled (handed over + re-filed + dropped)
     * @throws IllegalStateException if called from inside {@code expiry}
     */
    int advance(final long nowNanos, final Expiry expiry, final int budget) {
        if (advancing) {
            throw new IllegalStateException("advance called from an expiry callback");
        }
        final long t = Math.min(nowNanos, NEVER - 1);
        if (t < now || budget <= 0) {
            return 0;
        }
        now = t;
        final long target = (t - origin) >>> tickShift; // t >= origin
        final Bucket proc = processing;
        int handled = 0;
        advancing = true;
        try {
            spliceAll(pending, proc);
            for (;;) {
                final WheelNode n = proc.wheelNext;
                if (n == proc) {
                    final int idx = earliestBucket();
                    final long start;
                    if (idx < 0 || (start = bucketStart(idx >>> slotBits, idx & slotMask)) > target) {
                        cursor = target;
                        break;
                    }
                    cursor = start;
                    final Bucket b = buckets[idx];
                    markEmpty(b.level, b.slot);
                    spliceAll(b, proc);
                    continue;
                }
                if (handled == budget) {
                    break;
                }
                unlink(n);
                handled++;
                final long d = n.wheelDeadline();
                if (d == NEVER) {
                    continue;
                }
                if (d <= t) {
                    expiry.expired(n, t);
                } else {
                    file(n, d);
                }
            }
        } finally {
            advancing = false;
        }
        return handled;
    }

    /** Appends {@code from}'s chain to {@code to} in O(1); {@code from} is left empty. Size unchanged. */
    private static void spliceAll(final Bucket from, final Bucket to) {
        final WheelNode first = from.wheelNext;
        if (first == from) {
            return;
        }
        final WheelNode last = from.wheelPrev;
        final WheelNode tail = to.wheelPrev;
        tail.wheelNext = first;
        first.wheelPrev = tail;
        last.wheelNext = to;
        to.wheelPrev = last;
        from.wheelNext = from;
        from.wheelPrev = from;
    }

    /**
     * The earliest time at which {@link #advance} would handle a node: {@code Long.MAX_VALUE}
     * when nothing is filed; the cursor's time ({@code <=} {@link #now()}) when work is left over
     * (pending or processing nodes); otherwise the start time of the earliest occupied bucket,
     * which may also be {@code <= now()} after a budget stop. Exact (never later than the truth,
     * and equal to it up to the "{@code <= now()}" answers). O(1), from the bitmaps.
     */
    long nextDue() {
        if (pending.wheelNext != pending || processing.wheelNext != processing) {
            return timeOfTick(cursor);
        }
        final int idx = earliestBucket();
        return idx < 0 ? NEVER : timeOfTick(bucketStart(idx >>> slotBits, idx & slotMask));
    }

    /**
     * Unlinks every filed node and passes each to {@code dropped} (if not null) with
     * {@link #now()}; for close. {@code dropped} must not file nodes again (they would stay
     * filed, or the call would not end). May be called from an expiry callback.
     *
     * @return the number of nodes unlinked
     */
    int clear(final Expiry dropped) {
        int count = drain(processing, dropped) + drain(pending, dropped);
        int idx;
        while ((idx = earliestBucket()) >= 0) {
            count += drain(buckets[idx], dropped);
        }
        return count;
    }

    private int drain(final Bucket list, final Expiry dropped) {
        int count = 0;
        WheelNode n;
        while ((n = list.wheelNext) != list) {
            unlink(n);
            count++;
            if (dropped != null) {
                dropped.expired(n, now);
            }
        }
        return count;
    }

    // ------------------------------------------------------------------ accessors

    /** @return nodes filed, including those on the pending and processing lists */
    int size() {
        return size;
    }

    /** @return the tick in nanoseconds (a power of two) */
    long tickNanos() {
        return 1L << tickShift;
    }

    /** @return slots per level (a power of two) */
    int ticksPerWheel() {
        return slotMask + 1;
    }

    int levels() {
        return levels;
    }

    /** @return the last {@code now} given to {@link #advance} (initially the origin) */
    long now() {
        return now;
    }

    /** @return the origin of the tick count (the constructor's {@code nowNanos}, clamped) */
    long origin() {
        return origin;
    }

    /** @return the time of the cursor's tick: every bucket starting at or before it was processed */
    long cursorTime() {
        return timeOfTick(cursor);
    }

    // ------------------------------------------------------------------ test support

    /**
     * Test support: the earliest time at which some node's list is processed, by walking every
     * node (the cursor's time for pending and processing nodes, the bucket start otherwise).
     */
    long bruteForceNextDue() {
        long min = NEVER;
        if (pending.wheelNext != pending || processing.wheelNext != processing) {
            min = timeOfTick(cursor);
        }
        for (final Bucket b : buckets) {
            if (b.wheelNext != b) {
                min = Math.min(min, timeOfTick(bucketStart(b.level, b.slot)));
            }
        }
        return min;
    }

    /**
     * Test support: walks every list and checks link consistency, occupancy bits, summaries,
     * invariants 1 and 3 and the node count. O(levels * slots + size).
     *
     * @return the number of filed nodes
     * @throws AssertionError on a violation
     */
    int checkIntegrity() {
        int count = checkList(pending, 0) + checkList(processing, 0);
        long levelsSeen = 0;
        for (int l = 0; l < levels; l++) {
            final long digit = bucketDigit(cursor, l);
            long sum = 0;
            for (int w = 0; w < wordsPerLevel; w++) {
                final long bits = occupied[l * wordsPerLevel + w];
                final int width = Math.min(64, slotMask + 1);
                if (width < 64 && (bits >>> width) != 0) {
                    fail("occupancy bits beyond the slots at level " + l + ": " + Long.toHexString(bits));
                }
                if (bits != 0) {
                    sum |= 1L << w;
                }
            }
            if (sum != summary[l]) {
                fail("summary of level " + l + " is " + Long.toHexString(summary[l]) + ", words say " + Long.toHexString(sum));
            }
            if (sum != 0) {
                levelsSeen |= 1L << l;
            }
            for (int s = 0; s <= slotMask; s++) {
                final Bucket b = buckets[(l << slotBits) | s];
                if (b.level != l || b.slot != s) {
                    fail("bucket " + l + "/" + s + " has the wrong label");
                }
                final boolean bit = (occupied[l * wordsPerLevel + (s >>> 6)] & (1L << s)) != 0;
                final int n = checkList(b, count);
                count += n;
                if (bit != (n != 0)) {
                    fail("bucket " + l + "/" + s + " holds " + n + " nodes but its bit is " + bit);
                }
                if (n == 0) {
                    continue;
                }
                if (s <= digit) {
                    fail("bucket " + l + "/" + s + " is occupied but the cursor " + cursor + " has digit " + digit);
                }
                final long start = bucketStart(l, s);
                for (WheelNode x = b.wheelNext; x != b; x = x.wheelNext) {
                    final long d = x.wheelDeadline();
                    if (d != NEVER && tickOf(d) < start) {
                        fail("node with deadline " + d + " (tick " + tickOf(d) + ") is in bucket " + l + "/" + s
                            + " starting at tick " + start + " (cursor " + cursor + ")");
                    }
                }
            }
        }
        if (levelsSeen != nonEmptyLevels) {
            fail("nonEmptyLevels " + Long.toBinaryString(nonEmptyLevels) + ", buckets say " + Long.toBinaryString(levelsSeen));
        }
        if (count != size) {
            fail("size " + size + " but " + count + " nodes are linked");
        }
        if (cursor < 0 || cursor > maxTick) {
            fail("cursor " + cursor + " outside [0, " + maxTick + "]");
        }
        return count;
    }

    private long bucketDigit(final long tick, final int level) {
        return (tick >>> (level * slotBits)) & slotMask;
    }

    private int checkList(final Bucket list, final int seen) {
        int n = 0;
        WheelNode prev = list;
        for (WheelNode x = list.wheelNext; x != list; x = x.wheelNext) {
            if (x == null) {
                fail("null link on list " + list.level + "/" + list.slot);
            }
            if (x instanceof Bucket) {
                fail("a second sentinel on list " + list.level + "/" + list.slot);
            }
            if (x.wheelPrev != prev) {
                fail("broken prev link on list " + list.level + "/" + list.slot);
            }
            prev = x;
            if (++n + seen > size) {
                fail("more nodes linked than size " + size + " (cycle?)");
            }
        }
        if (list.wheelPrev != prev) {
            fail("sentinel prev is not the last node on list " + list.level + "/" + list.slot);
        }
        return n;
    }

    private static void fail(final String message) {
        throw new AssertionError(message);
    }
}
