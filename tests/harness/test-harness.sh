#!/bin/bash
# SPDX-License-Identifier: MIT
# The test machinery: tools/check-summary counts every result automake records (XFAIL and
# XPASS too, through the real TAP driver) and reports a make that stopped early as a
# failure; a missing tool is a counted skip, or a failure with CI=true (tests/tap.sh,
# tests/reliability/rlib.py, test-kubectl.sh). TAP.
set -u
: "${top_srcdir:?run through make check (top_srcdir unset)}"
. "$top_srcdir/tests/tap.sh"
PYTHON3=${PYTHON3:-python3}
SUMMARY=$top_srcdir/tools/check-summary
DRIVER=$top_srcdir/build-aux/tap-driver.sh
W=$(mktemp -d "${TMPDIR:-/tmp}/clyde-harness.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
[ -x "$SUMMARY" ] && [ -f "$DRIVER" ] || { echo "Bail out! no $SUMMARY or $DRIVER"; exit 1; }

# drive NAME SCRIPT: runs the shell script through automake's TAP driver into $W/run/NAME.trs
drive() {
        mkdir -p "$W/run"
        printf '%s\n' "$2" >"$W/$1.sh"
        env -u CI AM_TAP_AWK=awk ${SHELL:-/bin/sh} "$DRIVER" --test-name "$1" --log-file "$W/run/$1.log" \
                --trs-file "$W/run/$1.trs" --color-tests no --enable-hard-errors yes --expect-failure no \
                -- /bin/sh "$W/$1.sh" >/dev/null 2>&1
}

# --- tools/check-summary ---------------------------------------------------------------
drive passing 'echo "ok 1 - a"; echo "ok 2 - b"; echo "ok 3 # SKIP no tool"; echo 1..3'
drive todo 'echo "ok 1 - a"; echo "not ok 2 - unused permission # TODO grants more"; echo 1..2'
out=$("$SUMMARY" "$W/run" 0)
is "$out" "tests: 3 passed, 0 failed, 1 skipped, 1 xfail, 0 xpass" "a TAP TODO is counted as xfail"
echo "$out" | grep -Eq '^tests: [0-9]+ passed, [0-9]+ failed'; ok $? "the line starts as CI reads it"

drive todo-passes 'echo "ok 1 - fixed meanwhile # TODO was known to fail"; echo 1..1'
drive failing 'echo "not ok 1 - broken"; echo 1..1'
drive bails 'echo "Bail out! harness broken"; exit 1'
is "$("$SUMMARY" "$W/run" 2)" "tests: 3 passed, 3 failed, 1 skipped, 1 xfail, 1 xpass" \
        "FAIL, ERROR (Bail out!) and XPASS are failures"

mkdir "$W/none"
out=$("$SUMMARY" "$W/none" 2)
case $out in "tests: 0 passed, 1 failed, 0 skipped, 0 xfail, 0 xpass (make exited 2 "*) r=0 ;; *) r=1 ;; esac
ok $r "make stopped before any test: one failure, not '0 failed' ($out)"
is "$("$SUMMARY" "$W/none" 0)" "tests: 0 passed, 0 failed, 0 skipped, 0 xfail, 0 xpass" "nothing ran, nothing failed"

# --- a missing tool: skip, or fail with CI=true -----------------------------------------
helper() { # helper CI-VALUE COMMANDS: tests/tap.sh in a child shell
        env -u CI ${1:+CI=$1} /bin/sh -c ". '$top_srcdir/tests/tap.sh'; $2"
}
out=$(helper "" 'skip_missing 2 "kubectl not installed"; done_testing'); r=$?
is "$r:$(echo "$out" | tr '\n' '|')" "0:ok 1 # SKIP kubectl not installed|ok 2 # SKIP kubectl not installed|1..2|" \
        "skip_missing: counted skips"
out=$(helper true 'skip_missing 1 "kubectl not installed"; done_testing'); r=$?
case $r:$out in 1:"not ok 1 - kubectl not installed"*) r=0 ;; *) r=1 ;; esac
ok $r "skip_missing with CI=true: a failure"
out=$(helper "" 'skip_all_missing "no strace"; echo ran on'); r=$?
is "$r:$out" "0:1..0 # SKIP no strace" "skip_all_missing: the script is skipped"
out=$(helper true 'skip_all_missing "no strace"; echo ran on'); r=$?
case $r:$out in 1:"Bail out! no strace"*) r=0 ;; *) r=1 ;; esac
ok $r "skip_all_missing with CI=true: bails out"

rl() { # rl CI-VALUE PYTHON: tests/reliability/rlib.py
        env -u CI ${1:+CI=$1} "$PYTHON3" -c "import sys; sys.path.insert(0, '$top_srcdir/tests/reliability'); import rlib
$2"
}
out=$(rl "" 't = rlib.Tap(); t.skip_missing("open flags", "strace not installed")'); r=$?
is "$r:$(echo "$out" | tr '\n' '|')" "0:ok 1 - open flags # SKIP strace not installed|1..1|" "rlib skip_missing: a counted skip"
out=$(rl true 't = rlib.Tap(); t.skip_missing("open flags", "strace not installed"); t.exit()'); r=$?
case $r:$out in 1:"not ok 1 - open flags: strace not installed"*) r=0 ;; *) r=1 ;; esac
ok $r "rlib skip_missing with CI=true: a failure"
out=$(rl true 'rlib.skip_all_missing("valgrind not installed")'); r=$?
case $r:$out in 1:"Bail out! valgrind not installed"*) r=0 ;; *) r=1 ;; esac
ok $r "rlib skip_all_missing with CI=true: bails out"

# test-kubectl.sh without kubectl
out=$(env -u CI KUBECTL=/nonexistent/kubectl /bin/sh "$top_srcdir/tests/kube-sim/test-kubectl.sh" 2>&1); r=$?
case $r:$out in "0:1..0 # SKIP kubectl not installed"*) r=0 ;; *) r=1 ;; esac
ok $r "test-kubectl.sh without kubectl: skipped"
echo "$out" | sed 's/^/#   /'
out=$(CI=true KUBECTL=/nonexistent/kubectl /bin/sh "$top_srcdir/tests/kube-sim/test-kubectl.sh" 2>&1); r=$?
case $r:$out in 1:"Bail out! kubectl not installed"*) r=0 ;; *) r=1 ;; esac
ok $r "test-kubectl.sh without kubectl, CI=true: a failure"
echo "$out" | sed 's/^/#   /'
done_testing
