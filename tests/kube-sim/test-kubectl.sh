#!/bin/sh
# Real kubectl against kube-sim: get nodes (server-side Table columns), label node,
# apply (validated on the server through the OpenAPI v3 discovery, no --validate=false),
# re-apply, get/delete a DaemonSet, get pods -o json and as a table, an invalid DaemonSet
# rejected with the real 422 message, `auth can-i` as the RBAC service account. TAP.
# Without kubectl: a counted skip, a failure in CI; a simulator that does not start: a failure.
PY=${PYTHON3:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tap.sh"
KUBECTL=${KUBECTL:-$(command -v kubectl)}
[ -n "$KUBECTL" ] && [ -x "$KUBECTL" ] ||
	skip_all_missing "kubectl not installed (apt-get install kubernetes-client)"
T=$(mktemp -d /tmp/kube-sim-kubectl.XXXXXX)
SIM=
cleanup() { [ -n "$SIM" ] && kill -TERM "$SIM" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
mkfifo "$T/ready"
"$PY" "$HERE/kube_sim.py" --state-dir "$T/state" --port 0 --nodes 3 --control-plane 1 \
	--time-scale 0.02 --rbac-yaml "$HERE/testdata/rbac.yaml" >"$T/ready" 2>"$T/sim.err" &
SIM=$!
read -r line <"$T/ready" || true
case $line in "kube-sim ready https://127.0.0.1:"*) ;; *)
	echo "Bail out! simulator did not start: $(cat "$T/sim.err")"; exit 1;; esac
K() { "$KUBECTL" --kubeconfig "$T/state/kubeconfig" --cache-dir "$T/cache" --request-timeout=30s "$@"; }
n=0; fail=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
echo "1..18"

out=$(K get nodes 2>&1); echo "$out" | grep -q '^node-0003 ' ; check $? "get nodes lists node-0003"
echo "$out" | head -1 | grep -Eq '^NAME +STATUS +ROLES +AGE +VERSION$'; check $? "get nodes: the server's columns ($(echo "$out" | head -1))"
echo "$out" | grep -Eq '^control-plane-1 +Ready +control-plane +[0-9]+s +v1\.26\.0$'; check $? "get nodes: a control-plane row"
K label node node-0002 clyde/seeder=true >"$T/o" 2>&1 && grep -q 'node/node-0002 labeled' "$T/o"; check $? "label node"
out=$(K get nodes -l clyde/seeder=true -o name 2>&1); [ "$out" = "node/node-0002" ]; check $? "label selector sees the label ($out)"

cat >"$T/ds.yaml" <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: puller
spec:
  selector:
    matchLabels: {app: puller}
  template:
    metadata:
      labels: {app: puller}
    spec:
      nodeSelector: {clyde/seeder: "true"}
      containers:
      - name: nginx
        image: nginx:1.27
YAML
K apply -f "$T/ds.yaml" >"$T/o" 2>&1 && grep -q 'daemonset.apps/puller created' "$T/o"; check $? "apply -f a DaemonSet: $(cat "$T/o")"
sed 's/nginx:1.27/nginx:1.28/' "$T/ds.yaml" >"$T/ds2.yaml"
K apply -f "$T/ds2.yaml" >"$T/o" 2>&1 && grep -q 'daemonset.apps/puller configured' "$T/o" && ! grep -qi warning "$T/o"
check $? "re-apply a changed DaemonSet: $(cat "$T/o")"
out=$(K get ds puller -o name 2>&1); [ "$out" = "daemonset.apps/puller" ]; check $? "get ds"
out=$(K get ds -o wide 2>&1)
echo "$out" | head -1 | grep -Eq '^NAME +DESIRED +CURRENT +READY +UP-TO-DATE +AVAILABLE +NODE SELECTOR +AGE +CONTAINERS +IMAGES +SELECTOR$' &&
echo "$out" | grep -Eq '^puller +1 +[01] +[01] +[01] +[01] +clyde/seeder=true +[0-9]+s +nginx +nginx:1.28 +app=puller$'
check $? "get ds -o wide: $(echo "$out" | tr '\n' '|')"
i=0; while :; do
	K get pods -o json >"$T/pods.json" 2>&1
	"$PY" - "$T/pods.json" <<'PYEOF' && break
import json, sys
d = json.load(open(sys.argv[1]))
p = d['items']
ok = len(p) == 1 and p[0]['spec']['nodeName'] == 'node-0002' and \
     p[0]['status'].get('containerStatuses', [{}])[0].get('imageID', '').startswith('docker.io/library/nginx@sha256:')
sys.exit(0 if ok else 1)
PYEOF
	i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.2
done
[ $i -lt 100 ]; check $? "get pods -o json: one pod on node-0002 with an imageID"
out=$(K get pods 2>&1); echo "$out" | grep -Eq '^puller-[a-z0-9]{5} +1/1 +Running +0 +[0-9]+s$'; check $? "get pods: $(echo "$out" | tr '\n' '|')"
K delete ds puller >"$T/o" 2>&1 && grep -q 'daemonset.apps "puller" deleted' "$T/o"; check $? "delete ds"
out=$(K get ds 2>&1); echo "$out" | grep -q 'No resources found'; check $? "no DaemonSets left"

sed -e 's/name: puller$/name: bad/' -e 's/- name: nginx/- name: Bad_Name/' "$T/ds.yaml" >"$T/bad.yaml"
K apply -f "$T/bad.yaml" >"$T/o" 2>&1
grep -q '^The DaemonSet "bad" is invalid: spec.template.spec.containers\[0\].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of' "$T/o"
check $? "invalid DaemonSet rejected with the 422 message: $(head -c 200 "$T/o")"

SA() { "$KUBECTL" --kubeconfig "$T/state/kubeconfig-sa-clyde-seed" --cache-dir "$T/cache-sa" --request-timeout=30s "$@"; }
out=$(SA auth can-i patch nodes 2>"$T/err"); [ "$out" = yes ]; check $? "auth can-i patch nodes as the service account: $out"
out=$(SA auth can-i create daemonsets.apps -n clyde 2>&1); [ "$out" = yes ]; check $? "auth can-i create daemonsets in its namespace: $out"
out=$(SA auth can-i list pods -n default 2>&1); [ "$out" = no ]; check $? "auth can-i list pods elsewhere: $out"
out=$(SA get pods -n default 2>&1)
echo "$out" | grep -q 'pods is forbidden: User "system:serviceaccount:clyde:clyde-seed" cannot list resource "pods" in API group "" in the namespace "default"'
check $? "the real 403 message: $out"
exit $fail
