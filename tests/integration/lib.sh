# Shared by the integration scripts: TAP output, a kube-sim per test, the binary.
# Every script sources this, calls sim_start, and its checks print TAP lines.

set -u
: "${top_srcdir:?run through make check (top_srcdir unset)}"
. "$top_srcdir/tests/tap.sh"
: "${top_builddir:=$top_srcdir}"
CLYDE_SEED=${CLYDE_SEED:-$top_builddir/clyde-seed}
PYTHON3=${PYTHON3:-python3}
SIMCTL="$PYTHON3 $top_srcdir/tests/integration/simctl.py"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clyde-it.XXXXXX")
SIM_PID=




cleanup() {
        [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
        if [ "$TAP_FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "# work dir kept: $WORK"; fi
}
trap cleanup EXIT

# sim_start ARGS...: starts kube-sim in $WORK/sim, waits for its ready line.
sim_start() {
        SIM=$WORK/sim
        mkdir -p "$SIM"
        "$PYTHON3" "$top_srcdir/tests/kube-sim/kube_sim.py" --state-dir "$SIM" --port 0 "$@" \
                >"$SIM/ready" 2>"$SIM/stderr" &
        SIM_PID=$!
        for _ in $(seq 1 300); do
                grep -q '^kube-sim ready' "$SIM/ready" 2>/dev/null && return 0
                sleep 0.1
        done
        echo "Bail out! kube-sim did not start: $(tail -n 5 "$SIM/stderr")"
        exit 1
}

sim() { $SIMCTL "$SIM" "$@"; }

# A seeder.ini for the tests: quick timeouts, no log file unless asked.
write_ini() { # write_ini FILE [extra lines...]
        local f=$1
        shift
        {
                echo "[preload]"
                echo "pull_timeout = 60s"
                echo "[log]"
                echo "file ="
                printf '%s\n' "$@"
        } >"$f"
}

# seed ARGS...: one clyde-seed run against the sim; output in $WORK/out, exit code in $RC.
seed() {
        RC=0
        "$CLYDE_SEED" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" "$@" >"$WORK/out" 2>&1 || RC=$?
}

# Tracker as JSON through the CLI.
tracker_json() { "$CLYDE_SEED" --config /dev/null --base-dir "$WORK" status --json 2>/dev/null; }

# jq-less JSON queries: py EXPR evaluates EXPR with t = the tracker.
py() { tracker_json | "$PYTHON3" -c "import json,sys; t=json.load(sys.stdin); print($1)"; }
