#!/bin/sh
# clyde-seed under least privilege: a full cycle as the ServiceAccount of the shipped
# etc/clyde/rbac.yaml (kube-sim evaluates the manifests as the RBAC authorizer does; what
# the tool writes draws no unknown-field warnings), and the same with "patch nodes"
# taken away: the tool must stop before changing anything.
# TAP. Without a built clyde-seed the harness is broken: a failure.
PY=${PYTHON3:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${top_srcdir:-$HERE/../..}
BIN=${CLYDE_SEED:-${top_builddir:-.}/clyde-seed}
RBAC=$TOP/etc/clyde/rbac.yaml
if [ ! -x "$BIN" ] || [ ! -f "$RBAC" ]; then
	echo "Bail out! needs a built clyde-seed ($BIN, or CLYDE_SEED) and $RBAC"
	exit 1
fi
T=$(mktemp -d /tmp/kube-sim-rbac.XXXXXX)
SIM=
stop_sim() { [ -n "$SIM" ] && kill -TERM "$SIM" 2>/dev/null && wait "$SIM" 2>/dev/null; SIM=; }
cleanup() { stop_sim; rm -rf "$T"; }
trap cleanup EXIT INT TERM
n=0; fail=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

# start_sim DIR RBAC-FILE: a 6-node simulator; sets SIM
start_sim() {
	mkfifo "$1.ready"
	"$PY" "$HERE/kube_sim.py" --state-dir "$1" --port 0 --nodes 6 --time-scale 0.02 \
		--rbac-yaml "$2" >"$1.ready" 2>"$1.err" &
	SIM=$!
	read -r line <"$1.ready" || true
	case $line in "kube-sim ready https://127.0.0.1:"*) return 0;; esac
	echo "Bail out! simulator did not start: $(cat "$1.err")"; return 1
}
# count DIR AWK-CONDITION: requests in the simulator's log matching the condition
count() {
	"$PY" - "$1" "$2" <<'PYEOF'
import json, ssl, sys, urllib.request
d, cond = sys.argv[1], sys.argv[2]
url = open(d + '/url').read().strip()
ctx = ssl.create_default_context(cafile=d + '/ca.crt')
recs = [json.loads(x) for x in urllib.request.urlopen(url + '/_sim/log', context=ctx).read().splitlines()]
print(sum(1 for r in recs if eval(cond, {}, dict(r, rec=r))))
PYEOF
}
# seed DIR: one clyde-seed run as the service account, bounded in time; prints the exit code
seed() {
	printf 'nginx:1.27\nredis:7\n' >"$1/images.txt"
	timeout 120 "$BIN" --config /dev/null --kubeconfig "$1/kubeconfig-sa-clyde-seed" \
		--base-dir "$1" --log-file '' >"$1.out" 2>&1
	echo $?
}
echo "1..7"

start_sim "$T/full" "$RBAC" || exit 1
rc=$(seed "$T/full")
[ "$rc" = 0 ]; check $? "a full cycle as the service account of rbac.yaml (exit $rc): $(tail -n 1 "$T/full.out")"
c=$(count "$T/full" "status == 403"); [ "$c" = 0 ]; check $? "no request was forbidden ($c)"
c=$(count "$T/full" "str(user).startswith('system:serviceaccount:') and str(user).endswith(':clyde-seed') and verb == 'patch'")
[ "$c" -gt 0 ]; check $? "the nodes were labelled by the service account ($c patches)"
c=$(count "$T/full" "bool(rec.get('warnings'))"); [ "$c" = 0 ]
check $? "no unknown-field warnings for what the tool wrote ($c)"
stop_sim

# the shipped manifests without "patch" on nodes, written as JSON (which is YAML too)
"$PY" - "$HERE" "$RBAC" >"$T/no-patch.yaml" <<'PYEOF'
import json, sys
sys.path.insert(0, sys.argv[1])
import yamlsub
docs = yamlsub.load_all(open(sys.argv[2]).read())
for d in docs:
    for r in d.get('rules') or []:
        if 'nodes' in (r.get('resources') or []) or '*' in (r.get('resources') or []):
            r['verbs'] = [v for v in r['verbs'] if v not in ('patch', '*')] or ['get']
print(json.dumps({'apiVersion': 'v1', 'kind': 'List', 'items': docs}))
PYEOF
start_sim "$T/less" "$T/no-patch.yaml" || exit 1
rc=$(seed "$T/less")
[ "$rc" = 77 ]; check $? "without patch on nodes the run fails with 77, permission denied (exit $rc)"
grep -q 'patch nodes' "$T/less.out"; check $? "and names the missing permission: $(grep -m1 'missing' "$T/less.out")"
c=$(count "$T/less" "method in ('PATCH', 'POST', 'PUT', 'DELETE') and resource != 'selfsubjectaccessreviews'")
[ "$c" = 0 ]; check $? "nothing was changed in the cluster ($c writes)"
exit $fail
