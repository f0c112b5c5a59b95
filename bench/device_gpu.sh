#!/bin/sh
# device_gpu.sh — the one script for the GPU machine: builds the CUDA test and benchmark
# programs (unless working binaries were carried in build/cuda), runs the tests (golden cases,
# property tests, > 2^31-element cases, compute-sanitizer memcheck and racecheck) and the
# benchmark suite, and leaves logs and the JSON under $OUT.
#
#   sh bench/device_gpu.sh build      build only (also what CI's compile leg does, without running)
#   sh bench/device_gpu.sh check      build if needed, then the golden cases, property tests and
#                                     > 2^31-element cases
#   sh bench/device_gpu.sh sanitize   build if needed, then compute-sanitizer memcheck and racecheck
#   sh bench/device_gpu.sh test       check, then sanitize
#   sh bench/device_gpu.sh bench      build if needed, then bench_cuda -> $OUT/bench_h200.json and
#                                     the results page in $OUT/h200 (bench/report.py)
#   sh bench/device_gpu.sh all        test, then bench
#   sh bench/device_gpu.sh profile    build if needed, then Nsight Compute (full set, clocks left
#                                     alone) on the main kernel of each GPU canonical shape:
#                                     details, per-instruction SASS pages and their summaries
#                                     (bench/report.py stalls) in $OUT/profile.tar.gz
#   BASE_REF=REV [BASE_DEFS=-DNAME=V] sh bench/device_gpu.sh base
#                                     (where git is: on this machine) bench_cuda with the
#                                     ssm_cuda.cuh of commit REV (built with the config macros
#                                     of BASE_DEFS, if any) and everything else as checked out,
#                                     in build/cuda-base; carry it with build/cuda. E.g.
#                                     BASE_REF=HEAD BASE_DEFS=-DSSM_CUDA_SSD_SHARED_CB=999 times
#                                     a setting of this tree against its default. BASE_DIR=DIR
#                                     (default build/cuda-base) keeps several bases apart
#   sh bench/device_gpu.sh ab         each GPU canonical shape (bf16; AB_SHAPES=... for some)
#                                     timed by the base (BASE_DIR) and the current bench_cuda in
#                                     turn, twice -> $OUT/ab.txt (ab-DIRNAME.txt with BASE_DIR)
# Several modes run in the order given: `sh bench/device_gpu.sh check bench`.
#
# Each leg runs under its own timeout, and the last lines printed are a short summary. The
# limits add up to more than one 10-minute device call: `all` may need two calls, e.g.
# `check bench`, then `sanitize`. Run from the repository root.
set -u
MODES=${*:-all}
OUT=${OUT:-build/cuda/out}
B=build/cuda
NVCC=${NVCC:-nvcc}
GENCODE="-gencode=arch=compute_90a,code=sm_90a -gencode=arch=compute_90,code=sm_90"
NVFLAGS="-std=c++17 -O2 -lineinfo -I. $GENCODE -Xcompiler -Wall,-Wextra,-Werror -Werror all-warnings"
CFLAGS="-std=c11 -O2 -Wall -Wextra -Werror -I."
GIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null; [ $? -eq 1 ] && GIT="$GIT+changes"   # a tree with uncommitted changes
BD=${BASE_DIR:-build/cuda-base}                                   # the base build of `base` and `ab`
ABF=$OUT/ab${BASE_DIR:+-$(basename "${BASE_DIR:-}")}.txt            # the A/B table
mkdir -p "$OUT" "$B"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}"

build() {
    echo "== build ($NVCC, $GENCODE)"
    set -e
    for f in reference/ssm_ref.c tests/check.c tests/golden.c bench/bench_json.c; do
        ${CC:-cc} $CFLAGS -c "$f" -o "$B/$(basename "$f" .c).o"
    done
    $NVCC $NVFLAGS -t 0 -c tests/ssm_impl_cuda.cu -o $B/ssm_impl_cuda.o
    $NVCC $NVFLAGS -c tests/test_cuda.cu -o $B/test_cuda.o
    $NVCC $NVFLAGS -Xcompiler -fopenmp -DBENCH_HAVE_CUBLAS "-DBENCH_GIT=\"$GIT\"" \
        "-DBENCH_FLAGS=\"$NVFLAGS\"" -c bench/bench_cuda.cu -o $B/bench_cuda.o
    echo "$GIT" > $B/REF   # what was built: the machine that runs it may have another checkout
    $NVCC $GENCODE -o $B/test_cuda $B/test_cuda.o $B/ssm_impl_cuda.o $B/ssm_ref.o $B/check.o $B/golden.o -lm
    $NVCC $GENCODE -o $B/bench_cuda $B/bench_cuda.o $B/ssm_impl_cuda.o $B/ssm_ref.o $B/check.o $B/bench_json.o \
        -lcublas -lgomp -lm
    set +e
}

# Carried binaries are used when they start here (same CUDA major version, compatible libc).
ensure_built() {
    if [ -x $B/test_cuda ] && [ -x $B/bench_cuda ] && $B/test_cuda tests/golden/conv1d--f32-all.ssmg >/dev/null 2>&1; then
        echo "== using the carried binaries in $B"
    else
        build 2>&1 | tee "$OUT/build.log"
    fi
}

leg() {   # leg NAME TIMEOUT COMMAND...: runs, logs to $OUT/test.log, keeps the summary line
    name=$1; limit=$2; shift 2
    echo "== $name: $*" | tee -a "$OUT/test.log"
    start=$(date +%s)
    timeout "$limit" "$@" >> "$OUT/test.log" 2>&1
    rc=$?
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$OUT/test.log" | tail -n 1)
    echo "   $name: exit $rc in $(( $(date +%s) - start )) s: $summary" | tee -a "$OUT/test.log" "$OUT/summary.txt"
}

sanitize() {   # sanitize TOOL TIMEOUT ARGS...: compute-sanitizer on the test program ($SAN_OPTS: its options)
    tool=$1; limit=$2; shift 2
    echo "== compute-sanitizer --tool $tool ${SAN_OPTS:-} $*" | tee -a "$OUT/sanitize.log"
    start=$(date +%s)
    timeout "$limit" compute-sanitizer --tool "$tool" --error-exitcode 3 --print-limit 20 ${SAN_OPTS:-} $B/test_cuda "$@" \
        >> "$OUT/sanitize.log" 2>&1
    rc=$?
    errs=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/sanitize.log" | tail -n 1)
    tests=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$OUT/sanitize.log" | tail -n 1)
    echo "   $tool: exit $rc in $(( $(date +%s) - start )) s: $errs; $tests" | tee -a "$OUT/sanitize.log" "$OUT/summary.txt"
}

{ nvidia-smi; $NVCC --version; uname -a; } > "$OUT/env.txt" 2>&1

check_legs() {
    ensure_built
    leg golden 120 $B/test_cuda tests/golden
    leg props 300 $B/test_cuda --props
    leg big 150 $B/test_cuda --big
}

sanitize_legs() {
    ensure_built
    sanitize memcheck 240 --quick --props tests/golden
    sanitize racecheck 420 --quick --props tests/golden
}

bench_leg() {
    ensure_built
    echo "== bench_cuda" | tee "$OUT/bench.log"
    timeout 480 $B/bench_cuda --out "$OUT/bench_h200.json" >> "$OUT/bench.log" 2>&1
    echo "   bench: exit $?" | tee -a "$OUT/summary.txt"
    tail -n 25 "$OUT/bench.log"
    # the results page (copy $OUT/h200 to results/h200, keeping its hand-written NOTES.md)
    if command -v python3 >/dev/null && [ -s "$OUT/bench_h200.json" ]; then
        mkdir -p "$OUT/h200" && cp "$OUT/bench.log" "$OUT/h200/bench.log"
        [ -f results/h200/NOTES.md ] && cp results/h200/NOTES.md "$OUT/h200/NOTES.md"
        python3 bench/report.py render "$OUT/bench_h200.json" --out "$OUT/h200"
    fi
}

# bench_cuda with the kernels of commit $BASE_REF: the same benchmark code and ssm.h, so that the
# kernels are all that differs (a copy of tests/ssm_impl_cuda.cu beside the base header).
base_build() {
    [ -n "${BASE_REF:-}" ] || { echo "device_gpu.sh base: set BASE_REF to a commit" >&2; return 2; }
    set -e
    mkdir -p $BD
    git show "$BASE_REF:ssm_cuda.cuh" > $BD/ssm_cuda.cuh
    [ -f $B/bench_cuda.o ] || build
    sed 's|"\.\./ssm|"ssm|' tests/ssm_impl_cuda.cu > $BD/ssm_impl_cuda.cu   # ssm.h from -I.
    grep -q ssm_cuda_config $BD/ssm_cuda.cuh ||   # headers before ssm_cuda_config(): bench_cuda records it
        echo 'extern "C" const char *ssm_cuda_config(void) { return "(not recorded by this header)"; }' >> $BD/ssm_impl_cuda.cu
    $NVCC $NVFLAGS ${BASE_DEFS:-} -t 0 -c $BD/ssm_impl_cuda.cu -o $BD/ssm_impl_cuda.o
    $NVCC $GENCODE -o $BD/bench_cuda $B/bench_cuda.o $BD/ssm_impl_cuda.o $B/ssm_ref.o $B/check.o \
        $B/bench_json.o -lcublas -lgomp -lm
    echo "$BASE_REF ($(git rev-parse --short "$BASE_REF"))${BASE_DEFS:+ with $BASE_DEFS}" > $BD/REF
    set +e
    echo "== base: $BD/bench_cuda has the kernels of $(cat $BD/REF)"
}

AB_SHAPES=${AB_SHAPES:-"gpu.scan.m1 gpu.ssd.m2 gpu.ssd.m2.long gpu.step.m2 gpu.conv gpu.hsa.4k gpu.hsa.16k gpu.hsa.64k gpu.hsa.g1.16k"}
ab_leg() {
    ensure_built
    [ -x $BD/bench_cuda ] || { echo "device_gpu.sh ab: no $BD/bench_cuda (run the base mode here)" >&2; return 2; }
    echo "== A/B, bf16, cold L2: base = kernels of $(cat $BD/REF 2>/dev/null), new = $(cat $B/REF 2>/dev/null || echo "this tree ($GIT)")" | tee "$ABF"
    for round in 1 2; do
        for shape in $AB_SHAPES; do
            for side in base new; do
                bin=$B/bench_cuda; [ $side = base ] && bin=$BD/bench_cuda
                line=$(timeout 120 $bin --no-ceilings --no-f32 --only "$shape" --out "$OUT/ab_tmp.json" 2>&1 |
                       grep -E "^$shape +bf16 " | tail -n 1)
                echo "round $round $side: ${line:-$shape: no result}" | tee -a "$ABF"
            done
        done
    done
    rm -f "$OUT/ab_tmp.json"
}

# shape:kernel-name-regex pairs; each profile is the first launch of that kernel for the shape
PROFILES=${PROFILES:-"gpu.scan.m1:scan_fast gpu.ssd.m2:ssd_tc gpu.step.m2:step_vec gpu.hsa.16k:hatt_tok gpu.hsa.g1.16k:hatt_tc"}
profile_leg() {
    ensure_built
    P=$OUT/profile && mkdir -p "$P"
    for spec in $PROFILES; do
        shape=${spec%%:*}; kern=${spec#*:}
        echo "== ncu $shape (kernel ~ $kern)" | tee -a "$OUT/summary.txt"
        timeout 300 ncu --clock-control none --set full -k "regex:$kern" -c 1 -f -o "$P/$shape" \
            $B/bench_cuda --profile --no-f32 --only "$shape" > "$P/$shape.run.log" 2>&1
        echo "   exit $?" | tee -a "$OUT/summary.txt"
        [ -f "$P/$shape.ncu-rep" ] || continue
        ncu --import "$P/$shape.ncu-rep" --page details > "$P/$shape.details.txt" 2>&1
        ncu --import "$P/$shape.ncu-rep" --page source --print-source sass --csv > "$P/$shape.sass.csv" 2>&1
        command -v python3 >/dev/null &&   # stall reasons, opcodes and the hottest instructions
            python3 bench/report.py stalls "$P/$shape.sass.csv" > "$P/$shape.stalls.txt" 2>&1
        grep -E 'Duration|Registers Per|Achieved Occupancy|Issue Slots Busy|Executed Ipc A|Memory Throughput|DRAM Throughput' \
            "$P/$shape.details.txt" | head -n 12 | tee -a "$OUT/summary.txt"
    done
    rm -f "$P"/*.ncu-rep   # the text pages are what comes back (reports are large)
    tar czf "$OUT/profile.tar.gz" -C "$OUT" profile && rm -rf "$P"
}

case " $MODES " in   # the logs and summary hold this run's legs only (a run of build, base or ab keeps them)
*" check "* | *" sanitize "* | *" test "* | *" bench "* | *" all "* | *" profile "*)
    for f in test.log sanitize.log summary.txt; do : > "$OUT/$f"; done ;;
esac
for mode in $MODES; do
    case "$mode" in
    build) build 2>&1 | tee "$OUT/build.log" ;;
    check) check_legs ;;
    sanitize) sanitize_legs ;;
    test) check_legs; sanitize_legs ;;
    bench) bench_leg ;;
    all) check_legs; sanitize_legs; bench_leg ;;
    profile) profile_leg ;;
    base) base_build ;;
    ab) ab_leg ;;
    *) echo "device_gpu.sh: unknown mode '$mode' (build, check, sanitize, test, bench, all, profile, base, ab)" >&2; exit 2 ;;
    esac
done
{ [ "$MODES" = build ] || [ "$MODES" = base ]; } && exit 0
echo "== summary"
cat "$OUT/summary.txt" 2>/dev/null
grep -E '^FAIL' "$OUT/test.log" 2>/dev/null | head -n 20
