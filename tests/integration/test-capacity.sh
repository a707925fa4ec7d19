#!/bin/bash
# Issue 14 item 2 / issue 11 item 4: a seeder that cannot run a puller pod is reported
# with its cause well before pull_timeout (5 min here): a node at its pod capacity (the
# scheduler's "Too many pods"), one with too little cpu ("Insufficient cpu"), and one
# where the helper init container exits non-zero (Init:Error / Init:CrashLoopBackOff).
# Such a seeder fails this run (exit 1) and stays a seeder; the next run, with room made,
# pulls there. Nothing is left behind.
. "$top_srcdir/tests/integration/lib.sh"

sim_start --nodes 4 --zones 2 --arch amd64=3,arm64=1 --time-scale 0.02
FAST=60 # seconds
HELPER=registry.example.com/tools/helper:1

node_of() { # node_of ARCH N: the Nth (1-based) seeder candidate of that architecture
        sim get /api/v1/nodes | "$PYTHON3" -c "import json,sys
n=[i['metadata']['name'] for i in json.load(sys.stdin)['items'] if i['metadata']['labels'].get('kubernetes.io/arch')=='$1']
print(sorted(n)[$2-1])"
}
FULL=$(node_of amd64 1) CPU=$(node_of amd64 2) OK_NODE=$(node_of amd64 3) ARM=$(node_of arm64 1)

# FULL: one pod slot, taken. CPU: 5m allocatable (a puller pod asks 10m).
sim admin POST "/_sim/nodes/$FULL/allocatable" '{"pods": "1"}' >/dev/null
sim api POST /api/v1/namespaces/default/pods "{\"metadata\": {\"name\": \"filler\"},
        \"spec\": {\"nodeName\": \"$FULL\", \"containers\": [{\"name\": \"c\", \"image\": \"docker.io/library/nginx:1.27\"}]}}" >/dev/null
sim admin POST "/_sim/nodes/$CPU/allocatable" '{"cpu": "5m"}' >/dev/null
# The helper is built for amd64 only: on arm64 it exits 1 (exec format error).
sim admin POST /_sim/images "{\"image\": \"$HELPER\", \"behaviour\": \"crash\", \"crash_platforms\": [\"linux/arm64\"]}" >/dev/null

printf '[registry]\nresolve = no\n[preload]\nhelper_image = %s\npull_timeout = 5m\n[seeder]\npercentage = 100\n[log]\nfile =\n' \
        "$HELPER" >"$WORK/seeder.ini"
printf 'docker.io/library/app-capacity:1\n' >"$WORK/images.txt"

t0=$(date +%s)
seed --config "$WORK/seeder.ini"
TOOK=$(($(date +%s) - t0))
cp "$WORK/out" "$WORK/out-first"
is "$RC" 1 "a run with seeders that cannot run a puller exits 1"
[ "$TOOK" -lt "$FAST" ]; ok $? "reported in $TOOK s (< $FAST s; pull_timeout 300 s)"
echo "# capacity: $BACKEND: the run with three unusable seeders took $TOOK s"
grep -q "node '$FULL' cannot run a puller pod this run: Unschedulable: 0/4 nodes are available: 1 Too many pods\. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod\.\.; it stays a seeder" "$WORK/out-first"
ok $? "the full node is named with the scheduler's reason" || grep "$FULL" "$WORK/out-first" | sed 's/^/# /'
grep -q "node '$CPU' cannot run a puller pod this run: Unschedulable: 0/4 nodes are available: 1 Insufficient cpu\." "$WORK/out-first"
ok $? "the node without cpu is named with the scheduler's reason" || grep "$CPU" "$WORK/out-first" | sed 's/^/# /'
grep -qE "node '$ARM' cannot run a puller pod this run: Init:(Error|CrashLoopBackOff): init container 'clyde-seed-init' \($HELPER\) (exited with code 1|cannot start: back-off)" "$WORK/out-first"
ok $? "the node whose helper crashes is named with Init:Error/CrashLoopBackOff" || grep "$ARM" "$WORK/out-first" | sed 's/^/# /'
is "$(grep -cE "FAILED image docker.io/library/app-capacity:1 on 1 seeder \(($FULL|$CPU|$ARM)\): (Unschedulable|Init:)" "$WORK/out-first")" 3 \
        "the summary lists each of the three failed seeders with its reason"
# How long after verify began each was reported (from the log's timestamps).
"$PYTHON3" - "$WORK/out-first" <<'PY'
import re, sys, datetime
t = lambda l: datetime.datetime.strptime(l[:23], '%Y-%m-%dT%H:%M:%S.%f')
lines = open(sys.argv[1]).read().splitlines()
start = next(t(l) for l in lines if 'waiting for' in l)
for l in lines:
    m = re.search(r"cannot run a puller pod this run: (Unschedulable: [^.]*|Init:\w+)", l)
    if m:
        print('# capacity: reported after %.1f s: %s' % ((t(l) - start).total_seconds(), m.group(1)))
PY
is "$(py "sum(1 for s in t['seeders'] for i in s['images'] if s['node'] == '$OK_NODE')")" 1 "the usable seeder pulled"
is "$(sim labelled p2p-seeder=true | wc -l)" 4 "the failed seeders stay seeders"
is "$(sim daemonsets default | wc -l)" 0 "no DaemonSet left"
sleep 1 # the garbage collector removes the DaemonSets' pods
is "$(sim get '/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io/managed-by%3Dclyde-seed' |
        "$PYTHON3" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')" 0 "no puller pod left"

# Room made, helper fixed: the next run pulls on the three.
sim api DELETE /api/v1/namespaces/default/pods/filler?gracePeriodSeconds=0 >/dev/null
sim admin POST "/_sim/nodes/$CPU/allocatable" '{"cpu": "7910m"}' >/dev/null
sim admin DELETE /_sim/images >/dev/null
seed --config "$WORK/seeder.ini"
is "$RC" 0 "with room made the next run pulls on every seeder" || tail -n 5 "$WORK/out" | sed 's/^/# /'
done_testing
