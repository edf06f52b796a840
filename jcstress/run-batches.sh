#!/usr/bin/env bash
# Runs the whole jcstress suite (negative control excluded) in six batches, from a copy of the
# built jar so that rebuilding the project meanwhile cannot disturb it, and sums the reports.
# Each batch writes results-bN/ (HTML) and log-bN.txt; "progress" records start, end and status.
#
# usage: jcstress/run-batches.sh MODE OUTDIR [JAVA]
#   MODE   sanity | quick | default | tough | stress
#   JAVA   the java binary (default: java on PATH), e.g. /usr/lib/jvm/temurin-25-jdk-amd64/bin/java
# BATCHES="4 5 6" (environment) runs only those batches, e.g. to finish an interrupted run into
# the same OUTDIR (which keeps its copy of the jar); the summary covers every results-bN/ there.
# Build the jar first: ./mvnw -B -ntp verify -Pjcstress (or package -pl src,jcstress -DskipTests).
# Timing on the project's 2-core machine: default mode takes about 6.3 s per JVM configuration
# alone (68 configurations per test on JDK 17, 34 on JDK 25: ~2.5 h and ~1.3 h for the suite).
set -uo pipefail
MODE=${1:?mode}; OUT=${2:?outdir}; JAVA=${3:-java}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
if [ -f "$OUT/jcstress.jar" ]; then
  echo "using the jar already in $OUT (the run being resumed tests the code it was built from)" >&2
else
  cp "$here/target/jcstress.jar" "$OUT/jcstress.jar"
fi
cd "$OUT"
batches=(
'dev\.latchwork\.(LatchStress|DrainStress)\.'
'dev\.latchwork\.(WriterStress|RefcountStress)\.'
'dev\.latchwork\.CloseStress\.(StartVsClose|ExpiryVsClose)'
'dev\.latchwork\.(CloseStress\.(WorkRunVsClose|SetCallbackVsClose)|InitStress\.)'
'dev\.latchwork\.CallbackStress\.'
'dev\.latchwork\.WorkStress\.'
)
status=0
for i in "${!batches[@]}"; do
  n=b$((i+1)); s=$(date +%s)
  case " ${BATCHES:-1 2 3 4 5 6} " in *" $((i+1)) "*) ;; *) continue ;; esac
  echo "$n start $(date -u +%FT%T) ${batches[$i]}" >> progress
  "$JAVA" --enable-native-access=ALL-UNNAMED -XX:+IgnoreUnrecognizedVMOptions --sun-misc-unsafe-memory-access=allow \
      -jar jcstress.jar -m "$MODE" -t "${batches[$i]}" -r "results-$n" > "log-$n.txt" 2>&1
  rc=$?; [ $rc -ne 0 ] && status=$rc
  echo "$n end $(date -u +%FT%T) rc=$rc secs=$(( $(date +%s) - s ))" >> progress
done
python3 "$here/summarize-report.py" results-b*
exit $status
