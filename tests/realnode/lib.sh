# Shared by the realnode tests: kube-sim (tests/integration/lib.sh) plus realnode.py
# backing some of its nodes with a real containerd each.  Needs root and the packages
# tools/deps installs; without them the test is skipped, or fails under CI=true.
. "$top_srcdir/tests/integration/lib.sh"

RN_DIR=$top_srcdir/tests/realnode
RN_PID=
RN=

rn_prereq() {
        local why
        # CLYDE_REAL_TIER=0: the real tiers ran already in this CI job (.ci/run's distcheck)
        if [ "${CLYDE_REAL_TIER:-1}" = 0 ]; then
                echo "1..0 # SKIP real tier turned off (CLYDE_REAL_TIER=0)"
                exit 0
        fi
        why=$("$PYTHON3" "$RN_DIR/realnode.py" --check 2>&1) && return 0
        if [ "${CI:-}" = true ]; then
                echo "Bail out! realnode prerequisites missing under CI: $why"
                exit 1
        fi
        echo "1..0 # SKIP $(echo "$why" | tr '\n' ' ')"
        exit 0
}

rn_cleanup() {
        rn_stop
        cleanup
}
trap rn_cleanup EXIT

# rn_start ARGS...: realnode.py for the running sim; waits for its ready line.
rn_start() {
        RN=$WORK/rn
        mkdir -p "$RN"
        "$PYTHON3" "$RN_DIR/realnode.py" --state-dir "$RN" --kube-sim "$SIM" \
                --image-cache "${CLYDE_IMAGE_CACHE:-$top_builddir/realnode-images}" "$@" \
                >"$WORK/rn.ready" 2>"$WORK/rn.err" &
        RN_PID=$!
        for _ in $(seq 1 1800); do
                grep -q '^realnode ready' "$WORK/rn.ready" 2>/dev/null && { sed 's/^/# /' "$WORK/rn.err"; return 0; }
                kill -0 "$RN_PID" 2>/dev/null || break
                sleep 0.1
        done
        echo "Bail out! realnode did not start: $(tail -n 8 "$WORK/rn.err")"
        exit 1
}

# rn_stop: SIGTERM, wait; RN_RC is its exit status.
rn_stop() {
        RN_RC=
        [ -n "$RN_PID" ] || return 0
        kill -TERM "$RN_PID" 2>/dev/null
        RN_RC=0
        wait "$RN_PID" || RN_RC=$?
        RN_PID=
}

rn() { "$PYTHON3" "$RN_DIR/rnctl.py" "$RN" "$@"; }
rn_env() { "$PYTHON3" -c "import json,sys; e=json.load(open('$RN/env.json')); print($1)"; }
rn_nodes() { rn_env '"\n".join(e["nodes"])'; }

# rn_leftovers: what teardown left (empty when clean); call after rn_stop.
rn_leftovers() { rn leftovers "$RN_PREFIX" "$RN_CGROUP"; }
rn_remember() {
        RN_PREFIX=$(rn_env 'e["prefix"]')
        RN_CGROUP=$(rn_env 'e["cgroupParent"]')
}
