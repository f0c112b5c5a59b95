#!/bin/sh
# Compile test leg: the public header must build cleanly wherever a user may put it.
#
# For each compiler pair in COMPILERS, under -Wall -Wextra -Werror -pedantic, -O2:
#   - a unit with the implementation (ssm.h included twice after SSM_IMPLEMENTATION) and a unit
#     with declarations only (ssm.h twice), each as C11 and as C++17;
#   - those linked into one program, mixing C and C++, that makes a small conv1d call and
#     checks the numbers;
#   - SSM_STATIC: two units each with a private copy, linked and run, as C11 and as C++17;
#   - the ISA headers of HEADERS are pulled in by ssm.h's implementation when the compiler
#     targets their architecture (else skipped); each is also checked left out (SSM_NO_AVX512,
#     SSM_NO_NEON);
#   - again with -fopenmp: the implementation units, linked and run.
# One PASS/FAIL/SKIP line per check, the compiler's messages under a failure, and the summary
# line "N passed, M failed, K skipped" last.
#
# Environment (run from the repository root):
#   COMPILERS    "cc:c++[:runner] ...": C and C++ compilers, and for a cross compiler the
#                program that runs its binaries (they are then linked -static); a pair whose
#                tools are not installed is skipped. Default "${CC:-cc}:${CXX:-c++}".
#   HEADERS      ssm.h and the ISA headers present (default ssm.h)
#   BUILD        build directory (default build)
#   EXTRA_FLAGS  added to every compile and link of a native pair
# shellcheck disable=SC2086  # flag lists ($WARN, $flags, ...) are meant to split into words
set -u

COMPILERS=${COMPILERS:-${CC:-cc}:${CXX:-c++}}
HEADERS=${HEADERS:-ssm.h}
OUT=${BUILD:-build}/compile
EXTRA_FLAGS=${EXTRA_FLAGS:-}
WARN="-Wall -Wextra -Werror -pedantic"
SRC=tests/compile
mkdir -p "$OUT"

passed=0 failed=0 skipped=0

# check NAME COMMAND...: runs COMMAND, prints PASS or FAIL (with its output) for NAME.
check() {
    name=$1
    shift
    if "$@" >"$OUT/last.log" 2>&1; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        sed -e 's/^/    /' "$OUT/last.log" | head -n 40
        failed=$((failed + 1))
    fi
}

skip() {
    echo "SKIP $1 ($2)"
    skipped=$((skipped + 1))
}

# The pair under test, set by check_pair: compilers, the flags of this round (OpenMP,
# sanitizers), link flags, and the runner of a cross pair.
cc=cc cxx=c++ flags="" link="" runner=""

# Does this pair build and link an OpenMP program?
has_openmp() {
    echo 'int main(void) { return 0; }' >"$OUT/omp.c"
    "$cc" -fopenmp $link "$OUT/omp.c" -o "$OUT/omp" >/dev/null 2>&1 &&
        "$cxx" -x c++ -fopenmp $link "$OUT/omp.c" -o "$OUT/omp" >/dev/null 2>&1
}

# The architecture an ISA header is compiled for, and the macro that leaves it out.
header_arch() {
    case $1 in
    ssm_avx512.h) echo x86_64 ;;
    ssm_neon.h) echo aarch64 ;;
    esac
}
header_off() {
    case $1 in
    ssm_avx512.h) echo SSM_NO_AVX512 ;;
    ssm_neon.h) echo SSM_NO_NEON ;;
    esac
}

# compile LANG SOURCE OBJECT [FLAGS...]: one unit as C11 or C++17.
compile() {
    lang=$1 src=$2 obj=$3
    shift 3
    if [ "$lang" = c++ ]; then
        "$cxx" -x c++ -std=c++17 $WARN $flags -O2 -I. -I"$SRC" "$@" -c "$src" -o "$obj"
    else
        "$cc" -std=c11 $WARN $flags -O2 -I. -I"$SRC" "$@" -c "$src" -o "$obj"
    fi
}

# link_and_run PROGRAM OBJECTS...: links with the C++ driver (units may be C++) and runs it.
link_and_run() {
    prog=$1
    shift
    "$cxx" $flags $link "$@" -lm -o "$prog" && $runner "$prog"
}

# The ISA headers this compiler builds into ssm.h (set by isa_headers) and their off-macros.
with="" off=""
isa_headers() {   # tag
    target=$("$cc" -dumpmachine 2>/dev/null)
    with="" off=""
    for h in $HEADERS; do
        [ "$h" = ssm.h ] && continue
        arch=$(header_arch "$h")
        if [ "${target#"$arch"}" = "$target" ]; then
            echo "note: $1 $h not built: $cc targets $target, not $arch (nothing to test there)"
        else
            with="$with $h"
            off="$off $(header_off "$h")"
        fi
    done
}

std_name() { if [ "$1" = c++ ]; then echo C++17; else echo C11; fi; }

# One round of checks; "full" adds the mixed-language links, SSM_STATIC and the ISA off-macros.
round() {   # tag full|short
    tag=$1 full=$2
    rm -f "$OUT"/*.o
    label="ssm.h${with:+ (with$with)}"
    for lang in c c++; do
        std=$(std_name $lang)
        check "$tag $std implementation unit, $label twice" compile $lang "$SRC/tu_impl.c" "$OUT/impl_$lang.o"
        check "$tag $std declarations-only unit, ssm.h twice" compile $lang "$SRC/tu_user.c" "$OUT/user_$lang.o"
    done
    for h in $with; do
        for lang in c c++; do
            std=$(std_name $lang)
            check "$tag $std $h alone, twice" \
                compile $lang "$SRC/tu_isa_alone.c" "$OUT/isa.o" -DSSM_TEST_HEADER="\"$h\""
            check "$tag $std $h alone, twice, with SSM_IMPLEMENTATION" \
                compile $lang "$SRC/tu_isa_alone.c" "$OUT/isa.o" -DSSM_TEST_HEADER="\"$h\"" -DSSM_IMPLEMENTATION
        done
    done
    check "$tag C implementation + C user: links and runs" \
        link_and_run "$OUT/two_units" "$OUT/impl_c.o" "$OUT/user_c.o"
    [ "$full" = full ] || return 0
    check "$tag C++ implementation + C user: links and runs" \
        link_and_run "$OUT/two_units" "$OUT/impl_c++.o" "$OUT/user_c.o"
    check "$tag C implementation + C++ user: links and runs" \
        link_and_run "$OUT/two_units" "$OUT/impl_c.o" "$OUT/user_c++.o"
    for lang in c c++; do
        std=$(std_name $lang)
        check "$tag $std SSM_STATIC: two private copies link and run" static_copies $lang
        for macro in $off; do
            check "$tag $std implementation with $macro" \
                compile $lang "$SRC/tu_impl.c" "$OUT/off.o" -D"$macro"
        done
    done
}

static_copies() {   # LANG
    compile "$1" "$SRC/static_a.c" "$OUT/static_a.o" && compile "$1" "$SRC/static_b.c" "$OUT/static_b.o" &&
        link_and_run "$OUT/static" "$OUT/static_a.o" "$OUT/static_b.o"
}

# check_pair "cc:c++[:runner]": the full round, then the OpenMP round.
check_pair() {
    cc=$(echo "$1" | cut -d: -f1)
    cxx=$(echo "$1" | cut -d: -f2)
    runner=$(echo "$1" | cut -s -d: -f3)
    extra=$EXTRA_FLAGS link=""
    if [ -n "$runner" ]; then
        extra="" link="-static"
    fi
    for tool in "$cc" "$cxx" $runner; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            skip "$cc/$cxx" "$tool not installed"
            return
        fi
    done
    isa_headers "$cc"
    flags=$extra
    round "$cc" full
    flags="$extra -fopenmp"
    if has_openmp; then
        round "$cc -fopenmp" short
    else
        skip "$cc -fopenmp" "no OpenMP for $cc/$cxx"
    fi
}

for pair in $COMPILERS; do
    check_pair "$pair"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
