# Shared by the integration scripts: TAP output, a cluster per test (kube-sim or a real
# control plane, see sim_start), the binary.
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

# The cluster a scenario runs against: CLYDE_TEST_BACKEND=sim (kube-sim, the default) or
# real (a real control plane with kubelets played by tests/realkube, the tool running as
# the rbac.yaml ServiceAccount through a fault-injecting proxy that speaks /_sim/ too).
BACKEND=${CLYDE_TEST_BACKEND:-sim}

# sim_start ARGS...: starts the backend in $WORK/sim, waits for its ready line.
sim_start() {
        SIM=$WORK/sim
        mkdir -p "$SIM"
        local prog=tests/kube-sim/kube_sim.py wait=300 rc
        case $BACKEND in
        sim) ;;
        real)
                prog=tests/realkube/realkube.py wait=1800
                # CLYDE_REAL_TIER=0: the real tier ran already in this CI job (distcheck)
                if [ "${CLYDE_REAL_TIER:-1}" = 0 ]; then
                        echo "1..0 # SKIP real tier turned off (CLYDE_REAL_TIER=0)"
                        exit 0
                fi ;;
        *) echo "Bail out! CLYDE_TEST_BACKEND=$BACKEND: expected sim or real"; exit 1 ;;
        esac
        "$PYTHON3" "$top_srcdir/$prog" --state-dir "$SIM" --port 0 "$@" \
                >"$SIM/ready" 2>"$SIM/stderr" &
        SIM_PID=$!
        for _ in $(seq 1 $wait); do
                grep -qE '^(kube-sim|realkube) ready' "$SIM/ready" 2>/dev/null && return 0
                kill -0 "$SIM_PID" 2>/dev/null || break
                sleep 0.1
        done
        wait "$SIM_PID" 2>/dev/null
        rc=$?
        SIM_PID=
        # 69: an asset is missing (no Kubernetes binaries or etcd): a skip, except in CI
        if [ "$rc" -eq 69 ] && [ "${CI:-}" != true ]; then
                echo "1..0 # SKIP $BACKEND backend unavailable: $(tail -n 1 "$SIM/stderr")"
                exit 0
        fi
        echo "Bail out! $BACKEND backend did not start: $(tail -n 5 "$SIM/stderr")"
        exit 1
}

sim() { $SIMCTL "$SIM" "$@"; }

# A seeder.ini for the tests: quick timeouts, no log file unless asked, and [registry]
# resolve = no: nothing here may reach docker.io or any registry outside the test's own
# (the product default is yes). A test that resolves passes its own "resolve = ..." line
# (under a "[registry]" line of its own), which replaces that default.
write_ini() { # write_ini FILE [extra lines...]
        local f=$1 line resolve=yes
        shift
        for line in "$@"; do
                case $line in resolve*=*) resolve= ;; esac
        done
        {
                [ -z "$resolve" ] || printf '[registry]\nresolve = no\n'
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
