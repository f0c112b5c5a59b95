#!/bin/sh
# summarize.sh LOGDIR — the one aggregate line of `make test`.
#
# LOGDIR holds LEG.log (the leg's output) and LEG.status (its exit status) per leg. A leg
# counts with the last "N passed, M failed, K skipped" line of its log; a leg that was not run
# ("SKIPPED: leg (why)") counts as one skipped; a leg with no summary line (it crashed), or
# that exited non-zero while reporting no failure (e.g. a sanitizer report at exit), counts as
# one more failure. Prints one line per leg, then the total; exits 1 if anything failed.
set -u
dir=$1
passed=0 failed=0 skipped=0

echo "== summary"
for log in "$dir"/*.log; do
    [ -e "$log" ] || continue
    leg=$(basename "$log" .log)
    status=$(cat "$dir/$leg.status" 2>/dev/null || echo "unknown")
    if grep -aq '^SKIPPED: ' "$log"; then
        echo "  $leg: skipped"
        skipped=$((skipped + 1))
        continue
    fi
    line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "  $leg: FAIL: no summary line (exit status $status)"
        failed=$((failed + 1))
        continue
    fi
    # shellcheck disable=SC2086  # split "N passed, M failed, K skipped" into words
    set -- $line
    passed=$((passed + $1))
    failed=$((failed + $3))
    skipped=$((skipped + $5))
    echo "  $leg: $line"
    if [ "$status" != 0 ] && [ "$3" -eq 0 ]; then
        echo "  $leg: FAIL: exit status $status although it reported no failure"
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
