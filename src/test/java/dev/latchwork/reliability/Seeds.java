package dev.latchwork.reliability;

/**
 * Seed plumbing for the randomized tests. {@code -Dlatchwork.seed=N} replays one seed;
 * {@code -Dlatchwork.seeds=K} changes how many seeds a run covers; {@code -Dlatchwork.seedBase=B}
 * shifts the range (default: seeds {@code B+1 .. B+K}, so every CI run is reproducible).
 */
final class Seeds {
    static final String SEED = "latchwork.seed";
    static final String SEEDS = "latchwork.seeds";
    static final String BASE = "latchwork.seedBase";

    private Seeds() {
    }

    /** @return the seeds to run: the replayed one, or {@code count} consecutive ones */
    static long[] seeds(final int defaultCount) {
        final String one = System.getProperty(SEED);
        if (one != null && !one.isBlank()) {
            return new long[] {Long.parseLong(one.trim())};
        }
        final int n = Integer.getInteger(SEEDS, defaultCount);
        final long base = Long.getLong(BASE, 0L);
        final long[] s = new long[n];
        for (int i = 0; i < n; i++) {
            s[i] = base + i + 1;
        }
        return s;
    }

    /** @return true when a single seed is being replayed */
    static boolean replaying() {
        final String one = System.getProperty(SEED);
        return one != null && !one.isBlank();
    }

    /** @return the one-line command that replays {@code seed} of {@code testClass} */
    static String replay(final Class<?> testClass, final long seed) {
        return "./mvnw -B -ntp test -pl src -Dtest=" + testClass.getSimpleName() + " -D" + SEED + "=" + seed;
    }

    /** @return the one-line command that replays {@code seed} of one test method */
    static String replay(final Class<?> testClass, final String method, final long seed) {
        return "./mvnw -B -ntp test -pl src -Dtest=" + testClass.getSimpleName() + "#" + method + " -D" + SEED + "=" + seed;
    }
}
