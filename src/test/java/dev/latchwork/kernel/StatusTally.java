package dev.latchwork.kernel;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.atomic.LongAdder;

import dev.latchwork.AsyncStatus;

/**
 * Counts the statuses one operation answered during a race, and checks that each of them is in
 * the documented set for that step. Thread safe; cheap enough to call from callbacks.
 */
final class StatusTally {
    private static final int OFFSET = 16;

    private final String op;
    private final int[] allowed;
    private final LongAdder[] counts = new LongAdder[2 * OFFSET + 1];
    private final LongAdder other = new LongAdder();

    StatusTally(final String op, final int... allowed) {
        this.op = op;
        this.allowed = allowed.clone();
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** Records {@code status} and returns it. */
    int record(final int status) {
        final int idx = status + OFFSET;
        if (idx >= 0 && idx < counts.length) {
            counts[idx].increment();
        } else {
            other.increment();
        }
        return status;
    }

    long count(final int status) {
        final int idx = status + OFFSET;
        return idx >= 0 && idx < counts.length ? counts[idx].sum() : 0;
    }

    long total() {
        long n = other.sum();
        for (final LongAdder c : counts) {
            n += c.sum();
        }
        return n;
    }

    boolean isAllowed(final int status) {
        for (final int a : allowed) {
            if (a == status) {
                return true;
            }
        }
        return false;
    }

    /** Fails if any status outside the documented set was seen. */
    void assertOnlyAllowed() {
        final StringBuilder bad = new StringBuilder();
        for (int i = 0; i < counts.length; i++) {
            final long n = counts[i].sum();
            if (n > 0 && !isAllowed(i - OFFSET)) {
                bad.append(' ').append(AsyncStatus.name(i - OFFSET)).append('=').append(n);
            }
        }
        if (other.sum() > 0) {
            bad.append(" out-of-range=").append(other.sum());
        }
        if (bad.length() > 0) {
            fail(op + " answered undocumented statuses:" + bad + " (all: " + this + ")");
        }
    }

    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder(op).append('{');
        boolean first = true;
        for (int i = 0; i < counts.length; i++) {
            final long n = counts[i].sum();
            if (n > 0) {
                if (!first) {
                    sb.append(", ");
                }
                sb.append(AsyncStatus.name(i - OFFSET)).append('=').append(n);
                first = false;
            }
        }
        return sb.append('}').toString();
    }
}
