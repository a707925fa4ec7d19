#!/bin/bash
# Issue 15 with real containerd nodes: the README's deploy flow
#   clyde-seed --images-to-seed <(echo IMAGE) --seeder-percentage 20 && kubectl apply -f workload.yml
# (the workload finds its image already on the seeder: no pull), then the moving tag: after
# a second push the next run past refresh_interval pulls the new digest and records it.
# The registry link is rate limited to 100 Mbit/s: the pull takes about size/rate and the
# link's counters show the bytes.  kubectl is Debian's (kubernetes-client 1.20).
. "$top_srcdir/tests/realnode/lib.sh"
rn_prereq
# Debian's kubectl (kubernetes-client 1.20, which fetches /openapi/v2 before an apply):
# installed, or unpacked by tools/deps where another kubectl owns /usr/bin/kubectl.
if [ -z "${KUBECTL:-}" ]; then
        KUBECTL=/var/cache/clyde-seed/kubernetes-client/usr/bin/kubectl
        dpkg-query -W -f='${db:Status-Abbrev}' kubernetes-client 2>/dev/null | grep -q '^ii' && KUBECTL=/usr/bin/kubectl
fi
[ -x "$KUBECTL" ] || { echo "Bail out! no Debian kubectl at $KUBECTL (tools/deps unpacks it)"; exit 1; }
kv=$("$KUBECTL" version --client --short 2>/dev/null || "$KUBECTL" version --client 2>&1 | head -n 1)
echo "# kubectl: $KUBECTL ($kv)"

sim_start --nodes 5 --zones 1 --images-per-node 0 --time-scale 0.05
rn_start --count 5 --registry-rate 100mbit --node-rate 1gbit
rn_remember
K() { "$KUBECTL" --kubeconfig "$SIM/kubeconfig" --cache-dir "$WORK/kcache" --request-timeout=30s "$@"; }
APP=registry.test/clyde/big:1
write_ini "$WORK/seeder.ini"
cat >"$WORK/workload.yml" <<EOF
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: app, namespace: default}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      nodeSelector: {p2p-seeder: "true"}
      terminationGracePeriodSeconds: 2
      securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000}
      volumes: [{name: bin, emptyDir: {}}]
      initContainers:
      - {name: copy, image: "docker.io/library/busybox:1.36.1-musl", imagePullPolicy: IfNotPresent,
         command: [/bin/busybox, cp, /bin/busybox, /bin-shared/sleep],
         volumeMounts: [{name: bin, mountPath: /bin-shared}]}
      containers:
      - {name: app, image: "$APP", imagePullPolicy: IfNotPresent, command: [/bin-shared/sleep, "3600"],
         securityContext: {readOnlyRootFilesystem: true},
         volumeMounts: [{name: bin, mountPath: /bin-shared, readOnly: true}]}
EOF

# Bytes sent on the registry's link (its eth0 in the registries' namespace: the tbf side).
reg_tx() { nsenter --net="/run/netns/$(rn_env 'e["prefix"]')-reg" ip -s -j link show eth0 |
        "$PYTHON3" -c "import json,sys; print(json.load(sys.stdin)[0]['stats64']['tx']['bytes'])"; }
tx0=$(reg_tx)
cd "$WORK" || exit 1
start=$(date +%s)
"$CLYDE_SEED" --kubeconfig "$SIM/kubeconfig" --config "$WORK/seeder.ini" --images-to-seed <(echo $APP) \
        --seeder-percentage 20 >"$WORK/out" 2>&1 && K apply -f workload.yml >"$WORK/apply" 2>&1
ok $? "clyde-seed --images-to-seed <(echo $APP) --seeder-percentage 20 && kubectl apply -f workload.yml ($(( $(date +%s) - start )) s)"
[ -s "$WORK/apply" ] && sed 's/^/# /' "$WORK/apply"
seeder=$(sim labelled p2p-seeder=true)
is "$(echo "$seeder" | wc -l)" 1 "one seeder (20% of 5 nodes): $seeder"
digest=$(rn images "$seeder" | awk -v r=$APP '$2 == r {print $3}')
is "$(py "[i['digest'] for s in t['seeders'] for i in s['images']][0]")" "${digest:-none}" \
        "the tracker's digest is the one containerd holds on $seeder"
pod=$(rn wait "$SIM" /api/v1/namespaces/default/pods?labelSelector=app%3Dapp \
        "[q for q in p['items'] if q['status'].get('phase') == 'Running']" 60 |
        "$PYTHON3" -c "import json,sys; print(''.join(q['metadata']['name'] for q in json.load(sys.stdin)['items']))")
[ -n "$pod" ]; ok $? "the workload pod runs on the seeder ($pod)"
K get events --field-selector "involvedObject.name=$pod" -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}' >"$WORK/events"
grep -q "^Pulled: Container image \"$APP\" already present on machine" "$WORK/events"
ok $? "the workload's image was already present on the seeder (no pull)"
! grep -q "^Pulling: Pulling image \"$APP\"" "$WORK/events"
ok $? "the workload pulled nothing from the registry"
is "$(K get pod "$pod" -o jsonpath='{.status.containerStatuses[0].imageID}')" "registry.test/clyde/big@$digest" \
        "its imageID is containerd's repo@digest"
# The puller's pull of the ~100 MB image went through the 100 Mbit/s registry link.
rn api "$SIM" GET "/api/v1/namespaces/default/events?fieldSelector=reason%3DPulled" | "$PYTHON3" -c "import json,sys
for e in json.load(sys.stdin)['items']:
    if e['message'].startswith('Successfully pulled image \"$APP\" in '): print(e['message'].split(' in ')[1].split('s ')[0])" >"$WORK/pulltime"
secs=$(head -n 1 "$WORK/pulltime")
tx1=$(reg_tx)
size=$(rn status-images "$SIM" | awk -v r=$APP '$2 == r {print $3; exit}')
# tbf lets at most its 256 kB bucket through above the rate, so the pull cannot take less
# than (size - 256 kB) / 100 Mbit/s: a lower bound from the link, not a tuned figure.
# The upper bound (twice that) only allows for CPU on a busy 2-core machine.
"$PYTHON3" -c "import sys
s, t = int(sys.argv[1]), float(sys.argv[2])
low = (s - 256 * 1024) * 8 / 100e6
print('# pull %.2f s, link floor %.2f s for %d bytes (%.1f Mbit/s)' % (t, low, s, s * 8 / t / 1e6))
sys.exit(0 if low <= t <= 2 * low else 1)" "${size:-0}" "${secs:-0}"
ok $? "the seeder's pull of the ${size:-?}-byte image took ${secs:-no event} s: within [size/rate, 2 x size/rate] at 100 Mbit/s"
# The registry's link carried the image once (the seeder's pull; the workload pulled
# nothing): its bytes plus the helper's ~1.1 MB and HTTP/TCP overhead (under 5 %).
"$PYTHON3" -c "import sys
d, s = int(sys.argv[2]) - int(sys.argv[1]), int(sys.argv[3])
print('# registry link: %d bytes sent, image %d' % (d, s))
sys.exit(0 if s <= d <= s * 1.05 + 2e6 else 1)" "$tx0" "$tx1" "${size:-0}"
ok $? "the registry link's counter shows the image's bytes crossed it once ($((tx1 - tx0)) bytes)"
K delete daemonset app --wait=false >/dev/null 2>&1
rn wait "$SIM" /api/v1/namespaces/default/pods?labelSelector=app%3Dapp "not p['items']" 30 >/dev/null
is "$(K get pods -l app=app -o name 2>/dev/null)" "" "deleting the workload removes its pod"
is "$(rn containers "$seeder")" "" "and its containers from containerd on $seeder"

# The moving tag.
echo registry.test/clyde/moving:stable >"$WORK/moving.txt"
write_ini "$WORK/moving.ini" "[preload]" "refresh_interval = 1s"
mv_seed() { seed --config "$WORK/moving.ini" --base-dir "$WORK/moving" --images-to-seed "$WORK/moving.txt" --seeder-percentage 40; }
mkdir -p "$WORK/moving"
mv_seed
is "$RC" 0 "moving tag: first run exits 0"
d1=$(WORK=$WORK/moving py "sorted({i['digest'] for s in t['seeders'] for i in s['images']})")
rn admin POST /push-moving >/dev/null
ok $? "the tag is pushed again with other content"
sleep 1.1
mv_seed
is "$RC" 0 "moving tag: second run, past refresh_interval, exits 0"
d2=$(WORK=$WORK/moving py "sorted({i['digest'] for s in t['seeders'] for i in s['images']})")
[ "$d1" != "$d2" ] && [ "$(echo "$d2" | tr -cd , | wc -c)" = 0 ]
ok $? "the tracker records one new digest for the tag ($d1 -> $d2)"
for node in $(WORK=$WORK/moving py "' '.join(s['node'] for s in t['seeders'])"); do
        now=$(rn images "$node" | awk '$2 == "registry.test/clyde/moving:stable" {print $3}')
        is "['$now']" "$d2" "$node: containerd's digest for the tag is the new one"
done
grep -q "pulled registry.test/clyde/moving:stable (${d2:2:71})" "$WORK/out"
ok $? "the run logs the new digest"

rn_stop
is "$RN_RC" 0 "realnode stops on SIGTERM with exit 0"
is "$(rn_leftovers)" "" "no netns, mount, cgroup or process left behind"
done_testing
