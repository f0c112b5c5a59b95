#!/bin/sh
# Install leg: `make install` into a scratch prefix, then build and run a program the way a user
# of the installed copy would: from a directory without ssm.h, with nothing but
# `pkg-config --cflags --libs ssm`. PASS/FAIL/SKIP lines, then "N passed, M failed, K skipped".
#
# Environment: BUILD (default build), CC (default cc), MAKE (default make), HEADERS (the headers
# that must be installed; default ssm.h). Run from the repository root.
# shellcheck disable=SC2086  # $CC, $MAKE and pkg-config flags are meant to split into words
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}
MAKE=${MAKE:-make}
HEADERS=${HEADERS:-ssm.h}
prefix=$(pwd)/$BUILD/install-test
src=$prefix/user-project
passed=0 failed=0 skipped=0

check() {
    name=$1
    shift
    if out=$("$@" 2>&1); then
        echo "PASS install: $name"
        passed=$((passed + 1))
    else
        echo "FAIL install: $name"
        echo "$out" | sed -e 's/^/    /' | head -n 20
        failed=$((failed + 1))
    fi
}

installed_files() {
    for h in $HEADERS; do
        test -f "$prefix/include/$h" || return 1
    done
    test -f "$prefix/lib/pkgconfig/ssm.pc"
}

same_version() {
    want=$(sed -n 's/^#define SSM_VERSION_STRING "\(.*\)"/\1/p' ssm.h)
    got=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --modversion ssm)
    echo "ssm.pc says $got, ssm.h says $want"
    [ -n "$want" ] && [ "$got" = "$want" ]
}

# The two-unit program of the compile leg, built from outside the repository.
user_program() {
    mkdir -p "$src" &&
        cp tests/compile/tu_impl.c tests/compile/tu_user.c tests/compile/trivial.h "$src/" &&
        cd "$src" &&
        flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags ssm) &&
        libs=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --libs ssm) &&
        $CC -std=c11 -Wall -Wextra -Werror $flags tu_impl.c tu_user.c $libs -o user &&
        ./user
}

rm -rf "$prefix"
check "make install PREFIX=$prefix" $MAKE -s --no-print-directory install PREFIX="$prefix"
check "headers ($HEADERS) and lib/pkgconfig/ssm.pc in place" installed_files
if command -v pkg-config >/dev/null 2>&1; then
    check "pkg-config --modversion ssm is the header's version" same_version
    check "a program built with pkg-config --cflags --libs ssm runs" user_program
else
    echo "SKIP install: pkg-config checks (pkg-config not installed)"
    skipped=$((skipped + 2))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
