package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Named unit tests of {@link TimerWheel}; the random model test is {@link TimerWheelModelTest}. */
class TimerWheelTest {

    static final class Node extends WheelNode {
        long deadline = Long.MAX_VALUE;
        int fired;
        long firedAt;

        Node(final long deadline) {
            this.deadline = deadline;
        }

        @Override
        long wheelDeadline() {
            return deadline;
        }
    }

    private static final TimerWheel.Expiry FIRE = (n, now) -> {
        final Node x = (Node) n;
        if (x.deadline > now) {
            throw new AssertionError("early: deadline " + x.deadline + " now " + now);
        }
        x.fired++;
        x.firedAt = now;
    };

    @Test
    void geometryIsRoundedAndClamped() {
        TimerWheel w = new TimerWheel(1L << 17, 64, 0);
        assertEquals(1L << 17, w.tickNanos());
        assertEquals(64, w.ticksPerWheel());
        assertEquals(8, w.levels()); // ceil((64 - 17) / 6)

        w = new TimerWheel(100_000, 100, 0);
        assertEquals(1L << 17, w.tickNanos());
        assertEquals(128, w.ticksPerWheel());
        assertEquals(7, w.levels()); // ceil(47 / 7)

        w = new TimerWheel(1, 1, 0);
        assertEquals(1L << TimerWheel.MIN_TICK_SHIFT, w.tickNanos());
        assertEquals(16, w.ticksPerWheel());
        assertEquals(14, w.levels()); // ceil(54 / 4)

        w = new TimerWheel(Long.MAX_VALUE, Integer.MAX_VALUE, 0);
        assertEquals(1L << TimerWheel.MAX_TICK_SHIFT, w.tickNanos());
        assertEquals(4096, w.ticksPerWheel());
        assertEquals(3, w.levels()); // ceil(34 / 12)

        w = new TimerWheel((1L << 20) + 1, 65, 0);
        assertEquals(1L << 21, w.tickNanos());
        assertEquals(128, w.ticksPerWheel());
        w.checkIntegrity();
    }

    @Test
    void rejectsNonPositiveArguments() {
        assertThrows(IllegalArgumentException.class, () -> new TimerWheel(0, 64, 0));
        assertThrows(IllegalArgumentException.class, () -> new TimerWheel(-1, 64, 0));
        assertThrows(IllegalArgumentException.class, () -> new TimerWheel(1000, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new TimerWheel(1000, -64, 0));
    }

    @Test
    void emptyWheelIsNeverDue() {
        final TimerWheel w = new TimerWheel(1L << 17, 64, -5_000_000_000L);
        assertEquals(Long.MAX_VALUE, w.nextDue());
        assertEquals(0, w.size());
        final Node never = new Node(Long.MAX_VALUE);
        w.schedule(never);
        assertFalse(TimerWheel.isFiled(never));
        assertEquals(Long.MAX_VALUE, w.nextDue());
        assertEquals(0, w.checkIntegrity());
    }

    @Test
    void tenSecondJumpOnAnEmptyWheelIsCheapAndFiresNothing() {
        final TimerWheel w = new TimerWheel(1L << 10, 16, 0); // 1 µs ticks: 10 s = ~9.8M ticks
        final long t0 = System.nanoTime();
        for (int i = 1; i <= 1000; i++) {
            assertEquals(0, w.advance(i * 10_000_000_000L, FIRE, Integer.MAX_VALUE));
        }
        final long elapsed = System.nanoTime() - t0;
        assertTrue(elapsed < 500_000_000L, "1000 jumps of 10 s took " + elapsed + " ns");
        assertEquals(Long.MAX_VALUE, w.nextDue());
        // and with one far node filed, jumps stop at its buckets only
        final Node far = new Node(20_000_000_000_000L);
        w.schedule(far);
        int handled = 0;
        for (long t = 10_000_000_000_000L; t < 20_000_000_000_000L; t += 10_000_000_000L) {
            handled += w.advance(t, FIRE, Integer.MAX_VALUE);
        }
        assertTrue(handled <= w.levels(), "re-filed " + handled + " times");
        assertEquals(0, far.fired);
        w.advance(20_000_000_000_000L, FIRE, Integer.MAX_VALUE);
        assertEquals(1, far.fired);
    }

    @Test
    void deadlineOnATickBoundaryFiresAtThatTickNotEarlier() {
        final long origin = 1_000_000;
        final TimerWheel w = new TimerWheel(1024, 64, origin);
        final long d = origin + 5 * 1024;
        final Node n = new Node(d);
        w.schedule(n);
        assertEquals(d, w.nextDue());
        w.advance(d - 1, FIRE, Integer.MAX_VALUE);
        assertEquals(0, n.fired);
        assertEquals(d, w.nextDue());
        w.advance(d, FIRE, Integer.MAX_VALUE);
        assertEquals(1, n.fired);
        assertEquals(d, n.firedAt);
        assertEquals(Long.MAX_VALUE, w.nextDue());
    }

    @Test
    void latenessIsWithinOneTickAtEveryLevel() {
        final long tick = 1024;
        final long origin = -123_456_789;
        final TimerWheel w = new TimerWheel(tick, 64, origin);
        final List<Node> nodes = new ArrayList<>();
        for (int k = 0; k < 40; k++) {
            final long delay = (1L << k) + 7; // not tick multiples, levels 0..6
            final Node n = new Node(origin + delay);
            nodes.add(n);
            w.schedule(n);
        }
        // step one tick at a time near each deadline would be slow; jump straight to due times instead
        for (final Node n : nodes) {
            final long due = origin + ceilDiv(n.deadline - origin, tick) * tick;
            if (n.deadline - 1 >= w.now()) { // never early (it may fire before "due" if a bucket
                // that holds it is processed at a now past its exact deadline)
                w.advance(n.deadline - 1, FIRE, Integer.MAX_VALUE);
                assertEquals(0, n.fired, "fired before its deadline");
            }
            w.advance(due, FIRE, Integer.MAX_VALUE);
            assertEquals(1, n.fired, "not fired at its rounded-up tick");
            assertTrue(n.firedAt - n.deadline < tick);
            w.checkIntegrity();
        }
        assertEquals(0, w.size());
    }

    @Test
    void pastAndExtremeDeadlines() {
        final TimerWheel w = new TimerWheel(1L << 17, 64, Long.MAX_VALUE / 2);
        final Node min = new Node(Long.MIN_VALUE);
        final Node max1 = new Node(Long.MAX_VALUE - 1);
        final Node now = new Node(Long.MAX_VALUE / 2);
        w.schedule(min);
        w.schedule(max1);
        w.schedule(now);
        assertEquals(3, w.checkIntegrity());
        assertTrue(w.nextDue() <= w.now());
        assertEquals(2, w.advance(Long.MAX_VALUE / 2, FIRE, Integer.MAX_VALUE));
        assertEquals(1, min.fired);
        assertEquals(1, now.fired);
        assertEquals(0, max1.fired);
        assertTrue(w.nextDue() > Long.MAX_VALUE / 2 && w.nextDue() <= Long.MAX_VALUE - 1);
        w.advance(Long.MAX_VALUE, FIRE, Integer.MAX_VALUE);
        assertEquals(1, max1.fired);
        assertEquals(0, w.checkIntegrity());
    }

    @Test
    void budgetedCatchUpOfAMillionNodesResumesAcrossCalls() {
        final TimerWheel w = new TimerWheel(1L << 17, 64, 0);
        final int count = 1_000_000;
        final Node[] nodes = new Node[count];
        for (int i = 0; i < count; i++) {
            nodes[i] = new Node(1 + (i % 1000) * 1_000_000L); // within the first second
            w.schedule(nodes[i]);
        }
        assertEquals(count, w.checkIntegrity());
        final long now = 10_000_000_000L; // a 10 s pause
        int calls = 0;
        int handled = 0;
        while (w.nextDue() <= now) {
            final int h = w.advance(now, FIRE, 10_000);
            assertTrue(h <= 10_000);
            handled += h;
            calls++;
            assertTrue(calls < 1000, "no progress");
        }
        assertEquals(count, handled); // each handled once: all were due, none re-filed
        assertTrue(calls >= 100, "calls " + calls);
        for (final Node n : nodes) {
            assertEquals(1, n.fired);
        }
        assertEquals(0, w.size());
        assertEquals(Long.MAX_VALUE, w.nextDue());
    }

    @Test
    void throwingExpiryLeavesTheWheelConsistentAndTheNextAdvanceResumes() {
        final TimerWheel w = new TimerWheel(1024, 64, 0);
        final Node[] nodes = new Node[10];
        for (int i = 0; i < nodes.length; i++) {
            nodes[i] = new Node(5000);
            w.schedule(nodes[i]);
        }
        final int[] calls = {0};
        final TimerWheel.Expiry boom = (n, now) -> {
            FIRE.expired(n, now);
            if (++calls[0] == 3) {
                throw new IllegalStateException("boom");
            }
        };
        assertThrows(IllegalStateException.class, () -> w.advance(10_000, boom, Integer.MAX_VALUE));
        assertEquals(7, w.checkIntegrity());
        assertTrue(w.nextDue() <= 10_000);
        assertEquals(7, w.advance(10_000, boom, Integer.MAX_VALUE));
        for (final Node n : nodes) {
            assertEquals(1, n.fired);
        }
        assertEquals(Long.MAX_VALUE, w.nextDue());
    }

    @Test
    void reArmLaterWithoutTellingTheWheelRefilesInsteadOfFiring() {
        final TimerWheel w = new TimerWheel(1024, 64, 0);
        final Node n = new Node(100_000);
        w.schedule(n);
        n.deadline = 10_000_000; // the Jetty trick: no wheel call
        assertEquals(1, w.advance(200_000, FIRE, Integer.MAX_VALUE)); // re-filed
        assertEquals(0, n.fired);
        assertTrue(TimerWheel.isFiled(n));
        w.checkIntegrity();
        w.advance(10_000_000 - 1, FIRE, Integer.MAX_VALUE);
        assertEquals(0, n.fired);
        w.advance(10_000_000 + 1023, FIRE, Integer.MAX_VALUE);
        assertEquals(1, n.fired);
        // lazy cancel: deadline never, no wheel call; dropped when its bucket comes due
        final Node c = new Node(20_000_000);
        w.schedule(c);
        c.deadline = Long.MAX_VALUE;
        assertEquals(1, w.advance(30_000_000, FIRE, Integer.MAX_VALUE));
        assertEquals(0, c.fired);
        assertFalse(TimerWheel.isFiled(c));
        assertEquals(Long.MAX_VALUE, w.nextDue());
    }

    @Test
    void reentrantCallbacksMayCancelAndRefileNodesOfTheSameBucket() {
        final TimerWheel w = new TimerWheel(1024, 64, 0);
        final Node[] nodes = new Node[6];
        for (int i = 0; i < nodes.length; i++) {
            nodes[i] = new Node(3000);
            w.schedule(nodes[i]);
        }
        final TimerWheel.Expiry cb = (n, now) -> {
            FIRE.expired(n, now);
            if (n == nodes[0] && nodes[0].fired == 1) {
                nodes[1].deadline = Long.MAX_VALUE;
                w.remove(nodes[1]);           // still on the processing list
                nodes[2].deadline = 4000;     // same bucket, moved to the next tick
                w.schedule(nodes[2]);
                nodes[0].deadline = now;      // into the past: waits for the next advance
                w.schedule(nodes[0]);
                assertThrows(IllegalStateException.class, () -> w.advance(now, FIRE, 1));
            }
        };
        assertEquals(4, w.advance(3500, cb, Integer.MAX_VALUE)); // 0, 3, 4, 5 (1 removed, 2 relinked by the callback)
        assertEquals(1, nodes[0].fired);
        assertEquals(0, nodes[1].fired);
        assertEquals(0, nodes[2].fired);
        assertEquals(1, nodes[3].fired);
        assertEquals(1, nodes[5].fired);
        assertEquals(2, w.checkIntegrity()); // nodes[0] pending, nodes[2] in the next tick's bucket
        assertTrue(w.nextDue() <= 3500);
        assertEquals(1, w.advance(3500, cb, Integer.MAX_VALUE));
        assertEquals(2, nodes[0].fired);
        assertEquals(4096, w.nextDue());
        w.advance(4096, cb, Integer.MAX_VALUE);
        assertEquals(1, nodes[2].fired);
        assertEquals(0, w.checkIntegrity());
    }

    @Test
    void clearUnlinksEverything() {
        final TimerWheel w = new TimerWheel(1024, 16, 0);
        final List<WheelNode> dropped = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            w.schedule(new Node(i * 977_777L - 50_000));
        }
        w.advance(1, FIRE, 3); // leaves a processing list behind
        final int left = w.size();
        assertEquals(left, w.clear((n, now) -> dropped.add(n)));
        assertEquals(left, dropped.size());
        for (final WheelNode n : dropped) {
            assertFalse(TimerWheel.isFiled(n));
        }
        assertEquals(0, w.checkIntegrity());
        assertEquals(Long.MAX_VALUE, w.nextDue());
        assertEquals(0, w.advance(Long.MAX_VALUE, FIRE, Integer.MAX_VALUE));
    }

    @Test
    void fileRelinkAdvanceAndFireAllocateNothingAfterWarmUp() throws Exception {
        // reached reflectively: module dev.latchwork does not read java.management (see HotPathAllocationTest)
        final Object mx = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        final Class<?> sun = Class.forName("com.sun.management.ThreadMXBean");
        assumeTrue(sun.isInstance(mx), "no per-thread allocation counter");
        final Method allocated = sun.getMethod("getThreadAllocatedBytes", long.class);
        final long tid = Thread.currentThread().getId();
        final TimerWheel w = new TimerWheel(1L << 17, 64, 0);
        final Node[] nodes = new Node[4096];
        for (int i = 0; i < nodes.length; i++) {
            nodes[i] = new Node(Long.MAX_VALUE);
        }
        final TimerWheel.Expiry periodic = (n, now) -> {
            ((Node) n).deadline = now + 3_000_000;
            w.schedule(n);
        };
        long t = 0;
        long before = 0;
        for (int round = 0; round < 2; round++) {
            if (round == 1) {
                before = (Long) allocated.invoke(mx, tid);
            }
            for (int i = 0; i < 200_000; i++) {
                final Node n = nodes[i & (nodes.length - 1)];
                switch (i % 5) {
                    case 0: n.deadline = t + 1_000_000 + i % 977 * 100_000L; w.schedule(n); break; // arm / relink
                    case 1: if (n.deadline != Long.MAX_VALUE) { n.deadline += 50_000_000; } break; // later, no call
                    case 2: n.deadline = t + 200_000; w.schedule(n); break; // earlier: relink
                    case 3: n.deadline = Long.MAX_VALUE; w.remove(n); break;
                    default: t += 300_000; w.advance(t, periodic, 1000); w.nextDue(); break;
                }
            }
        }
        final long bytes = (Long) allocated.invoke(mx, tid) - before;
        assertTrue(bytes < 1024, "allocated " + bytes + " bytes");
        w.checkIntegrity();
    }

    static long ceilDiv(final long a, final long b) {
        return -Math.floorDiv(-a, b);
    }
}
