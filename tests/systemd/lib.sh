# Shared by tests/systemd/*.sh: TAP helpers, a work directory, kube-sim.
set -u
: "${top_srcdir:?run through make check (top_srcdir unset)}"
. "$top_srcdir/tests/tap.sh"
: "${top_builddir:=$top_srcdir}"
CLYDE_SEED=${CLYDE_SEED:-$top_builddir/clyde-seed}
PYTHON3=${PYTHON3:-python3}
LC_ALL=C
LANG=C
export LC_ALL LANG

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clyde-sd.XXXXXX") || exit 1
SIM_PID=
CLEANUP_EXTRA=:



skip_all() { # skip_all REASON: nothing was tested
        echo "1..0 # SKIP $1"
        exit 0
}


sd_cleanup() {
        $CLEANUP_EXTRA
        if [ -n "$SIM_PID" ]; then
                kill "$SIM_PID" 2>/dev/null
                wait "$SIM_PID" 2>/dev/null
        fi
        if [ "$TAP_FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "# work dir kept: $WORK"; fi
}
trap sd_cleanup EXIT
trap 'exit 1' INT TERM

# sim_start ARGS...: starts kube-sim with its state in $WORK/sim; waits for "ready".
sim_start() {
        SIM=$WORK/sim
        mkdir -p "$SIM"
        "$PYTHON3" "$top_srcdir/tests/kube-sim/kube_sim.py" --state-dir "$SIM" --port 0 "$@" \
                >"$SIM/ready" 2>"$SIM/stderr" &
        SIM_PID=$!
        for _ in $(seq 1 300); do
                grep -q '^kube-sim ready' "$SIM/ready" 2>/dev/null && return 0
                kill -0 "$SIM_PID" 2>/dev/null || break
                sleep 0.1
        done
        echo "Bail out! kube-sim did not start: $(tail -n 5 "$SIM/stderr")"
        exit 1
}

# jq-less: jpy SCRIPT FILE... runs python with the journal entries of FILE (journalctl
# -o json, one object per line) in a list named e.
jpy() {
        script=$1
        shift
        cat "$@" | "$PYTHON3" -c "
import json, sys
e = [json.loads(l) for l in sys.stdin if l.strip()]
$script"
}
