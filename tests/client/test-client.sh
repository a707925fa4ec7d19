#!/bin/sh
# SPDX-License-Identifier: MIT
# Starts kube-sim and runs the client integration program against it (TAP).
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}" "${PYTHON3:=python3}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/clyde-client.XXXXXX")
sim_pid=
cleanup() {
        [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
        rm -rf "$dir"
}
trap cleanup EXIT INT TERM

if [ ! -f "$top_srcdir/tests/kube-sim/kube_sim.py" ]; then
        echo "Bail out! no kube-sim at $top_srcdir/tests/kube-sim/kube_sim.py (top_srcdir)"
        exit 1
fi
SIM_NODES=7; export SIM_NODES
# CLYDE_TEST_BACKEND=real (tests/client/real/): a real control plane behind the fault
# proxy (tests/realkube), which answers the same /_sim/ admin API; kube-sim's knobs for a
# short watch history and frequent bookmarks have no equivalent there.
if [ "${CLYDE_TEST_BACKEND:-sim}" = real ]; then
        set -- "$top_srcdir/tests/realkube/realkube.py" --no-events
        ready='realkube ready' wait_s=2400
else
        set -- "$top_srcdir/tests/kube-sim/kube_sim.py" --watch-history 20 --bookmark-interval 0.5
        ready='kube-sim ready' wait_s=300
fi
"$PYTHON3" "$@" --state-dir "$dir" --port 0 --nodes "$SIM_NODES" --time-scale 0.05 \
        >"$dir/sim.out" 2>"$dir/sim.err" &
sim_pid=$!
i=0
until grep -q "^$ready" "$dir/sim.out" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt $wait_s ] || ! kill -0 "$sim_pid" 2>/dev/null; then
                echo "Bail out! $ready: not started"; cat "$dir/sim.err" | sed 's/^/# /'
                exit 1
        fi
        sleep 0.1
done

# A CA that did not sign the server's certificate.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/wrong.key" -out "$dir/wrong-ca.crt" \
        -days 1 -subj /CN=wrong-ca >/dev/null 2>&1 || { echo "Bail out! openssl failed"; exit 1; }

"$top_builddir/tests/client/test-client" "$dir" "$dir/wrong-ca.crt"
rc=$?
[ -s "$dir/sim.err" ] && sed 's/^/# kube-sim: /' "$dir/sim.err"
exit $rc
