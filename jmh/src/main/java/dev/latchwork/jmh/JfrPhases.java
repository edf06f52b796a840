package dev.latchwork.jmh;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Groups the JFR execution samples taken under {@code AsyncRuntime.drain} by phase of the drain
 * (issue 14: where the time goes per applied command). Reads a recording of
 * {@code CeilingMain apply} made with 1 ms Java sampling and {@code -XX:+DebugNonSafepoints}
 * (docs/BENCHMARKS.md, "Dispatcher ceiling"), attributes each sample to its top frame, and that
 * frame to the first phase whose pattern matches it. Prints the share of each phase and, given
 * the run's median ns per applied command, its ns.
 *
 * <pre>
 * java -cp jmh/target/benchmarks.jar dev.latchwork.jmh.JfrPhases apply.jfr 46.3
 * </pre>
 */
public final class JfrPhases {
    private static final String ROOT = "AsyncRuntime.drain";

    /** Phase → pattern over "Class.method:line" of the top frame; the first match wins. */
    private static final String[][] PHASES = {
        {"counters", "LongAdder|Striped64|weakCompareAndSetRelease:241|weakCompareAndSetLongRelease|StatCounter"},
        {"refcount (tryRetain, release)", "weakCompareAndSet:223|ControlBlock.release|tryRetain|weakCompareAndSetInt"},
        {"claim (consumed CAS)", "VarHandleLongs\\$FieldInstanceReadWrite.compareAndSet|compareAndSetLong"},
        {"status CAS back to IDLE", "VarHandleInts\\$FieldInstanceReadWrite.compareAndSet|drainLoop:41[2-9]"},
        {"dequeue + PROCESSING store", "BlockQueue|pollAndDrain|countPoll|setVolatile|guard_LI_V|putIntVolatile"},
        {"apply (target, wheel, ownership)", "TimerBlock|WheelBackend|TimerWheel|getAndSet|putLongRelease|setRelease"},
        {"first touch of the block, latch read", "drainLoop:40|drainPass|loadLoadFence|getOpaque|getVolatile|getAcquire|Opaque"},
    };

    private JfrPhases() {
    }

    public static void main(final String[] args) throws Exception {
        final double medianNs = args.length > 1 ? Double.parseDouble(args[1]) : Double.NaN;
        final Map<String, Integer> byPhase = new LinkedHashMap<>();
        final Pattern[] patterns = new Pattern[PHASES.length];
        for (int i = 0; i < PHASES.length; i++) {
            patterns[i] = Pattern.compile(PHASES[i][1]);
            byPhase.put(PHASES[i][0], 0);
        }
        byPhase.put("rest (VarHandle glue, casts, loop)", 0);
        int total = 0;
        try (RecordingFile rf = new RecordingFile(Path.of(args[0]))) {
            while (rf.hasMoreEvents()) {
                final RecordedEvent e = rf.readEvent();
                if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
                    continue;
                }
                final RecordedStackTrace st = e.getStackTrace();
                if (st == null || !under(st.getFrames())) {
                    continue;
                }
                total++;
                final String top = name(st.getFrames().get(0), true);
                String phase = "rest (VarHandle glue, casts, loop)";
                for (int i = 0; i < patterns.length; i++) {
                    if (patterns[i].matcher(top).find()) {
                        phase = PHASES[i][0];
                        break;
                    }
                }
                byPhase.merge(phase, 1, Integer::sum);
            }
        }
        System.out.printf(Locale.ROOT, "%d samples under %s%n", total, ROOT);
        for (final Map.Entry<String, Integer> x : byPhase.entrySet()) {
            final double share = total == 0 ? 0 : 100.0 * x.getValue() / total;
            System.out.printf(Locale.ROOT, "| %s | %.1f %% | %s |%n", x.getKey(), share,
                Double.isNaN(medianNs) ? "" : String.format(Locale.ROOT, "%.1f ns", share * medianNs / 100));
        }
    }

    private static boolean under(final List<RecordedFrame> frames) {
        for (final RecordedFrame f : frames) {
            if (name(f, false).equals(ROOT)) {
                return true;
            }
        }
        return false;
    }

    private static String name(final RecordedFrame f, final boolean line) {
        final String type = f.getMethod().getType().getName();
        final String simple = type.substring(type.lastIndexOf('.') + 1);
        return simple + "." + f.getMethod().getName() + (line ? ":" + f.getLineNumber() : "");
    }
}
