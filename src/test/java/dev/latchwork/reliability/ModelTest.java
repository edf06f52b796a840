package dev.latchwork.reliability;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.latchwork.AsyncRuntime;
import dev.latchwork.AsyncStats;
import dev.latchwork.AsyncStatus;
import dev.latchwork.AsyncTimer;
import dev.latchwork.AsyncWork;
import dev.latchwork.DispatchMode;
import dev.latchwork.TimerCallback;
import dev.latchwork.TimerClock;
import dev.latchwork.WorkCallback;

/**
 * Model-based random testing, single-threaded and deterministic: seeded sequences of operations
 * over a few timer and work cells are run against the library and against a sequential model,
 * and every status, every fire and run, the applied state ({@code isArmed}, {@code deadline},
 * {@code isPending}) and the runtime's counters are compared after every step.
 *
 * <h2>How it is made deterministic</h2>
 * The runtime is {@link DispatchMode#HOST_DRIVEN}: commands are applied only when the test calls
 * {@link AsyncRuntime#drain()}. Timer wake-ups go to a {@link ManualScheduler} that runs them
 * only when the test says so, and work runs go to a {@link ManualExecutor}. The library reads the
 * real clocks, so the test uses only deadlines whose outcome does not depend on when the step
 * runs: absolute deadlines in the past (including {@code Long.MIN_VALUE} and epoch 0), relative
 * starts of 0 (due as soon as applied), deadlines and delays of an hour or more (never due during
 * the test), and {@code Long.MAX_VALUE} (never). A wake-up that runs while the target is in the
 * future only asks the drain for a new wake-up, which the model reflects as "nothing happens".
 *
 * <p>The model follows the contract, not the code: last published command wins when the drain
 * runs; a due timer fires once when its wake-up runs unless a newer command is still waiting for
 * the drain; close clears the callback at once; the runtime's close drops and counts unapplied
 * commands. The one place it encodes a library choice is which callbacks run in what order inside
 * one {@link ManualScheduler#runDue()} pass, which it avoids depending on: a callback only ever
 * touches its own cell, and errors are compared as a multiset.
 *
 * <p>Replay a failing seed with the command printed in the failure, e.g.
 * {@code ./mvnw -B -ntp test -pl src -Dtest=ModelTest -Dlatchwork.seed=123}.
 */
class ModelTest {
    static final int TIMERS = 4; // slots 0..2 MONOTONIC, slot 3 REALTIME
    static final int WORKS = 2;
    static final int OPS = 300;
    static final long NEVER = Long.MAX_VALUE;
    static final long HOUR = TimeUnit.HOURS.toNanos(1);

    @Test
    void sequentialModel() {
        final long[] seeds = Seeds.seeds(3000);
        final long t0 = System.nanoTime();
        long steps = 0;
        for (final long seed : seeds) {
            final Run run = new Run(seed);
            try {
                run.execute();
            } catch (final AssertionError | RuntimeException e) {
                throw new AssertionError("ModelTest failed for seed " + seed + " at step " + run.step
                    + ": " + e.getMessage() + "\n  replay: " + Seeds.replay(ModelTest.class, "sequentialModel", seed)
                    + "\n  last steps:\n    " + String.join("\n    ", run.trace), e);
            } finally {
                run.shutdown();
            }
            steps += run.step;
        }
        System.out.printf("ModelTest: %d seeds, %d steps, %d fires, %d work runs in %d ms%n", seeds.length, steps,
            Run.totalFires, Run.totalRuns, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        if (Run.VERBOSE) {
            System.out.println(Run.HISTO);
        }
        assertTrue(Run.totalFires > 0 && Run.totalRuns > 0, "the sequences exercised nothing");
    }

    /**
     * The multi-threaded half: {@link ConcurrentModel} runs one seed (threads racing random
     * operations on two runtimes) and checks its invariants. The operation mix is reproducible from
     * the seed, the interleaving is not; a failing seed is worth replaying a few times.
     */
    @Test
    void concurrentInvariants() throws Exception {
        final long[] seeds = Seeds.seeds(1000);
        final long t0 = System.nanoTime();
        for (final long seed : seeds) {
            final ConcurrentModel m = new ConcurrentModel(seed);
            try {
                m.run();
            } catch (final Exception | AssertionError e) {
                throw new AssertionError("ModelTest#concurrentInvariants crashed for seed " + seed + ": " + e
                    + "\n  violations so far: " + m.violations
                    + "\n  replay: " + Seeds.replay(ModelTest.class, "concurrentInvariants", seed), e);
            }
            if (!m.violations.isEmpty()) {
                throw new AssertionError("ModelTest#concurrentInvariants failed for seed " + seed + " (" + m.summary()
                    + "):\n    " + String.join("\n    ", m.violations.subList(0, Math.min(20, m.violations.size())))
                    + "\n  replay: " + Seeds.replay(ModelTest.class, "concurrentInvariants", seed));
            }
            if (Seeds.replaying()) {
                System.out.println("seed " + seed + ": " + m.summary());
            }
        }
        System.out.printf("ModelTest#concurrentInvariants: %d seeds in %d ms%n", seeds.length,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    // ----------------------------------------------------------------------------------------
    // model state

    static final int NONE = 0;
    static final int DUE = 1;
    static final int FAR = 2;

    static final int OP_START_REL = 1;
    static final int OP_START_AT = 2;
    static final int OP_CANCEL = 3;

    static final int W_IDLE = 0;
    static final int W_PENDING = 1;

    /** The model of one runtime and its counters. */
    static final class RtModel {
        final AsyncRuntime rt;
        final int index;
        boolean closed;
        long published;
        long superseded;
        long dropped;
        long fired;
        long workRuns;
        long errors;
        long live;
        long armed;

        RtModel(final AsyncRuntime rt, final int index) {
            this.rt = rt;
            this.index = index;
        }
    }

    /** One owner object per control block (a fresh one at every init). */
    static final class Owner {
        final int slot;
        final TimerClock clock;
        final int gen;
        int fires;
        int runs;
        int expFires;
        int expRuns;
        final List<Integer> statuses = new ArrayList<>();
        final List<Integer> expStatuses = new ArrayList<>();

        Owner(final int slot, final TimerClock clock, final int gen) {
            this.slot = slot;
            this.clock = clock;
            this.gen = gen;
        }

        @Override
        public String toString() {
            return (clock == null ? "W" : "T") + slot + "#" + gen;
        }
    }

    /** The model of one control block. */
    static final class Block {
        final RtModel rt;
        final Owner owner;
        final boolean timer;
        int cb = -1;
        int pendOp;
        long pendArg;
        int pendCount;
        boolean detached;
        // timer applied state
        int kind = NONE;
        boolean exact;
        long value = NEVER;
        // work applied state
        int run = W_IDLE;
        /** Publish counter, and the numbers of the latest applied start and latest sync cancel. */
        long seq;
        long pendNum;
        long startNum;
        long syncCancelNum;

        Block(final RtModel rt, final Owner owner, final boolean timer) {
            this.rt = rt;
            this.owner = owner;
            this.timer = timer;
        }
    }

    /** One seeded sequence. */
    static final class Run {
        static final boolean VERBOSE = Boolean.getBoolean("latchwork.verbose");
        /** Status histogram per operation, printed with -Dlatchwork.verbose=true to judge coverage. */
        static final Map<String, Integer> HISTO = new TreeMap<>();
        static long totalFires;
        static long totalRuns;

        final long seed;
        final SplittableRandom rnd;
        final ManualScheduler sched = new ManualScheduler();
        final ManualExecutor exec = new ManualExecutor();
        final List<Throwable> reported = new ArrayList<>();
        final List<String> expectedErrors = new ArrayList<>();
        final List<RtModel> runtimes = new ArrayList<>();
        RtModel cur;
        final AsyncTimer<Owner>[] timers;
        final AsyncWork<Owner>[] works;
        final Block[] tBlocks = new Block[TIMERS];
        final Block[] wBlocks = new Block[WORKS];
        final List<Block> zombies = new ArrayList<>();
        final List<Owner> owners = new ArrayList<>();
        final ArrayDeque<String> trace = new ArrayDeque<>();
        final List<TimerCallback<Owner>> tcb = new ArrayList<>();
        final List<WorkCallback<Owner>> wcb = new ArrayList<>();
        int step;
        int gens;

        final long baseMono = System.nanoTime();
        final long baseEpoch = System.currentTimeMillis() * 1_000_000L;

        @SuppressWarnings("unchecked")
        Run(final long seed) {
            this.seed = seed;
            this.rnd = new SplittableRandom(seed);
            timers = new AsyncTimer[TIMERS];
            for (int i = 0; i < TIMERS; i++) {
                timers[i] = new AsyncTimer<>();
            }
            works = new AsyncWork[WORKS];
            for (int i = 0; i < WORKS; i++) {
                works[i] = new AsyncWork<>();
            }
            for (int v = 0; v < 8; v++) {
                final int variant = v;
                tcb.add((o, t) -> onTimer(variant, o, t));
            }
            for (int v = 0; v < 6; v++) {
                final int variant = v;
                wcb.add((o, w) -> onWork(variant, o, w));
            }
            cur = newRuntime();
        }

        RtModel newRuntime() {
            final AsyncRuntime rt = AsyncRuntime.builder()
                .dispatchMode(DispatchMode.HOST_DRIVEN)
                .timerScheduler(sched)
                .workExecutor(exec)
                .errorHandler(reported::add)
                .build();
            final RtModel m = new RtModel(rt, runtimes.size());
            runtimes.add(m);
            return m;
        }

        void shutdown() {
            for (final RtModel m : runtimes) {
                m.rt.close();
            }
        }

        // ---- clocks and deadlines ----

        static boolean mono(final TimerClock c) {
            return c == TimerClock.MONOTONIC;
        }

        long now(final TimerClock c) {
            return mono(c) ? System.nanoTime() : System.currentTimeMillis() * 1_000_000L;
        }

        long past(final TimerClock c) {
            switch (rnd.nextInt(4)) {
                case 0: return Long.MIN_VALUE;
                case 1: return mono(c) ? baseMono - 1 : 0L;
                default: return (mono(c) ? baseMono : baseEpoch) - 1_000_000_000L - rnd.nextInt(1_000_000);
            }
        }

        long far(final TimerClock c) {
            return (mono(c) ? baseMono : baseEpoch) + 2 * HOUR + rnd.nextInt(1_000_000);
        }

        long farForCallback(final TimerClock c) {
            return (mono(c) ? baseMono : baseEpoch) + 3 * HOUR;
        }

        // ---- the real callbacks ----

        void onTimer(final int v, final Owner o, final AsyncTimer<Owner> t) {
            o.fires++;
            totalFires++;
            switch (v) {
                case 1: o.statuses.add(t.startAt(farForCallback(o.clock))); break;
                case 2: o.statuses.add(t.close()); break;
                case 3: throw new IllegalStateException("injected by model, timer variant 3");
                case 4: o.statuses.add(t.cancelAsync()); break;
                case 5: o.statuses.add(t.cancel()); break;
                case 6: o.statuses.add(t.start(mono(o.clock) ? 0 : HOUR)); break;
                case 7: o.statuses.add(t.setCallback(tcb.get(0))); break;
                default: break;
            }
        }

        void onWork(final int v, final Owner o, final AsyncWork<Owner> w) {
            o.runs++;
            totalRuns++;
            switch (v) {
                case 1: o.statuses.add(w.start()); break;
                case 2: o.statuses.add(w.close()); break;
                case 3: throw new Error("injected by model, work variant 3");
                case 4: o.statuses.add(w.cancel()); break;
                case 5: o.statuses.add(w.cancelAsync()); break;
                default: break;
            }
        }

        // ---- the model's reactions ----

        void publish(final Block b, final int op, final long arg) {
            b.pendOp = op;
            b.pendArg = arg;
            b.pendCount++;
            b.pendNum = ++b.seq;
        }

        void setKind(final Block b, final int kind, final boolean exact, final long value) {
            if (b.kind == NONE && kind != NONE) {
                b.rt.armed++;
            } else if (b.kind != NONE && kind == NONE) {
                b.rt.armed--;
            }
            b.kind = kind;
            b.exact = exact;
            b.value = kind == NONE ? NEVER : value;
        }

        void applyTimer(final Block b) {
            final TimerClock c = b.owner.clock;
            switch (b.pendOp) {
                case OP_START_REL:
                    if (b.pendArg == 0) {
                        setKind(b, DUE, false, 0);
                    } else if (b.pendArg == NEVER) {
                        setKind(b, NONE, true, NEVER);
                    } else {
                        setKind(b, FAR, false, 0);
                    }
                    break;
                case OP_START_AT:
                    if (b.pendArg == NEVER) {
                        setKind(b, NONE, true, NEVER);
                    } else if (b.pendArg <= now(c)) {
                        setKind(b, DUE, true, b.pendArg);
                    } else {
                        setKind(b, FAR, true, b.pendArg);
                    }
                    break;
                case OP_CANCEL:
                    setKind(b, NONE, true, NEVER);
                    break;
                default:
                    throw new AssertionError("bad op " + b.pendOp);
            }
        }

        void applyWork(final Block b) {
            if (b.pendOp == OP_START_REL) {
                b.startNum = b.pendNum;
                if (b.run == W_IDLE) {
                    b.run = W_PENDING;
                }
            } else if (b.pendOp == OP_CANCEL) {
                b.run = W_IDLE;
            }
        }

        void modelDrain() {
            final RtModel r = cur;
            if (r.closed) {
                return;
            }
            for (final Block b : allAttached()) {
                if (b.rt == r && b.pendCount > 0) {
                    r.published += b.pendCount;
                    r.superseded += b.pendCount - 1;
                    if (b.timer) {
                        applyTimer(b);
                    } else {
                        applyWork(b);
                    }
                    b.pendCount = 0;
                }
            }
            for (final Block z : new ArrayList<>(zombies)) {
                if (z.rt != r) {
                    continue;
                }
                r.published += z.pendCount;
                r.dropped += z.pendCount;
                z.pendCount = 0;
                if (z.timer) {
                    setKind(z, NONE, true, NEVER);
                } else {
                    z.run = W_IDLE;
                }
                r.live--;
                zombies.remove(z);
            }
        }

        List<Block> allAttached() {
            final List<Block> l = new ArrayList<>();
            for (final Block b : tBlocks) {
                if (b != null) {
                    l.add(b);
                }
            }
            for (final Block b : wBlocks) {
                if (b != null) {
                    l.add(b);
                }
            }
            return l;
        }

        void detach(final Block b, final boolean timer, final int slot) {
            if (timer) {
                tBlocks[slot] = null;
            } else {
                wBlocks[slot] = null;
            }
            b.cb = -1;
            b.detached = true;
            zombies.add(b);
        }

        void modelRunDue() {
            for (int i = 0; i < TIMERS; i++) {
                final Block b = tBlocks[i];
                if (b == null || b.kind != DUE || b.rt.closed || b.pendCount > 0) {
                    continue; // a newer command waits for the drain: the wake-up defers to it
                }
                setKind(b, NONE, true, NEVER);
                if (b.cb < 0) {
                    continue;
                }
                b.rt.fired++;
                b.owner.expFires++;
                switch (b.cb) {
                    case 1:
                        b.owner.expStatuses.add(AsyncStatus.OK);
                        publish(b, OP_START_AT, farForCallback(b.owner.clock));
                        break;
                    case 2:
                        b.owner.expStatuses.add(AsyncStatus.OK);
                        detach(b, true, i);
                        break;
                    case 3:
                        b.rt.errors++;
                        expectedErrors.add(IllegalStateException.class.getSimpleName());
                        break;
                    case 4:
                        b.owner.expStatuses.add(AsyncStatus.OK);
                        publish(b, OP_CANCEL, 0);
                        break;
                    case 5:
                        b.owner.expStatuses.add(AsyncStatus.DEADLOCK);
                        break;
                    case 6:
                        b.owner.expStatuses.add(AsyncStatus.OK);
                        publish(b, OP_START_REL, mono(b.owner.clock) ? 0 : HOUR);
                        break;
                    case 7:
                        b.owner.expStatuses.add(AsyncStatus.OK);
                        b.cb = 0;
                        break;
                    default:
                        break;
                }
            }
        }

        void modelRunWork() {
            for (final Block z : zombies) {
                if (!z.timer) {
                    z.run = W_IDLE; // the run finds the block detached: no callback
                }
            }
            for (int i = 0; i < WORKS; i++) {
                final Block b = wBlocks[i];
                if (b == null || b.run != W_PENDING) {
                    continue;
                }
                b.run = W_IDLE;
                if (b.rt.closed || b.cb < 0 || b.startNum <= b.syncCancelNum) {
                    continue;
                }
                if (b.pendCount > 0 && b.pendOp == OP_CANCEL) {
                    continue; // contract 3.1: a cancel published (not yet applied) stops a run not started
                }
                b.rt.workRuns++;
                b.owner.expRuns++;
                switch (b.cb) {
                    case 1:
                        b.owner.expStatuses.add(AsyncStatus.OK);
                        publish(b, OP_START_REL, 0);
                        break;
                    case 2:
                        b.owner.expStatuses.add(AsyncStatus.OK);
                        detach(b, false, i);
                        break;
                    case 3:
                        b.rt.errors++;
                        expectedErrors.add(Error.class.getSimpleName());
                        break;
                    case 4:
                        b.owner.expStatuses.add(AsyncStatus.DEADLOCK);
                        break;
                    case 5:
                        b.owner.expStatuses.add(AsyncStatus.OK);
                        publish(b, OP_CANCEL, 0);
                        break;
                    default:
                        break;
                }
            }
        }

        void modelCloseRuntime() {
            final RtModel r = cur;
            r.closed = true;
            final List<Block> all = allAttached();
            all.addAll(zombies);
            for (final Block b : all) {
                if (b.rt == r && b.pendCount > 0) {
                    r.published += b.pendCount;
                    r.dropped += b.pendCount;
                    b.pendCount = 0;
                }
            }
        }

        // ---- the sequence ----

        void note(final String s) {
            trace.addLast(step + ": " + s);
            if (trace.size() > Integer.getInteger("latchwork.trace", 30)) {
                trace.removeFirst();
            }
        }

        void expectStatus(final String what, final int expected, final int actual) {
            note(what + " -> " + AsyncStatus.name(actual));
            if (VERBOSE) {
                final String op = what.replaceAll("[0-9#(),+-]|base|epoch|rt|null|owner|clock|MIN|MAX|HOURS|DAYS|closed| ", "");
                HISTO.merge(op + "=" + AsyncStatus.name(actual), 1, Integer::sum);
            }
            if (expected != actual) {
                throw new AssertionError(what + ": expected " + AsyncStatus.name(expected) + " but got "
                    + AsyncStatus.name(actual));
            }
        }

        int publishStatus(final Block b, final boolean needsCallback) {
            if (b == null) {
                return AsyncStatus.NOT_INITIALIZED;
            }
            if (b.rt.closed) {
                return AsyncStatus.CLOSED;
            }
            if (needsCallback && b.cb < 0) {
                return AsyncStatus.NO_CALLBACK;
            }
            return AsyncStatus.OK;
        }

        void execute() {
            for (step = 1; step <= OPS; step++) {
                oneStep();
                check();
            }
            // settle everything that can still happen, then close
            step++;
            for (int round = 0; round < 4; round++) {
                drainAll();
                runDue();
                drainAll();
                runWork();
            }
            drainAll();
            check();
            if (!cur.closed) {
                closeRuntime();
                check();
            }
        }

        void oneStep() {
            if (cur.closed && rnd.nextInt(4) == 0) {
                cur = newRuntime();
                note("new runtime #" + cur.index);
                return;
            }
            final int p = rnd.nextInt(1000);
            if (p < 80) {
                timerInit(rnd.nextInt(TIMERS));
            } else if (p < 90) {
                timerInitOddities(rnd.nextInt(TIMERS));
            } else if (p < 170) {
                timerSetCallback(rnd.nextInt(TIMERS));
            } else if (p < 290) {
                timerStart(rnd.nextInt(TIMERS));
            } else if (p < 410) {
                timerStartAt(rnd.nextInt(TIMERS));
            } else if (p < 470) {
                timerCancelAsync(rnd.nextInt(TIMERS));
            } else if (p < 500) {
                timerCancel(rnd.nextInt(TIMERS));
            } else if (p < 540) {
                cellClose(true, rnd.nextInt(TIMERS));
            } else if (p < 620) {
                drainAll();
            } else if (p < 690) {
                runDue();
            } else if (p < 760) {
                drainAll(); // a duty cycle: apply commands, then let the timer thread run
                runDue();
            } else if (p < 810) {
                runWork();
            } else if (p < 850) {
                workInit(rnd.nextInt(WORKS));
            } else if (p < 890) {
                workSetCallback(rnd.nextInt(WORKS));
            } else if (p < 950) {
                workStart(rnd.nextInt(WORKS));
            } else if (p < 970) {
                workCancelAsync(rnd.nextInt(WORKS));
            } else if (p < 980) {
                workCancel(rnd.nextInt(WORKS));
            } else if (p < 995) {
                cellClose(false, rnd.nextInt(WORKS));
            } else {
                closeRuntime();
            }
        }

        static TimerClock clockOf(final int slot) {
            return slot == 3 ? TimerClock.REALTIME : TimerClock.MONOTONIC;
        }

        void timerInit(final int i) {
            final Owner o = new Owner(i, clockOf(i), ++gens);
            final int expected = cur.closed ? AsyncStatus.CLOSED : tBlocks[i] != null ? AsyncStatus.BUSY : AsyncStatus.OK;
            expectStatus("T" + i + ".init(rt#" + cur.index + ", " + o + ")", expected, timers[i].init(cur.rt, o, o.clock));
            if (expected == AsyncStatus.OK) {
                owners.add(o);
                tBlocks[i] = new Block(cur, o, true);
                cur.live++;
            }
        }

        void timerInitOddities(final int i) {
            final Owner o = new Owner(i, clockOf(i), ++gens);
            switch (rnd.nextInt(3)) {
                case 0:
                    expectStatus("T" + i + ".init(null owner)", AsyncStatus.INVALID_ARGUMENT, timers[i].init(cur.rt, null, o.clock));
                    break;
                case 1:
                    expectStatus("T" + i + ".init(null clock)", AsyncStatus.INVALID_ARGUMENT, timers[i].init(cur.rt, o, null));
                    break;
                default:
                    final RtModel closed = firstClosed();
                    if (closed != null) {
                        expectStatus("T" + i + ".init(closed rt#" + closed.index + ")", AsyncStatus.CLOSED,
                            timers[i].init(closed.rt, o, o.clock));
                    }
                    break;
            }
        }

        RtModel firstClosed() {
            for (final RtModel m : runtimes) {
                if (m.closed) {
                    return m;
                }
            }
            return null;
        }

        void timerSetCallback(final int i) {
            final Block b = tBlocks[i];
            if (rnd.nextInt(60) == 0) {
                expectStatus("T" + i + ".setCallback(null)", AsyncStatus.INVALID_ARGUMENT, timers[i].setCallback(null));
                return;
            }
            final int v = rnd.nextBoolean() ? 0 : rnd.nextInt(8);
            final int expected = b == null ? AsyncStatus.NOT_INITIALIZED : b.rt.closed ? AsyncStatus.CLOSED : AsyncStatus.OK;
            expectStatus("T" + i + ".setCallback(v" + v + ")", expected, timers[i].setCallback(tcb.get(v)));
            if (expected == AsyncStatus.OK) {
                b.cb = v;
            }
        }

        /** Most of the time, make the cell ready first, so that most commands are accepted. */
        void prepare(final boolean timer, final int i, final boolean needsCallback) {
            final Block[] blocks = timer ? tBlocks : wBlocks;
            if (blocks[i] != null && blocks[i].rt.closed && rnd.nextInt(3) != 0) {
                cellClose(timer, i);
            }
            if (blocks[i] == null && !cur.closed && rnd.nextInt(5) != 0) {
                if (timer) {
                    timerInit(i);
                } else {
                    workInit(i);
                }
            }
            if (needsCallback && blocks[i] != null && blocks[i].cb < 0 && rnd.nextInt(5) != 0) {
                if (timer) {
                    timerSetCallback(i);
                } else {
                    workSetCallback(i);
                }
            }
        }

        void timerStart(final int i) {
            prepare(true, i, true);
            final Block b = tBlocks[i];
            final TimerClock c = clockOf(i);
            final int k = rnd.nextInt(40);
            final String what;
            final int actual;
            final long delay;
            if (k == 0) {
                expectStatus("T" + i + ".start(-1)", AsyncStatus.INVALID_ARGUMENT, timers[i].start(-1));
                return;
            } else if (k == 1) {
                expectStatus("T" + i + ".start(1, null)", AsyncStatus.INVALID_ARGUMENT, timers[i].start(1, null));
                return;
            } else if (k == 2) {
                delay = NEVER;
                what = "start(MAX)";
                actual = timers[i].start(NEVER);
            } else if (k == 3) {
                delay = NEVER;
                what = "start(MAX, DAYS)";
                actual = timers[i].start(Long.MAX_VALUE, TimeUnit.DAYS);
            } else if (k <= 13 || !mono(c)) {
                delay = HOUR;
                what = "start(1, HOURS)";
                actual = timers[i].start(1, TimeUnit.HOURS);
            } else {
                delay = 0;
                what = "start(0)";
                actual = timers[i].start(0);
            }
            final int expected = publishStatus(b, true);
            expectStatus("T" + i + "." + what, expected, actual);
            if (expected == AsyncStatus.OK) {
                publish(b, OP_START_REL, delay);
            }
        }

        void timerStartAt(final int i) {
            prepare(true, i, true);
            final Block b = tBlocks[i];
            final TimerClock c = clockOf(i);
            final int k = rnd.nextInt(10);
            final long d = k < 5 ? past(c) : k < 9 ? far(c) : NEVER;
            final int expected = publishStatus(b, true);
            expectStatus("T" + i + ".startAt(" + describe(c, d) + ")", expected, timers[i].startAt(d));
            if (expected == AsyncStatus.OK) {
                publish(b, OP_START_AT, d);
            }
        }

        String describe(final TimerClock c, final long d) {
            if (d == NEVER) {
                return "MAX";
            }
            if (d == Long.MIN_VALUE) {
                return "MIN";
            }
            final long base = mono(c) ? baseMono : baseEpoch;
            return "base" + (d >= base ? "+" : "") + (d - base) + (mono(c) ? "" : " epoch");
        }

        void timerCancelAsync(final int i) {
            prepare(true, i, false);
            final Block b = tBlocks[i];
            final int expected = publishStatus(b, false);
            expectStatus("T" + i + ".cancelAsync()", expected, timers[i].cancelAsync());
            if (expected == AsyncStatus.OK) {
                publish(b, OP_CANCEL, 0);
            }
        }

        void timerCancel(final int i) {
            final Block b = tBlocks[i];
            final int expected;
            if (b == null) {
                expected = AsyncStatus.NOT_INITIALIZED;
            } else if (b.rt.closed) {
                expected = AsyncStatus.CLOSED;
            } else {
                // the latest command decides (last command wins): an unapplied cancel means nothing
                // is pending, whatever the backend still shows; an unapplied start is pending
                final boolean pending = b.pendCount > 0 ? b.pendOp != OP_CANCEL : b.kind != NONE;
                expected = pending ? AsyncStatus.WAS_PENDING : AsyncStatus.OK;
            }
            expectStatus("T" + i + ".cancel()", expected, timers[i].cancel());
            if (b != null && !b.rt.closed) {
                b.cb = -1;
                publish(b, OP_CANCEL, 0);
            }
        }

        void cellClose(final boolean timer, final int i) {
            final Block b = timer ? tBlocks[i] : wBlocks[i];
            final int expected = b == null ? AsyncStatus.NOT_INITIALIZED : b.rt.closed ? AsyncStatus.CLOSED : AsyncStatus.OK;
            expectStatus((timer ? "T" : "W") + i + ".close()", expected, timer ? timers[i].close() : works[i].close());
            if (b != null) {
                detach(b, timer, i);
            }
        }

        void workInit(final int i) {
            final Owner o = new Owner(i, null, ++gens);
            if (rnd.nextInt(20) == 0) {
                expectStatus("W" + i + ".init(null owner)", AsyncStatus.INVALID_ARGUMENT, works[i].init(cur.rt, null));
                return;
            }
            final int expected = cur.closed ? AsyncStatus.CLOSED : wBlocks[i] != null ? AsyncStatus.BUSY : AsyncStatus.OK;
            expectStatus("W" + i + ".init(rt#" + cur.index + ", " + o + ")", expected, works[i].init(cur.rt, o));
            if (expected == AsyncStatus.OK) {
                owners.add(o);
                wBlocks[i] = new Block(cur, o, false);
                cur.live++;
            }
        }

        void workSetCallback(final int i) {
            final Block b = wBlocks[i];
            final int v = rnd.nextBoolean() ? 0 : rnd.nextInt(6);
            final int expected = b == null ? AsyncStatus.NOT_INITIALIZED : b.rt.closed ? AsyncStatus.CLOSED : AsyncStatus.OK;
            expectStatus("W" + i + ".setCallback(v" + v + ")", expected, works[i].setCallback(wcb.get(v)));
            if (expected == AsyncStatus.OK) {
                b.cb = v;
            }
        }

        void workStart(final int i) {
            prepare(false, i, true);
            final Block b = wBlocks[i];
            final int expected = publishStatus(b, true);
            expectStatus("W" + i + ".start()", expected, works[i].start());
            if (expected == AsyncStatus.OK) {
                publish(b, OP_START_REL, 0);
            }
        }

        void workCancelAsync(final int i) {
            final Block b = wBlocks[i];
            final int expected = publishStatus(b, false);
            expectStatus("W" + i + ".cancelAsync()", expected, works[i].cancelAsync());
            if (expected == AsyncStatus.OK) {
                publish(b, OP_CANCEL, 0);
            }
        }

        void workCancel(final int i) {
            final Block b = wBlocks[i];
            final int expected;
            if (b == null) {
                expected = AsyncStatus.NOT_INITIALIZED;
            } else if (b.rt.closed) {
                expected = AsyncStatus.CLOSED;
            } else {
                final boolean pending = b.pendCount > 0 ? b.pendOp != OP_CANCEL : b.run == W_PENDING;
                expected = pending ? AsyncStatus.WAS_PENDING : AsyncStatus.OK;
            }
            expectStatus("W" + i + ".cancel()", expected, works[i].cancel());
            if (b != null && !b.rt.closed) {
                b.cb = -1;
                publish(b, OP_CANCEL, 0);
                b.syncCancelNum = b.pendNum; // a queued run serving an older start runs nothing
            }
        }

        void drainAll() {
            int n = 0;
            for (int k; (k = cur.rt.drain()) > 0; ) {
                n += k;
            }
            note("drain rt#" + cur.index + " -> " + n + " blocks");
            modelDrain();
        }

        void runDue() {
            final int n = sched.runDue();
            note("runDue -> " + n + " wake-ups");
            modelRunDue();
        }

        void runWork() {
            final int n = exec.runAll();
            note("runWork -> " + n + " tasks");
            modelRunWork();
        }

        void closeRuntime() {
            cur.rt.close();
            note("close rt#" + cur.index);
            modelCloseRuntime();
            checkStats(cur, true);
        }

        // ---- the comparison ----

        void check() {
            for (int i = 0; i < TIMERS; i++) {
                final Block b = tBlocks[i];
                final AsyncTimer<Owner> t = timers[i];
                eq("T" + i + ".isInitialized()", b != null, t.isInitialized());
                if (b == null || b.rt.closed) {
                    continue; // after the runtime's close the racy queries are unspecified
                }
                eq("T" + i + ".isArmed()", b.kind != NONE, t.isArmed());
                final long d = t.deadline();
                if (b.kind == NONE) {
                    eq("T" + i + ".deadline()", NEVER, d);
                } else if (b.exact) {
                    eq("T" + i + ".deadline()", b.value, d);
                } else if (b.kind == DUE) {
                    truth("T" + i + ".deadline() due", d <= now(b.owner.clock));
                } else {
                    truth("T" + i + ".deadline() an hour away", d > now(b.owner.clock) + HOUR / 2 && d != NEVER);
                }
            }
            for (int i = 0; i < WORKS; i++) {
                final Block b = wBlocks[i];
                eq("W" + i + ".isInitialized()", b != null, works[i].isInitialized());
                if (b != null && !b.rt.closed) {
                    eq("W" + i + ".isPending()", b.run == W_PENDING, works[i].isPending());
                }
            }
            for (final Owner o : owners) {
                eq(o + " fires", o.expFires, o.fires);
                eq(o + " runs", o.expRuns, o.runs);
                if (!o.expStatuses.equals(o.statuses)) {
                    eq(o + " statuses seen by its callback", names(o.expStatuses), names(o.statuses));
                }
            }
            if (reported.size() != expectedErrors.size() || reported.size() != checkedErrors) {
                checkErrors();
            }
            if (!cur.closed) {
                checkStats(cur, false);
            }
        }

        int checkedErrors;

        void checkErrors() {
            checkedErrors = reported.size();
            final List<String> actualErrors = new ArrayList<>();
            for (final Throwable t : reported) {
                actualErrors.add(t.getClass().getSimpleName());
            }
            final List<String> exp = new ArrayList<>(expectedErrors);
            Collections.sort(exp);
            Collections.sort(actualErrors);
            eq("errors reported to the handler", exp, actualErrors);
        }

        void checkStats(final RtModel m, final boolean closed) {
            final AsyncStats s = m.rt.stats();
            final String p = "rt#" + m.index + " stats ";
            eq(p + "commandsPublished", m.published, s.commandsPublished());
            eq(p + "commandsSuperseded", m.superseded, s.commandsSuperseded());
            eq(p + "commandsDropped", m.dropped, s.commandsDropped());
            eq(p + "timersFired", m.fired, s.timersFired());
            eq(p + "workRuns", m.workRuns, s.workRuns());
            eq(p + "callbackErrors", m.errors, s.callbackErrors());
            eq(p + "busy", 0L, s.busy());
            if (!closed) {
                eq(p + "controlBlocksLive", m.live, s.controlBlocksLive());
                eq(p + "timersArmed", m.armed, s.timersArmed());
            }
        }

        static List<String> names(final List<Integer> statuses) {
            final List<String> l = new ArrayList<>();
            for (final int s : statuses) {
                l.add(AsyncStatus.name(s));
            }
            return l;
        }

        static void eq(final String what, final Object expected, final Object actual) {
            if (!expected.equals(actual)) {
                throw new AssertionError(what + ": model says " + expected + ", library says " + actual);
            }
        }

        static void truth(final String what, final boolean ok) {
            if (!ok) {
                throw new AssertionError(what + " does not hold");
            }
        }
    }
}
