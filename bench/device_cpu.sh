#!/usr/bin/env bash
# bench/device_cpu.sh — the CPU suite on the GPU machine's host (Ubuntu 24.04: gcc 13, Google
# Benchmark 1.8.3, hwloc 2.10 installed; no network). Builds from source in /tmp, runs the
# canonical suite with its sweeps, and writes into $OUT:
#   bench.json, bench-<slug>.json   the run (BENCH.md schema)
#   bench.log                       Google Benchmark's console output and the per-case lines
#   <slug>/                         README.md, SVG charts, bench.json: copy the folder to results/
# usage, from the repository root:  OUT=/path bash bench/device_cpu.sh [extra ssm_bench args]
# The device's copy of the tree has no .git: pass the commit, e.g.
#   BENCH_GIT_COMMIT=<git rev-parse --short=12 HEAD here> OUT=$OUT bash bench/device_cpu.sh
# A device command may run 10 minutes: the run stops starting new cases after BUDGET seconds
# (default 420) and lists the rest as not run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-build/device}
BUDGET=${BUDGET:-420}
mkdir -p "$OUT"
export BENCH_BUILD=${BENCH_BUILD:-/tmp/ssm-bench-build}
export WERROR=${WERROR-}   # a newer compiler's new warning must not cost the run
start=$(date +%s)
bash bench/run.sh --build 2>&1 | tee "$OUT/build.log"
echo "device_cpu.sh: built in $(($(date +%s) - start)) s"
status=0
"$BENCH_BUILD/ssm_bench" --out="$OUT/bench.json" --budget="$BUDGET" "$@" >"$OUT/bench.log" 2>&1 || status=$?
grep -E "^(ceilings|check)| median |\*\*\* WARNING|wrote|in all" "$OUT/bench.log" || true
if [ "$status" != 0 ] || [ ! -s "$OUT/bench.json" ]; then
    echo "device_cpu.sh: ssm_bench failed (status $status); last lines of the log:"
    tail -40 "$OUT/bench.log"
    exit 1
fi
if command -v python3 >/dev/null; then
    python3 bench/report.py validate --allow-failed-checks "$OUT/bench.json" || status=$?
    slug=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["machine"]["slug"])' "$OUT/bench.json")
    cp "$OUT/bench.json" "$OUT/bench-$slug.json"
    python3 bench/report.py render "$OUT/bench.json" --out "$OUT/$slug"
else
    echo "device_cpu.sh: no python3 here; render later with: python3 bench/report.py render bench.json"
fi
echo "device_cpu.sh: done in $(($(date +%s) - start)) s"
exit "$status"
