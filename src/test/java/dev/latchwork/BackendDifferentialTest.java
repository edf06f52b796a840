package dev.latchwork;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Differential test of the two timer backends: the same seeded random command scripts (start,
 * startAt, cancelAsync, close, init on a few cells, real time, delays 0 to 30 ms) run on the
 * built-in wheel and on an executor backend ({@code ScheduledThreadPoolExecutor(1)}), in each
 * dispatch mode. Both must end with the same fire count per cell, equal to the model's, and every
 * fire must come no earlier than its deadline (strict) and not absurdly late (under 2 s: a loaded CI
 * machine).
 * <p>
 * A script is a series of phases. In a phase each cell gets a burst of commands issued back to back;
 * only the last command of a cell's burst may be a short start (0 to 30 ms), earlier starts in the
 * burst are 5 s away, so they are superseded long before they could fire and the outcome of a phase
 * does not depend on timing: the last command decides whether the cell fires once (a start on an
 * initialized cell with a callback) or not at all. After the burst the test waits for the expected
 * fires, then 40 ms more for unexpected ones.
 */
class BackendDifferentialTest {
    static final int CELLS = 4;
    static final int PHASES = 10;
    static final long LONG_DELAY = TimeUnit.SECONDS.toNanos(5);
    static final long LATE_BOUND = TimeUnit.SECONDS.toNanos(2);
    static final long[] SEEDS = {0x5EED_0001L, 0xC0FFEE_42L};

    /** A cell's callback records its fire time here. */
    static final class Cell {
        final int index;
        AsyncTimer<Cell> timer = new AsyncTimer<>();
        /** The deadline the cell's last command asked for (NEVER when it should not fire). */
        volatile long earliest = Long.MAX_VALUE;

        Cell(final int index) {
            this.index = index;
        }
    }

    /** What one run saw. */
    static final class Run {
        final AtomicIntegerArray fires = new AtomicIntegerArray(CELLS);
        final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        final int[] expected = new int[CELLS];
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DispatchMode.class)
    void wheelAndExecutorAgree(final DispatchMode mode) throws Exception {
        for (final long seed : SEEDS) {
            final Run wheel = run(mode, seed, false);
            final Run exec = run(mode, seed, true);
            final String where = mode + " seed " + Long.toHexString(seed);
            assertTrue(wheel.violations.isEmpty(), where + " wheel: " + wheel.violations);
            assertTrue(exec.violations.isEmpty(), where + " executor: " + exec.violations);
            assertArrayEquals(wheel.expected, exec.expected, where + ": the scripts differ (test bug)");
            assertArrayEquals(wheel.expected, counts(wheel), where + ": wheel fire counts vs the model");
            assertArrayEquals(counts(exec), counts(wheel), where + ": executor vs wheel fire counts");
        }
    }

    static int[] counts(final Run r) {
        final int[] c = new int[CELLS];
        for (int i = 0; i < CELLS; i++) {
            c[i] = r.fires.get(i);
        }
        return c;
    }

    static Run run(final DispatchMode mode, final long seed, final boolean executor) throws Exception {
        final Run run = new Run();
        final ScheduledThreadPoolExecutor stpe = executor ? TestBackend.newScheduler() : null;
        final SplittableRandom rnd = new SplittableRandom(seed);
        try (Modes.Harness h = Modes.open(mode, b -> {
            if (stpe != null) {
                b.timerScheduler(stpe);
            } else {
                b.timerWheel(1L << 17, 64);
            }
        })) {
            if (stpe != null) {
                h.own(stpe);
            }
            final TimerCallback<Cell> cb = (c, t) -> {
                final long now = System.nanoTime();
                final long due = c.earliest;
                run.fires.incrementAndGet(c.index);
                if (due == Long.MAX_VALUE) {
                    run.violations.add("cell " + c.index + " fired with no start pending");
                } else if (now - due < 0) {
                    run.violations.add("cell " + c.index + " fired " + (due - now) + " ns EARLY");
                } else if (now - due > LATE_BOUND) {
                    run.violations.add("cell " + c.index + " fired " + (now - due) / 1_000_000 + " ms late");
                }
            };
            final List<Cell> cells = new ArrayList<>();
            final boolean[] live = new boolean[CELLS];
            for (int i = 0; i < CELLS; i++) {
                final Cell c = new Cell(i);
                assertEquals(AsyncStatus.OK, c.timer.init(h.rt, c, TimerClock.MONOTONIC));
                assertEquals(AsyncStatus.OK, c.timer.setCallback(cb));
                cells.add(c);
                live[i] = true;
            }
            for (int phase = 0; phase < PHASES; phase++) {
                final int[] before = counts(run);
                final int[] want = new int[CELLS];
                for (int i = 0; i < CELLS; i++) {
                    final Cell c = cells.get(i);
                    final int burst = 1 + rnd.nextInt(4);
                    for (int k = 0; k < burst; k++) {
                        final boolean last = k == burst - 1;
                        int op = rnd.nextInt(10);
                        if (last && op == 9 && live[i]) {
                            op = 6; // an init on a live cell changes nothing: a long start before it would stay armed
                        }
                        final long delay = last ? TimeUnit.MILLISECONDS.toNanos(rnd.nextInt(31)) : LONG_DELAY;
                        if (op < 4) { // start
                            final long t0 = System.nanoTime();
                            c.earliest = t0 + delay; // before the call: the fire may come at once
                            final int st = c.timer.start(delay);
                            want[i] = live[i] && st == AsyncStatus.OK ? 1 : 0;
                            expectStatus(run, live[i], st, "start");
                        } else if (op < 6) { // startAt
                            final long at = System.nanoTime() + delay;
                            c.earliest = at;
                            final int st = c.timer.startAt(at);
                            want[i] = live[i] && st == AsyncStatus.OK ? 1 : 0;
                            expectStatus(run, live[i], st, "startAt");
                        } else if (op < 8) { // cancelAsync
                            final int st = c.timer.cancelAsync();
                            want[i] = 0;
                            expectStatus(run, live[i], st, "cancelAsync");
                        } else if (op < 9) { // close
                            c.timer.close();
                            live[i] = false;
                            want[i] = 0;
                        } else { // init (a no-op BUSY on a live cell)
                            final int st = c.timer.init(h.rt, c, TimerClock.MONOTONIC);
                            if (!live[i]) {
                                if (st != AsyncStatus.OK) {
                                    run.violations.add("init on a closed cell answered " + AsyncStatus.name(st));
                                }
                                c.timer.setCallback(cb);
                                live[i] = true;
                                want[i] = 0;
                            } else if (st != AsyncStatus.BUSY) {
                                run.violations.add("init on a live cell answered " + AsyncStatus.name(st));
                            }
                        }
                        if (want[i] == 0) {
                            c.earliest = Long.MAX_VALUE; // nothing may fire after this command
                        }
                        if (Boolean.getBoolean("diff.trace")) {
                            System.out.println((executor ? "X" : "W") + " p" + phase + " c" + i + " op" + op + " d" + delay / 1_000_000 + " want" + want[i] + " live" + live[i] + " fires" + run.fires.get(i));
                        }
                    }
                }
                for (int i = 0; i < CELLS; i++) {
                    run.expected[i] += want[i];
                }
                final int[] target = new int[CELLS];
                for (int i = 0; i < CELLS; i++) {
                    target[i] = before[i] + want[i];
                }
                final long end = System.nanoTime() + LATE_BOUND + TimeUnit.MILLISECONDS.toNanos(100);
                while (!reached(run, target) && System.nanoTime() - end < 0) {
                    Modes.pause(1);
                }
                Modes.pause(40); // room for an unexpected (extra) fire to show
                for (int i = 0; i < CELLS; i++) {
                    cells.get(i).earliest = Long.MAX_VALUE; // the phase is over: no fire may follow
                }
            }
            assertTrue(h.errors.isEmpty(), "errors: " + h.errors);
        }
        return run;
    }

    static void expectStatus(final Run run, final boolean live, final int st, final String what) {
        final int want = live ? AsyncStatus.OK : AsyncStatus.NOT_INITIALIZED;
        if (st != want) {
            run.violations.add(what + " answered " + AsyncStatus.name(st) + ", expected " + AsyncStatus.name(want));
        }
    }

    static boolean reached(final Run run, final int[] target) {
        for (int i = 0; i < CELLS; i++) {
            if (run.fires.get(i) < target[i]) {
                return false;
            }
        }
        return true;
    }
}
