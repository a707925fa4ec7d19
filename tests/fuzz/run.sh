#!/bin/sh
# Builds the libFuzzer targets in their own clang build directory and runs each for
# FUZZ_SECONDS (default 20) on a scratch copy of its seed corpus (tests/fuzz/corpus/NAME;
# the source tree is never written). Prints the executions per target; exits non-zero
# when a target crashes, leaks or breaks an invariant (the input is kept as
# FUZZ_BUILD/fuzz-out/NAME/crash-*).
#   FUZZ_SECONDS=120 tests/fuzz/run.sh                  # all targets, longer
#   FUZZ_TARGETS="config images" tests/fuzz/run.sh      # some of them
#   FUZZ_BUILD=DIR (default: build/fuzz under the source tree), CC (default clang)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
seconds=${FUZZ_SECONDS:-20}
build=${FUZZ_BUILD:-$top/build/fuzz}
targets=${FUZZ_TARGETS:-"config images kubeconfig tracker kube-decode watch registry-manifest registry-auth registry-dockerconfig"}
jobs=${FUZZ_JOBS:-2}

command -v "${CC:-clang}" >/dev/null 2>&1 || { echo "run.sh: ${CC:-clang} not found" >&2; exit 77; }
mkdir -p "$build" || exit 1
if [ ! -f "$build/Makefile" ]; then
        [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi) || exit 1
        (cd "$build" && CC=${CC:-clang} "$top/configure" -q --enable-fuzzing --enable-werror) || exit 1
fi
failed=0
total=0
printf '%-12s %12s %8s %s\n' target executions exec/s result
for t in $targets; do
        out=$build/fuzz-out/$t
        rm -rf "$out"
        mkdir -p "$out/corpus"
        log=$out/fuzz.log
        # one target at a time, so a target that does not build does not hide the others
        if ! make -C "$build" -s -j"$jobs" "tests/fuzz/fuzz-$t" >"$out/build.log" 2>&1; then
                grep -m5 -E 'error' "$out/build.log" | sed 's/^/    /'
                printf '%-12s %12s %8s %s\n' "$t" - - "BUILD FAILED (see $out/build.log)"
                failed=$((failed + 1))
                continue
        fi
        "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -print_final_stats=1 \
                -artifact_prefix="$out/" -rss_limit_mb=2048 -timeout=10 \
                "$out/corpus" "$top/tests/fuzz/corpus/$t" >"$log" 2>&1
        rc=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
        [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
        result=ok
        if [ $rc -ne 0 ]; then
                result="FAILED (exit $rc; see $log)"
                failed=$((failed + 1))
                grep -m5 -E 'ERROR|SUMMARY|Test unit written' "$log" | sed 's/^/    /'
        fi
        total=$((total + ${runs:-0}))
        printf '%-12s %12s %8s %s\n' "$t" "${runs:-?}" "${rate:-?}" "$result"
done
echo "fuzzing: $total executions in total, ${seconds} s per target, $failed failed"
[ $failed -eq 0 ]
