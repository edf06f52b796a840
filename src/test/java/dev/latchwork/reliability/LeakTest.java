package dev.latchwork.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.AsyncWork;
import dev.latchwork.TimerClock;

/**
 * Owners dropped without closing their cells: nothing latchwork holds keeps them alive once their
 * timers have fired or been cancelled. An owner dropped while its timer is armed stays reachable
 * from the timer backend until the timer fires (as with any JDK scheduler), then fires with its
 * owner and becomes collectable.
 * <p>
 * Reachability is observed with {@link WeakReference}s and bounded {@code System.gc()} loops
 * (10 s at most). The callbacks capture nothing: they receive their owner as an argument.
 */
class LeakTest {
    static final int N = 5_000;
    static final long GC_WAIT_S = 10;

    /** An owner with embedded cells, as a connection or session object would have. */
    static final class Owner {
        final AsyncTimer<Owner> timer = new AsyncTimer<>();
        final AsyncWork<Owner> work = new AsyncWork<>();
        final byte[] payload = new byte[256];
    }

    static final AtomicInteger FIRED = new AtomicInteger();
    static final AtomicInteger RAN = new AtomicInteger();

    @Test
    void ownersAreCollectableOnceTheirTimersFired() throws Exception {
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            final int fired0 = FIRED.get();
            final List<WeakReference<Owner>> refs = armAndDrop(rt, N, o -> o.timer.start(
                ThreadLocalRandom.current().nextLong(TimeUnit.MILLISECONDS.toNanos(20))));
            awaitCount(FIRED, fired0 + N, "all timers fired");
            assertCollected(refs, "fired timers");
        }
    }

    @Test
    void ownersAreCollectableOnceTheirTimersWereCancelledWithALongDeadline() throws Exception {
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            final List<WeakReference<Owner>> refs = armCancelAndDrop(rt, N);
            assertCollected(refs, "timers cancelled with a stale wake-up an hour ahead");
            assertEquals(0, rt.stats().timersFired());
        }
    }

    /**
     * Arms every cell an hour ahead and waits until the wake-ups are scheduled, re-arms them later
     * still (the same wake-up is kept), then cancels with cancelAsync and waits until the cancels
     * are applied: every cell leaves a stale wake-up queued in the scheduler for an hour.
     */
    static List<WeakReference<Owner>> armCancelAndDrop(final AsyncRuntime rt, final int n) throws InterruptedException {
        final List<Owner> owners = new ArrayList<>(n);
        final List<WeakReference<Owner>> refs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            final Owner o = new Owner();
            assertEquals(AsyncStatus.OK, o.timer.init(rt, o, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, o.timer.setCallback((owner, t) -> FIRED.incrementAndGet()));
            assertEquals(AsyncStatus.OK, o.timer.start(1, TimeUnit.HOURS));
            owners.add(o);
            refs.add(new WeakReference<>(o));
        }
        awaitTrue(() -> rt.stats().timersArmed() == n && rt.stats().drainsPending() == 0, "all armed");
        for (final Owner o : owners) {
            assertEquals(AsyncStatus.OK, o.timer.startAt(System.nanoTime() + TimeUnit.HOURS.toNanos(2)));
        }
        for (final Owner o : owners) {
            assertEquals(AsyncStatus.OK, o.timer.cancelAsync());
        }
        awaitTrue(() -> rt.stats().timersArmed() == 0 && rt.stats().drainsPending() == 0, "the cancels applied");
        return refs;
    }

    @Test
    void ownersAreCollectableOnceTheirWorkRan() throws Exception {
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            final int ran0 = RAN.get();
            final List<WeakReference<Owner>> refs = new ArrayList<>();
            for (int i = 0; i < N; i++) {
                refs.add(newWorkOwner(rt));
            }
            awaitCount(RAN, ran0 + N, "all work ran");
            assertCollected(refs, "work items that ran");
        }
    }

    /**
     * The documented exception: an owner dropped while its timer is armed is kept alive by the
     * scheduler's queue until the timer fires; then the callback runs with that owner, and after
     * that the owner is collectable.
     */
    @Test
    void anArmedOwnerStaysReachableUntilItFiresThenIsCollected() throws Exception {
        final int k = 500;
        final long delayMs = 3_000;
        try (AsyncRuntime rt = AsyncRuntime.create()) {
            final int fired0 = FIRED.get();
            final long armedAt = System.nanoTime();
            final List<WeakReference<Owner>> refs = armAndDrop(rt, k, o -> o.timer.start(delayMs, TimeUnit.MILLISECONDS));
            int alive = 0;
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            for (final WeakReference<Owner> r : refs) {
                alive += r.get() != null ? 1 : 0;
            }
            if (TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - armedAt) < delayMs) { // still before the deadline
                assertEquals(k, alive, "an armed timer must keep its owner reachable until it fires");
                assertEquals(fired0, FIRED.get(), "nothing fired before its deadline");
            }
            awaitCount(FIRED, fired0 + k, "all armed timers fired");
            assertCollected(refs, "timers that fired after their owner was dropped");
        }
    }

    /** A closed runtime lets go of the cells it still had armed, even if the runtime object stays referenced. */
    @Test
    void closedRuntimeReleasesArmedOwners() throws Exception {
        final AsyncRuntime rt = AsyncRuntime.create();
        final List<WeakReference<Owner>> refs = armAndDrop(rt, N, o -> o.timer.start(1, TimeUnit.HOURS));
        awaitTrue(() -> rt.stats().timersArmed() == N, "all armed");
        rt.close();
        assertCollected(refs, "cells armed on a runtime that was then closed");
        assertTrue(rt.isClosed()); // rt is still strongly reachable here
    }

    // ------------------------------------------------------------------------------------------

    interface Arm {
        int arm(Owner o);
    }

    /** Creates owners in a separate frame so no strong reference survives on the test's stack. */
    static List<WeakReference<Owner>> armAndDrop(final AsyncRuntime rt, final int n, final Arm arm) {
        final List<WeakReference<Owner>> refs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            final Owner o = new Owner();
            assertEquals(AsyncStatus.OK, o.timer.init(rt, o, TimerClock.MONOTONIC));
            assertEquals(AsyncStatus.OK, o.timer.setCallback((owner, t) -> FIRED.incrementAndGet()));
            assertEquals(AsyncStatus.OK, arm.arm(o));
            refs.add(new WeakReference<>(o));
        }
        return refs;
    }

    static WeakReference<Owner> newWorkOwner(final AsyncRuntime rt) {
        final Owner o = new Owner();
        assertEquals(AsyncStatus.OK, o.work.init(rt, o));
        assertEquals(AsyncStatus.OK, o.work.setCallback((owner, w) -> RAN.incrementAndGet()));
        assertEquals(AsyncStatus.OK, o.work.start());
        return new WeakReference<>(o);
    }

    static void assertCollected(final List<WeakReference<Owner>> refs, final String what) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(GC_WAIT_S);
        int alive;
        do {
            System.gc();
            Thread.sleep(20);
            alive = 0;
            for (final WeakReference<Owner> r : refs) {
                alive += r.get() != null ? 1 : 0;
            }
        } while (alive > 0 && System.nanoTime() < deadline);
        assertEquals(0, alive, alive + " of " + refs.size() + " owners still reachable after " + GC_WAIT_S
            + " s of GC (" + what + ")");
    }

    static void awaitCount(final AtomicInteger counter, final int target, final String what) throws InterruptedException {
        awaitTrue(() -> counter.get() >= target, what + " (" + counter.get() + "/" + target + ")");
    }

    static void awaitTrue(final java.util.function.BooleanSupplier cond, final String what) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(GC_WAIT_S);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + GC_WAIT_S + " s: " + what);
            }
            Thread.sleep(5);
        }
    }
}
