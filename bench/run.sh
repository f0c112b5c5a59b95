#!/usr/bin/env bash
# bench/run.sh — build and run the benchmark suite (BENCH.md), then write the results page.
#
#   bash bench/run.sh            full suite (every canonical shape, backend, dtype, 1 thread and
#                                all cores, L and thread sweeps) -> results/<machine-slug>/
#   bash bench/run.sh --quick    tiny shapes in seconds, then validate the JSON's BENCH.md fields
#   bash bench/run.sh --build    build only (build/bench/ssm_bench)
#   extra arguments after the mode go to ssm_bench (see bench/bench_main.c), e.g.
#   bash bench/run.sh -- --ops=scan,ssd --no-sweeps
#
# Environment: CC, CXX (default cc, c++), BENCH_BUILD (default build/bench), WERROR (default
# -Werror; set empty on a compiler this was not tried with), RESULTS (default results/<slug>),
# BENCH_GIT_COMMIT (recorded commit where the tree has no .git).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
case "${1:-}" in
--quick) mode=quick; shift ;;
--build) mode=build; shift ;;
--full) shift ;;
esac
[ "${1:-}" = "--" ] && shift

CC=${CC:-cc}
CXX=${CXX:-c++}
BUILD=${BENCH_BUILD:-build/bench}
WERROR=${WERROR--Werror}
# The library path stays baseline (-O2, no -march): ssm.h dispatches to its ISA kernels at run
# time, and the ceiling kernels use function-level target attributes.
CFLAGS_BENCH="-std=c11 -O2 -Wall -Wextra${WERROR:+ $WERROR} -I."
CFLAGS_OTHERS="-std=c11 -O2 -Wall -Wextra -I."
CXXFLAGS_BENCH="-std=c++17 -O2 -Wall -Wextra${WERROR:+ $WERROR}"
LIBS="-lbenchmark -lpthread -lhwloc -lm"

have_deps() {
    echo '#include <benchmark/benchmark.h>' | $CXX -std=c++17 -x c++ -fsyntax-only - 2>/dev/null &&
        echo '#include <hwloc.h>' | $CC -x c -fsyntax-only - 2>/dev/null
}

if ! have_deps; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "run.sh: installing libbenchmark-dev libhwloc-dev" >&2
        apt-get install -y libbenchmark-dev libhwloc-dev >&2 ||
            { apt-get update >&2 && apt-get install -y libbenchmark-dev libhwloc-dev >&2; }
    fi
    if ! have_deps; then
        echo "run.sh: Google Benchmark and hwloc headers are missing; install them with:" >&2
        echo "    sudo apt-get install -y libbenchmark-dev libhwloc-dev" >&2
        exit 1
    fi
fi

git_commit=${BENCH_GIT_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
# uncommitted or untracked files (a new kernel header, say) make the tree not that commit
if [ -z "${BENCH_GIT_COMMIT:-}" ] && [ "$git_commit" != unknown ] &&
    [ -n "$(git status --porcelain 2>/dev/null)" ]; then
    git_commit="$git_commit-dirty"
fi
gbench_version=$(pkg-config --modversion benchmark 2>/dev/null ||
    dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null || echo unknown)

mkdir -p "$BUILD"
sources="bench/bench_main.c bench/bench_ops.c bench/bench_ceil.c bench/bench_sys.c
         bench/bench_json.c tests/ssm_impl.c reference/ssm_ref.c tests/check.c"
objects=()
for src in $sources; do
    obj="$BUILD/$(basename "$src" .c).o"
    defs=()
    if [ "$src" = bench/bench_main.c ]; then   # what the JSON's "build" records
        defs=("-DBENCH_CFLAGS=\"$CFLAGS_BENCH\"" "-DBENCH_GIT_COMMIT=\"$git_commit\""
              "-DBENCH_GBENCH_VERSION=\"$gbench_version\"")
    fi
    flags=$CFLAGS_BENCH
    case "$src" in   # the library, reference and checker: their own targets catch their warnings,
    reference/* | tests/*) flags=$CFLAGS_OTHERS ;;   # a bench run must not stop
    esac
    $CC $flags "${defs[@]}" -c "$src" -o "$obj"
    objects+=("$obj")
done
$CXX $CXXFLAGS_BENCH -c bench/gbench_shim.cc -o "$BUILD/gbench_shim.o"
$CXX -o "$BUILD/ssm_bench" "${objects[@]}" "$BUILD/gbench_shim.o" $LIBS
echo "run.sh: built $BUILD/ssm_bench ($git_commit)" >&2

# The JSON goes where a --out= among the arguments says (ssm_bench takes the last one).
json="$BUILD/bench.json"
[ "$mode" = quick ] && json="$BUILD/bench-quick.json"
for arg in "$@"; do
    case "$arg" in --out=*) json=${arg#--out=} ;; esac
done

case "$mode" in
build)
    ;;
quick)
    start=$(date +%s)
    "$BUILD/ssm_bench" --quick --out="$json" "$@" >"$BUILD/bench-quick.log" 2>&1 ||
        { tail -30 "$BUILD/bench-quick.log"; exit 1; }
    grep -E "^(check|ceilings)| median |\*\*\* WARNING" "$BUILD/bench-quick.log" || true
    python3 bench/report.py validate "$json"
    python3 bench/report.py render "$json" --out "$BUILD/quick-report" >/dev/null
    echo "run.sh: bench-quick passed in $(($(date +%s) - start)) s (log: $BUILD/bench-quick.log)"
    ;;
full)
    start=$(date +%s)
    rm -f "$json"   # a failed run must not leave an older JSON to be rendered
    "$BUILD/ssm_bench" --out="$json" "$@" 2>&1 | tee "$BUILD/bench.log"
    python3 bench/report.py validate --allow-failed-checks "$json"
    if [ -n "${RESULTS:-}" ]; then
        python3 bench/report.py render "$json" --out "$RESULTS"
    elif [ $# -gt 0 ]; then   # a subset or a variant: not the machine's published page
        python3 bench/report.py render "$json" --out "$BUILD/report"
        echo "run.sh: page in $BUILD/report (RESULTS=results/<slug> publishes a run with arguments)"
    else
        python3 bench/report.py render "$json"
    fi
    echo "run.sh: bench finished in $(($(date +%s) - start)) s"
    ;;
esac
