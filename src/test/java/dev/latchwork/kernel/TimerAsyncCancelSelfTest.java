package dev.latchwork.kernel;

import static dev.latchwork.AsyncStatus.OK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.latchwork.AsyncStats;
import dev.latchwork.AsyncTimer;
import dev.latchwork.DispatchMode;
import dev.latchwork.TestBackend;
import dev.latchwork.TimerClock;

/**
 * Port of the kernel's {@code serial_test_timer_async_cancel} ({@code fe9d205cec8c}):
 * {@code start(100 µs)} immediately followed by {@code bpf_timer_cancel_async}; the callback
 * (which would set {@code err = 42}) must never run, and {@code ok == 7}.
 *
 * <table>
 *   <caption>kernel check → JVM check in this class</caption>
 *   <tr><th>kernel</th><th>here</th></tr>
 *   <tr><td>init array timer (MONOTONIC), {@code set_callback(timer_error)}, {@code start(100 µs)},
 *       {@code bpf_timer_cancel_async}, {@code ok = 7}; test_run retval 0</td>
 *       <td>per round on a fresh cell: {@code init} OK (ok bit 1), {@code setCallback} + {@code start(100 µs)}
 *       OK (bit 2), {@code cancelAsync} OK (bit 4); every round must reach {@code ok == 7}</td></tr>
 *   <tr><td>{@code usleep(500)}, then {@code err == 0}: the callback never ran. In syscall context the
 *       kernel cancel is synchronous ({@code hrtimer_try_to_cancel}), so "never" is unconditional</td>
 *       <td>wait 100 ms (far beyond 100 µs plus dispatch latency), then no callback ran. In the JVM
 *       the guarantee is exactly "last command wins": the cancel supersedes the start <i>if it is
 *       published before the start's deadline</i>. The deadline is at least {@code start call + 100 µs}
 *       (a relative start is measured from when the drain applies it), so a round is
 *       <i>conclusive</i> when {@code cancelAsync} returned within 100 µs of calling {@code start};
 *       a callback in a conclusive round fails the test. A round whose thread was descheduled for
 *       longer may legitimately fire (the cancel really came after the deadline): it is counted and
 *       reported, never asserted</td></tr>
 *   <tr><td>—</td><td>{@link #hostDrivenCancelSupersedesUnappliedStart}: in HOST_DRIVEN with the test
 *       thread as the only drainer, the start is provably never applied (the drain sees only the
 *       newer cancel), so "never" is unconditional, like the kernel's; {@code commandsSuperseded}
 *       counts the superseded starts</td></tr>
 * </table>
 *
 * <p>Why conclusive rounds can never fire, per the core's design: the cancel's latch write is
 * linearized before the deadline; the wake-up runs at or after the deadline (the executor never runs
 * a task early and the wake-up re-checks the clock). When it runs, either the cancel is still
 * unapplied (a published command is in flight: the wake-up hands over to the drain and fires
 * nothing), or the drain already applied it (the target is {@code NEVER}: the fire CAS fails).
 * The wake-up must read "command in flight" before "drain idle" for this to hold — see the core
 * fix in {@code TimerBlock.onWake} committed beside this test.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TimerAsyncCancelSelfTest {
    static final long DELAY_NANOS = 100_000; // 100 µs, as in the kernel
    static final int ROUNDS = 400;

    static final class Round {
        final AsyncTimer<Round> timer = new AsyncTimer<>();
        volatile int err;
        int ok;
        boolean conclusive;
    }

    @TestBackend.BothBackends
    void asyncCancelSucceeds(final DispatchMode mode) {
        try (Harness h = Harness.of(mode)) {
            final Round[] rounds = new Round[ROUNDS];
            int conclusive = 0;
            for (int i = 0; i < ROUNDS; i++) {
                final Round r = rounds[i] = new Round();
                if (r.timer.init(h.rt, r, TimerClock.MONOTONIC) == OK) {
                    r.ok |= 1;
                }
                final int sc = r.timer.setCallback((o, t) -> o.err = 42); // timer_error
                final long t0 = System.nanoTime();
                final int st = r.timer.start(DELAY_NANOS);
                final int ca = r.timer.cancelAsync();
                final long t1 = System.nanoTime();
                if (sc == OK && st == OK) {
                    r.ok |= 2;
                }
                if (ca == OK) {
                    r.ok |= 4;
                }
                r.conclusive = t1 - t0 < DELAY_NANOS;
                if (r.conclusive) {
                    conclusive++;
                }
            }
            Harness.pause(100); // "well beyond" 100 µs
            int firedConclusive = 0;
            int firedInconclusive = 0;
            for (final Round r : rounds) {
                assertEquals(7, r.ok, "ok");
                if (r.err != 0) {
                    if (r.conclusive) {
                        firedConclusive++;
                    } else {
                        firedInconclusive++;
                    }
                }
            }
            final AsyncStats s = h.rt.stats();
            System.out.printf("timer_async_cancel[%s]: rounds=%d conclusive=%d fired(conclusive)=%d "
                + "fired(inconclusive, legitimate)=%d stats=%s%n", mode, ROUNDS, conclusive, firedConclusive,
                firedInconclusive, s);
            assertEquals(0, firedConclusive, "callback ran although cancelAsync was published before the deadline");
            assertTrue(h.errors.isEmpty(), h::errorsText);
            Assumptions.assumeTrue(conclusive > 0, "machine too loaded: no round cancelled within 100 µs");
        }
    }

    /** HOST_DRIVEN, the test thread drains: the cancel supersedes the start before it is applied. */
    @Test
    void hostDrivenCancelSupersedesUnappliedStart() {
        try (Harness h = Harness.hostDrivenManual()) {
            final Round[] rounds = new Round[ROUNDS];
            for (int i = 0; i < ROUNDS; i++) {
                final Round r = rounds[i] = new Round();
                assertEquals(OK, r.timer.init(h.rt, r, TimerClock.MONOTONIC));
                assertEquals(OK, r.timer.setCallback((o, t) -> o.err = 42));
                assertEquals(OK, r.timer.start(DELAY_NANOS));
                assertEquals(OK, r.timer.cancelAsync());
                r.ok = 7;
                if (i % 16 == 15) {
                    h.rt.drain();
                }
            }
            final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
            while (System.nanoTime() - end < 0) {
                if (h.rt.drain() == 0) {
                    Harness.spin(20_000);
                }
            }
            for (final Round r : rounds) {
                assertEquals(0, r.err, "callback ran");
                assertFalse(r.timer.isArmed(), "armed after a superseding cancel");
            }
            final AsyncStats s = h.rt.stats();
            assertEquals(ROUNDS, s.commandsSuperseded(), () -> "every start superseded: " + s);
            assertEquals(2L * ROUNDS, s.commandsPublished(), () -> "published: " + s);
            assertEquals(0, s.timersFired(), s::toString);
            assertTrue(h.errors.isEmpty(), h::errorsText);
        }
    }
}
