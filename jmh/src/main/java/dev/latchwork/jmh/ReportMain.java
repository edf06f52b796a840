package dev.latchwork.jmh;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Turns a JMH JSON result file of {@link TimerBench} (and {@link SharedCellBench}) into the
 * markdown tables of {@code docs/BENCHMARKS.md}: ns/op ± error, B/op, ratio to the floor, 2-thread
 * scaling, latchwork's speed-up over each peer, and the contract's section 5 goals marked met or
 * missed with the measured figures. With {@code --best} every comparison uses each benchmark's
 * fastest measurement iteration instead of the mean (for preliminary runs on a loaded machine,
 * where the mean mostly measures the other processes); the tables then show "best (mean ± error)".
 *
 * <pre>
 * java -cp jmh/target/benchmarks.jar dev.latchwork.jmh.ReportMain [--best] timer.json [shared-cell.json]
 * </pre>
 */
public final class ReportMain {
    private static final String TIMER = "TimerBench";
    private static final String[] WORKLOADS = {"rearm", "armCancel"};
    private static final String[] PEERS = {"netty-hwt", "jdk-stpe", "jdk25-fjp", "agrona-wheel-lock"};
    private static final String[] HOT_MODES = {"latchwork-deferred", "latchwork-host"};
    /** JMH's own allocation per op in an allocation-free benchmark is ~1e-4 B/op; anything under this is "0". */
    private static final double ZERO_BYTES = 0.01;

    private final Results r;
    private final List<String> impls = new ArrayList<>();
    private final List<Integer> cells = new ArrayList<>();

    private ReportMain(final Results r) {
        this.r = r;
        for (final String impl : Timeouts.IMPLS) {
            if (r.rows.stream().anyMatch(row -> impl.equals(row.impl) && TIMER.equals(row.benchClass))) {
                impls.add(impl);
            }
        }
        final TreeSet<Integer> c = new TreeSet<>();
        r.rows.stream().filter(row -> TIMER.equals(row.benchClass)).forEach(row -> c.add(row.cells));
        cells.addAll(c);
    }

    public static void main(final String[] args) throws Exception {
        final boolean best = args.length > 0 && "--best".equals(args[0]);
        final int first = best ? 1 : 0;
        if (args.length <= first) {
            System.err.println("usage: ReportMain [--best] results.json [more-results.json ...]");
            System.exit(2);
        }
        final Path[] in = new Path[args.length - first];
        for (int i = first; i < args.length; i++) {
            in[i - first] = Paths.get(args[i]);
        }
        new ReportMain(Results.read(best, in)).print();
    }

    private void print() {
        System.out.printf(Locale.ROOT, "_JMH %s, JDK %s (%s), %d CPUs on the reporting machine._%n%n", r.jmh, r.jdk, r.vm,
            Runtime.getRuntime().availableProcessors());
        if (r.best) {
            System.out.println("_Compared statistic: each benchmark's **best** measurement iteration (the mean ± 99.9 % error"
                + " follows in parentheses). Use the mean on a quiet machine._");
            System.out.println();
        }
        for (final String w : WORKLOADS) {
            for (final int c : cells) {
                workloadTable(w, c);
            }
        }
        speedups();
        goals();
        sharedCell();
    }

    // ------------------------------------------------------------------------------------------

    private static String title(final String workload) {
        return "rearm".equals(workload) ? "re-arm an idle timeout on every event" : "arm then cancel";
    }

    private static String cellsTitle(final int c) {
        return c == 1 ? "one cell per thread" : String.format(Locale.ROOT, "round-robin over %,d cells (each thread its own share)", c);
    }

    private double score(final String workload, final int threads, final String impl, final int c) {
        final Results.Row row = r.find(TIMER, workload + "_" + threads + "t", impl, c);
        return row == null ? Double.NaN : row.score;
    }

    private void workloadTable(final String workload, final int c) {
        System.out.printf(Locale.ROOT, "#### %s — %s%n%n", title(workload), cellsTitle(c));
        System.out.println("| contender | 1 thread ns/op | B/op | × floor | 2 threads ns/op | B/op | × floor | 2-thread throughput ÷ 1-thread |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (final String impl : impls) {
            final Results.Row one = r.find(TIMER, workload + "_1t", impl, c);
            final Results.Row two = r.find(TIMER, workload + "_2t", impl, c);
            if (one == null && two == null) {
                continue;
            }
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s |%n", label(impl), nsErr(one), bytes(one),
                times(ratio(one, r.find(TIMER, workload + "_1t", "floor-2cas", c))), nsErr(two), bytes(two),
                times(ratio(two, r.find(TIMER, workload + "_2t", "floor-2cas", c))),
                one == null || two == null ? "" : times(2 * one.score / two.score));
        }
        System.out.println();
    }

    private void speedups() {
        System.out.println("#### latchwork's speed-up over each peer (peer ns/op ÷ latchwork ns/op; above 1 = latchwork faster)");
        System.out.println();
        final StringBuilder head = new StringBuilder("| latchwork mode | peer |");
        final StringBuilder rule = new StringBuilder("|---|---|");
        for (final String w : WORKLOADS) {
            for (final int c : cells) {
                for (int t = 1; t <= 2; t++) {
                    head.append(String.format(Locale.ROOT, " %s %s %dT |", w, c == 1 ? "1 cell" : shortCells(c), t));
                    rule.append("---:|");
                }
            }
        }
        System.out.println(head);
        System.out.println(rule);
        for (final String lw : new String[] {"latchwork-deferred", "latchwork-host", "latchwork-inline"}) {
            if (!impls.contains(lw)) {
                continue;
            }
            for (final String peer : PEERS) {
                if (!impls.contains(peer)) {
                    continue;
                }
                final StringBuilder line = new StringBuilder("| " + lw + " | " + peer + " |");
                for (final String w : WORKLOADS) {
                    for (final int c : cells) {
                        for (int t = 1; t <= 2; t++) {
                            line.append(' ').append(times(score(w, t, peer, c) / score(w, t, lw, c))).append(" |");
                        }
                    }
                }
                System.out.println(line);
            }
        }
        System.out.println();
    }

    private static String shortCells(final int c) {
        return c % 1000 == 0 ? (c / 1000) + "k cells" : c + " cells";
    }

    // ------------------------------------------------------------------------------------------
    // goals (contract section 5)

    private void goals() {
        System.out.println("#### Contract section 5 goals");
        System.out.println();
        System.out.println("Measured figures are latchwork's (start / cancelAsync) in the two hot-path modes; ratios are"
            + " peer ÷ latchwork (speed-up) or latchwork ÷ floor (cost).");
        System.out.println();
        System.out.println("| goal | mode | measured | verdict |");
        System.out.println("|---|---|---|---|");
        final double floorBytes = maxBytes("floor-2cas");
        for (final String lw : HOT_MODES) {
            if (!impls.contains(lw)) {
                continue;
            }
            final double b = Math.max(maxBytes(lw), maxBytes(lw + "-at"));
            goal("start and cancelAsync allocate 0 B/op", lw,
                String.format(Locale.ROOT, "max %.4f B/op over every workload (floor: %.4f; JMH's own noise)", b, floorBytes),
                b <= ZERO_BYTES ? "met" : "missed");
        }
        for (final String lw : HOT_MODES) {
            cost("1-thread cost ≤ 2× the floor (two CAS)", lw, 2.0);
        }
        for (final String lw : HOT_MODES) {
            speedup("≥ 4× faster than Netty HashedWheelTimer re-arm", lw, "netty-hwt", new String[] {"rearm"}, 1, 4.0, 4.0);
        }
        for (final String lw : HOT_MODES) {
            speedup("≥ 3× faster than STPE (remove-on-cancel) on one cell, ≥ 10× over 100k cells", lw, "jdk-stpe",
                WORKLOADS, 1, 3.0, 10.0);
        }
        for (final String lw : HOT_MODES) {
            speedup("≥ 1.5× faster than Agrona DeadlineTimerWheel + lock at 1 thread", lw, "agrona-wheel-lock",
                WORKLOADS, 1, 1.5, 1.5);
            speedup("≥ 3× faster than Agrona DeadlineTimerWheel + lock at 2 threads", lw, "agrona-wheel-lock",
                WORKLOADS, 2, 3.0, 3.0);
        }
        for (final String lw : HOT_MODES) {
            if (impls.contains("jdk25-fjp")) {
                speedup("JDK 25 ForkJoinPool.schedule + cancel reported", lw, "jdk25-fjp", WORKLOADS, 1, 0, 0);
            } else {
                goal("JDK 25 ForkJoinPool.schedule + cancel reported", lw, "not in this run (JDK " + r.jdk
                    + "; ForkJoinPool.schedule is new in 25)", "run on JDK 25");
            }
        }
        for (final String lw : HOT_MODES) {
            scaling(lw);
        }
        System.out.println();
        System.out.println("Fire lateness (p99 ≤ 1 ms with 1M armed) and memory (control block ≤ 128 B) come from the"
            + " latency harness (LatencyMain).");
        System.out.println();
    }

    private void goal(final String goal, final String mode, final String measured, final String verdict) {
        System.out.printf(Locale.ROOT, "| %s | %s | %s | **%s** |%n", goal, mode.replace("latchwork-", ""), measured, verdict);
    }

    private void cost(final String goal, final String lw, final double max) {
        final List<String> parts = new ArrayList<>();
        boolean met = true;
        boolean any = false;
        for (final String w : WORKLOADS) {
            for (final int c : cells) {
                final double x = score(w, 1, lw, c) / score(w, 1, "floor-2cas", c);
                if (Double.isNaN(x)) {
                    continue;
                }
                any = true;
                met &= x <= max;
                parts.add(String.format(Locale.ROOT, "%s %s: %s", w, c == 1 ? "1 cell" : shortCells(c), times(x)));
            }
        }
        goal(goal, lw, String.join("; ", parts), !any ? "not measured" : met ? "met" : "missed");
    }

    private void speedup(final String goal, final String lw, final String peer, final String[] workloads, final int threads,
        final double oneCell, final double manyCells) {
        final List<String> parts = new ArrayList<>();
        boolean met = true;
        boolean any = false;
        for (final String w : workloads) {
            for (final int c : cells) {
                final double x = score(w, threads, peer, c) / score(w, threads, lw, c);
                if (Double.isNaN(x)) {
                    continue;
                }
                any = true;
                met &= x >= (c == 1 ? oneCell : manyCells);
                parts.add(String.format(Locale.ROOT, "%s %s %dT: %s", w, c == 1 ? "1 cell" : shortCells(c), threads, times(x)));
            }
        }
        final String verdict = !any ? "not measured" : oneCell == 0 ? "reported" : met ? "met" : "missed";
        goal(goal, lw, String.join("; ", parts), verdict);
    }

    private void scaling(final String lw) {
        final List<String> parts = new ArrayList<>();
        boolean met = true;
        boolean any = false;
        for (final String w : WORKLOADS) {
            for (final int c : cells) {
                final double x = 2 * score(w, 1, lw, c) / score(w, 2, lw, c);
                if (Double.isNaN(x)) {
                    continue;
                }
                any = true;
                met &= x >= 1.7;
                parts.add(String.format(Locale.ROOT, "%s %s: %s", w, c == 1 ? "1 cell" : shortCells(c), times(x)));
            }
        }
        goal("2 threads on distinct cells ≥ 1.7× one thread's throughput", lw, String.join("; ", parts),
            !any ? "not measured" : met ? "met" : "missed");
    }

    private double maxBytes(final String impl) {
        double max = 0;
        for (final Results.Row row : r.rows) {
            if (TIMER.equals(row.benchClass) && impl.equals(row.impl) && !Double.isNaN(row.bytesPerOp)) {
                max = Math.max(max, row.bytesPerOp);
            }
        }
        return max;
    }

    // ------------------------------------------------------------------------------------------

    private void sharedCell() {
        final List<Results.Row> rows = new ArrayList<>();
        for (final Results.Row row : r.rows) {
            if ("SharedCellBench".equals(row.benchClass)) {
                rows.add(row);
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        System.out.println("#### Two threads re-arming the same cell (not a goal: how often BUSY is answered)");
        System.out.println();
        System.out.println("| contender | ns/op | B/op | non-OK answers |");
        System.out.println("|---|---:|---:|---:|");
        for (final Results.Row row : rows) {
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s |%n", label(row.impl), nsErr(row), bytes(row),
                row.ops > 0 ? String.format(Locale.ROOT, "%.2f %%", 100 * row.busy / row.ops) : "?");
        }
        System.out.println();
    }

    // ------------------------------------------------------------------------------------------
    // formatting

    private static String label(final String impl) {
        return impl.startsWith("latchwork") ? "**" + impl + "**" : impl;
    }

    private static double ratio(final Results.Row a, final Results.Row b) {
        return a == null || b == null ? Double.NaN : a.score / b.score;
    }

    static String ns(final double v) {
        if (Double.isNaN(v)) {
            return "?";
        }
        if (v < 10) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        if (v < 100) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    private String nsErr(final Results.Row row) {
        if (row == null) {
            return "";
        }
        final String mean = Double.isNaN(row.error) ? ns(row.mean) : ns(row.mean) + " ± " + ns(row.error);
        return r.best ? ns(row.score) + " (" + mean + ")" : mean;
    }

    private static String bytes(final Results.Row row) {
        if (row == null || Double.isNaN(row.bytesPerOp)) {
            return "";
        }
        if (row.bytesPerOp < 0.0005) {
            return "≈ 0";
        }
        return row.bytesPerOp < 1 ? String.format(Locale.ROOT, "%.3f", row.bytesPerOp)
            : String.format(Locale.ROOT, "%.0f", row.bytesPerOp);
    }

    private static String times(final double x) {
        if (Double.isNaN(x) || Double.isInfinite(x)) {
            return "?";
        }
        return x < 10 ? String.format(Locale.ROOT, "%.2f×", x) : String.format(Locale.ROOT, "%.0f×", x);
    }
}
