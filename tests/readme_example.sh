#!/usr/bin/env bash
# The README's C example must be exactly examples/quickstart.c (minus its header comment) and
# must build as a new user would: nothing but -I. and -lm. Prints PASS/FAIL lines and the
# summary line; exits 1 on failure.
set -u
cd "$(dirname "$0")/.."
out=${BUILD_DIR:-build}/readme
mkdir -p "$out"
pass=0 fail=0
report() {  # verdict name detail
    echo "$1 readme-example $2${3:+ ($3)}"
    if [ "$1" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

awk '/^```c$/ {on = 1; next} on && /^```$/ {exit} on {print}' README.md >"$out/example.c"
sed -n '/^#define SSM_IMPLEMENTATION/,$p' examples/quickstart.c >"$out/quickstart_body.c"
if [ -s "$out/example.c" ] && cmp -s "$out/example.c" "$out/quickstart_body.c"; then
    report PASS same-as-examples/quickstart.c
else
    report FAIL same-as-examples/quickstart.c "README.md's first C block differs from examples/quickstart.c"
fi

cc=${CC:-cc}
if $cc -I. "$out/example.c" -lm -o "$out/example" 2>"$out/build.log"; then
    report PASS "builds-with-only-I.-lm ($cc)"
    if "$out/example" | grep -q '^backend '; then
        report PASS runs
    else
        report FAIL runs "the example did not print its result"
    fi
else
    report FAIL "builds-with-only-I.-lm ($cc)" "$(head -c 300 "$out/build.log")"
fi
echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
