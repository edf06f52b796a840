#!/usr/bin/env bash
# Runs the full side-by-side benchmark set with fixed settings and prints the markdown tables of
# docs/BENCHMARKS.md:
#   1. JMH TimerBench (every contender x re-arm / arm-then-cancel x 1 / 100k cells x 1 / 2 threads)
#      and SharedCellBench, AverageTime ns/op with -prof gc;
#   2. the latency / memory harness (LatencyMain: deferral per idle strategy, fire lateness with
#      10k and 1M armed timers, bytes per cell and per armed timer);
#   3. the chart (docs/benchmarks.png) and the markdown report.
# Takes about 20 minutes on 2 cores. Run it on a quiet machine: every number is sensitive to load.
#
# Usage: jmh/run-benchmarks.sh              (the JDK on PATH, or JAVA_HOME if set)
#        JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 jmh/run-benchmarks.sh   (adds JDK 25's ForkJoinPool.schedule)
# Overrides (environment): JMH_OPTS, LATENCY_ARGS, OUT (results directory), CHART (PNG path),
#                          IMPLS (comma-separated contenders instead of all), SKIP_BUILD=1,
#                          SKIP_JMH=1, SKIP_SHARED=1 (no SharedCellBench), SKIP_LATENCY=1,
#                          WHEEL=1 (adds WheelMain's issue 12 sections: alloc, idle, burst, expiry, deferral, scale).
set -euo pipefail

cd "$(dirname "$0")/.."
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
OUT="${OUT:-jmh/target/bench-results}"
CHART="${CHART:-docs/benchmarks.png}"
JMH_OPTS="${JMH_OPTS:--f 1 -wi 3 -i 5 -w 1s -r 1s}"
LATENCY_ARGS="${LATENCY_ARGS:-all}"
# Silences JDK 24+ sun.misc.Unsafe warnings (JMH, Netty); ignored on 17. JMH forks inherit them.
QUIET="-XX:+IgnoreUnrecognizedVMOptions --sun-misc-unsafe-memory-access=allow"
JAR=jmh/target/benchmarks.jar

mkdir -p "$OUT"
feature=$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
impls="floor-2cas,latchwork-deferred,latchwork-deferred-at,latchwork-host,latchwork-host-at,latchwork-inline,latchwork-inline-at,latchwork-wheel,latchwork-executor,netty-hwt,jdk-stpe,agrona-wheel-lock"
if [ "${feature%%.*}" -ge 25 ]; then
    impls="$impls,jdk25-fjp"
else
    echo "JDK $feature: leaving out jdk25-fjp (ForkJoinPool.schedule is new in JDK 25)" >&2
fi
impls="${IMPLS:-$impls}"

if [ -z "${SKIP_BUILD:-}" ]; then
    ./mvnw -B -ntp -q package -pl src,jmh -DskipTests
fi

{
    echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "java: $("$JAVA" -version 2>&1 | head -1)"
    echo "jmh options: $JMH_OPTS -prof gc -foe true"
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
} | tee "$OUT/environment.txt"

if [ -z "${SKIP_JMH:-}" ]; then
    # shellcheck disable=SC2086
    "$JAVA" $QUIET -jar "$JAR" 'TimerBench' $JMH_OPTS -prof gc -foe true -p impl="$impls" \
        -rf json -rff "$OUT/timer.json" | tee "$OUT/timer.txt"
    if [ -z "${SKIP_SHARED:-}" ]; then
        # shellcheck disable=SC2086
        "$JAVA" $QUIET -jar "$JAR" 'SharedCellBench' $JMH_OPTS -prof gc -foe true \
            -rf json -rff "$OUT/shared-cell.json" | tee "$OUT/shared-cell.txt"
    fi
fi

if [ -z "${SKIP_LATENCY:-}" ]; then
    # shellcheck disable=SC2086
    "$JAVA" $QUIET -Xmx3g -cp "$JAR" dev.latchwork.jmh.LatencyMain $LATENCY_ARGS | tee "$OUT/latency.md"
fi

if [ -n "${WHEEL:-}" ]; then
    # issue 12: the built-in wheel's sections (docs/BENCHMARKS.md, "Built-in wheel (issue 12)"), ~8 min
    for section in alloc idle burst expiry deferral; do
        # shellcheck disable=SC2086
        "$JAVA" $QUIET -Xmx6g -cp "$JAR" dev.latchwork.jmh.WheelMain $section | tee "$OUT/wheel-$section.md"
    done
    # shellcheck disable=SC2086
    "$JAVA" $QUIET -Xmx16g -cp "$JAR" dev.latchwork.jmh.WheelMain scale | tee "$OUT/wheel-scale.md"
fi

"$JAVA" -Djava.awt.headless=true -cp "$JAR" dev.latchwork.jmh.ChartMain "$CHART" \
    "$(nproc) CPUs, $JMH_OPTS, -prof gc" "$OUT/timer.json"
shared=()
[ -f "$OUT/shared-cell.json" ] && shared=("$OUT/shared-cell.json")
"$JAVA" -cp "$JAR" dev.latchwork.jmh.ReportMain "$OUT/timer.json" "${shared[@]}" > "$OUT/report.md"

echo
echo "================ markdown (paste into docs/BENCHMARKS.md) ================"
cat "$OUT/report.md"
if [ -f "$OUT/latency.md" ]; then
    cat "$OUT/latency.md"
fi
echo "results: $OUT, chart: $CHART"
