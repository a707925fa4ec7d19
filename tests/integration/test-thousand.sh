#!/bin/bash
# Issue 11 acceptance: a run against 1,000 seeders in one batch creates a DaemonSet the
# strict kube-sim accepts: one nodeSelectorTerm per node, each a single-value matchFields
# (kube-sim validates as the real server: ValidateNodeFieldSelectorRequirement), under
# the 3 MiB request limit.
# The run is stopped once the DaemonSet exists: pulling on 1,000 simulated nodes is
# the benchmarks' business, not this test's.
. "$top_srcdir/tests/integration/lib.sh"
# CLYDE_SCALE_TIER=0: this scale run (minutes of kube-sim at 1,000 nodes) ran already in
# the same CI job (.ci/run's tools/check); the distcheck that follows sets it.
if [ "${CLYDE_SCALE_TIER:-1}" = 0 ]; then
        echo "1..0 # SKIP scale tier turned off (CLYDE_SCALE_TIER=0)"
        exit 0
fi

sim_start --nodes 1000 --zones 3 --time-scale 0.02 --images-per-node 0 --no-events
{
        echo "[seeder]"
        echo "percentage = 100"
        echo "[preload]"
        echo "pull_timeout = 5m"
        echo "[kubernetes]"
        echo "qps = 500"
        echo "burst = 1000"
        echo "[log]"
        echo "file ="
} >"$WORK/seeder.ini"
echo "docker.io/library/app-big:1" >"$WORK/images.txt"
"$CLYDE_SEED" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" --config "$WORK/seeder.ini" >"$WORK/out" 2>&1 &
pid=$!
for _ in $(seq 1 1200); do
        grep -q "DaemonSet 'clyde-seed-[^']*': batch 0" "$WORK/out" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
grep -q "DaemonSet 'clyde-seed-[^']*': batch 0, 1 images on 1000 seeders" "$WORK/out"
ok $? "1,000 seeders: one DaemonSet for the 1,000 seeders was created" || tail -n 5 "$WORK/out" | sed 's/^/# /'
is "$(sim count 422)" 0 "1,000 seeders: no request refused as invalid (422)"
# 1,000 puller pods keep kube-sim busy: read the DaemonSet with a patient client.
"$PYTHON3" - "$SIM" >"$WORK/shape" <<'PY'
import json, ssl, sys, urllib.request
d = sys.argv[1]
ctx = ssl.create_default_context(cafile=d + '/ca.crt')
url = open(d + '/url').read().strip()
req = urllib.request.Request(url + '/apis/apps/v1/namespaces/default/daemonsets'
                             '?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dclyde-seed')
req.add_header('Authorization', 'Bearer ' + open(d + '/token').read().strip())
items = json.load(urllib.request.urlopen(req, context=ctx, timeout=300))['items']
ds = items[0]
terms = ds['spec']['template']['spec']['affinity']['nodeAffinity'][
    'requiredDuringSchedulingIgnoredDuringExecution']['nodeSelectorTerms']
single = all(len(t['matchFields']) == 1 and len(t['matchFields'][0]['values']) == 1 for t in terms)
print(len(items), len(terms), single, len(json.dumps(ds)))
PY
read -r n_ds terms single size <"$WORK/shape"
is "$n_ds" 1 "1,000 seeders: one DaemonSet in the namespace"
is "$terms" 1000 "1,000 seeders: 1,000 nodeSelectorTerms"
is "$single" True "1,000 seeders: each a single-value matchFields"
[ "${size:-99999999}" -lt 3145728 ]; ok $? "1,000 seeders: the DaemonSet is ${size} bytes (< 3 MiB)"
done_testing
