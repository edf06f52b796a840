package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** The intrusive MPSC queue and its size estimate, which {@link AsyncRuntime#stats()} reports. */
class BlockQueueTest {

    static final class N extends BlockQueue.Node {
        final int id;
        final int producer;
        final AtomicInteger polls = new AtomicInteger();

        N(final int id) {
            this(0, id);
        }

        N(final int producer, final int id) {
            this.producer = producer;
            this.id = id;
        }
    }

    /**
     * A round that begins with the stub as the tail stops at the stub (hardening #8): what was
     * queued ahead of it is polled, what producers add behind it waits for the next round, and
     * {@code looksEmpty} tells the two states apart.
     */
    @Test
    void aRoundThatBeginsAtTheStubStopsAtIt() {
        final BlockQueue q = new BlockQueue();
        assertTrue(q.looksEmpty());
        final N a = new N(1);
        q.offer(a);
        assertFalse(q.looksEmpty());
        assertSame(a, q.poll()); // the last node: the stub is offered again behind it
        assertTrue(q.isStub(q.lvTail()), "the stub is the tail again");
        assertTrue(q.looksEmpty());
        // a round begins here (tail = stub); a producer adds b during it
        final N b = new N(2);
        q.offer(b);
        assertNull(q.pollBeforeStub(), "b came after the round began: it waits for the next round");
        assertFalse(q.looksEmpty());
        assertSame(b, q.poll(), "the next round polls it");
        assertNull(q.poll());
        // with a real node at the head, it polls as poll() does, up to the stub
        final N c = new N(3);
        final N d = new N(4);
        q.offer(c);
        q.offer(d);
        assertSame(c, q.poll());
        assertSame(d, q.pollBeforeStub(), "d is ahead of the stub, which the poll offers behind it");
        assertNull(q.pollBeforeStub());
        assertTrue(q.looksEmpty());
    }

    @Test
    void fifoAndSizeWhenQuiet() {
        final BlockQueue q = new BlockQueue();
        assertEquals(0, q.estimateSize());
        assertNull(q.poll());
        final N[] ns = new N[5];
        for (int i = 0; i < ns.length; i++) {
            ns[i] = new N(i);
            q.offer(ns[i]);
            assertEquals(i + 1, q.estimateSize(), "size after " + (i + 1) + " offers");
        }
        for (int i = 0; i < ns.length; i++) {
            assertSame(ns[i], q.poll(), "FIFO");
            assertEquals(ns.length - i - 1, q.estimateSize(), "size after " + (i + 1) + " polls");
        }
        assertNull(q.poll());
        assertEquals(0, q.estimateSize());
    }

    @Test
    void sizeIgnoresTheStubWhenItIsReOfferedMidQueue() {
        final BlockQueue q = new BlockQueue();
        final N a = new N(1);
        final N b = new N(2);
        final N c = new N(3);
        q.offer(a);
        assertSame(a, q.poll()); // the last node: the consumer re-offers the stub behind it
        q.offer(b);
        q.offer(c);
        assertEquals(2, q.estimateSize());
        q.offer(a); // a polled node may be offered again
        assertEquals(3, q.estimateSize());
        assertSame(b, q.poll());
        assertSame(c, q.poll());
        assertSame(a, q.poll());
        assertNull(q.poll());
        assertEquals(0, q.estimateSize());
    }

    @Test
    void twoProducersEveryNodePolledOnceAndSizeSettlesAtZero() throws Exception {
        final BlockQueue q = new BlockQueue();
        final int perProducer = 200_000;
        final N[][] nodes = new N[2][perProducer];
        final CountDownLatch go = new CountDownLatch(1);
        final Thread[] producers = new Thread[2];
        for (int p = 0; p < 2; p++) {
            final int pi = p;
            for (int i = 0; i < perProducer; i++) {
                nodes[p][i] = new N(p, i);
            }
            producers[p] = new Thread(() -> {
                try {
                    go.await();
                } catch (final InterruptedException e) {
                    return;
                }
                for (final N n : nodes[pi]) {
                    q.offer(n);
                }
            });
            producers[p].start();
        }
        go.countDown();
        final int[] lastSeen = {-1, -1};
        int polled = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (polled < 2 * perProducer && System.nanoTime() < deadline) {
            final N n = (N) q.poll();
            if (n == null) {
                final long size = q.estimateSize(); // racing the producers: only bounded
                assertTrue(size >= 0 && size <= 2L * perProducer, "estimate in range: " + size);
                continue;
            }
            assertTrue(n.id > lastSeen[n.producer], "one producer's nodes come out in its order");
            lastSeen[n.producer] = n.id;
            n.polls.incrementAndGet();
            polled++;
        }
        for (final Thread t : producers) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertEquals(2 * perProducer, polled, "every offer polled");
        assertNull(q.poll());
        assertEquals(0, q.estimateSize(), "nothing left once quiet");
        for (int p = 0; p < 2; p++) {
            for (final N n : nodes[p]) {
                assertEquals(1, n.polls.get(), "node polled exactly once");
            }
        }
    }

    @Test
    void statsCountQueuedBlocksWithoutAHotPathCounter() {
        try (AsyncRuntime rt = AsyncRuntime.builder().dispatchMode(DispatchMode.HOST_DRIVEN).build()) {
            assertNull(rt.enqueued, "no queue counter unless a test asks for one");
            final TimerCallback<Object> cb = (o, t) -> { };
            final int cells = 50;
            @SuppressWarnings("unchecked")
            final AsyncTimer<Object>[] timers = new AsyncTimer[cells];
            for (int i = 0; i < cells; i++) {
                timers[i] = new AsyncTimer<>();
                assertEquals(AsyncStatus.OK, timers[i].init(rt, this, TimerClock.MONOTONIC));
                assertEquals(AsyncStatus.OK, timers[i].setCallback(cb));
            }
            assertEquals(0, rt.stats().drainsPending());
            for (int i = 0; i < cells; i++) {
                assertEquals(AsyncStatus.OK, timers[i].start(TimeUnit.HOURS.toNanos(1)));
                assertEquals(AsyncStatus.OK, timers[i].start(TimeUnit.HOURS.toNanos(2))); // coalesces: still queued once
                assertEquals(i + 1, rt.stats().drainsPending());
            }
            int drained = 0;
            while (rt.stats().drainsPending() > 0) {
                drained += rt.drain();
            }
            assertEquals(cells, drained, "each queued block drained once");
            assertEquals(cells, rt.stats().timersArmed());
            for (final AsyncTimer<Object> t : timers) {
                t.close();
            }
        }
    }
}
