#!/bin/bash
# Issue 11, tool side: seeders pull one batch at a time (pods_per_seeder), nodes that run
# no DaemonSet pods are never seeders, GKE Autopilot is refused at start (78), resource
# and uid keys are checked with file:line.
. "$top_srcdir/tests/integration/lib.sh"

sim_start --nodes 8 --zones 2 --time-scale 0.02
ini() { # ini FILE [preload lines...]
        local f=$1
        shift
        { echo "[seeder]"; echo "percentage = 50"; echo "[preload]"; echo "pull_timeout = 60s"
          echo "images_per_daemonset = 1"; printf '%s\n' "$@"; echo "[log]"; echo "file ="
          echo "[registry]"; echo "resolve = no"; } >"$f"
}
printf 'nginx:1.27\nredis:7.4\nbusybox:1.36\n' >"$WORK/images.txt"

# One batch at a time: three batches of one image; batch 1 and 2 start in verify, after
# seeders are done with the batch before.
ini "$WORK/seeder.ini"
seed --config "$WORK/seeder.ini"
is "$RC" 0 "three batches, one at a time: exit 0"
seeders=$(sim labelled p2p-seeder=true | wc -l)
is "$seeders" 4 "4 seeders (50% of 8)"
is "$(py 'sum(1 for s in t["seeders"] for i in s["images"])')" $((seeders * 3)) "every seeder holds the three images"
first_b1=$(grep -n "DaemonSet 'clyde-seed-.*': batch 1," "$WORK/out" | head -n1 | cut -d: -f1)
verify_at=$(grep -n "phase preload -> verify" "$WORK/out" | head -n1 | cut -d: -f1)
done_b0=$(grep -n "are done with batch 0" "$WORK/out" | head -n1 | cut -d: -f1)
ok "$([ -n "$first_b1" ] && [ -n "$verify_at" ] && [ "$first_b1" -gt "$verify_at" ]; echo $?)" \
        "batch 1 starts during verify, not in preload (line ${first_b1:-none} > ${verify_at:-none})"
grep -q "DaemonSet 'clyde-seed-.*': batch 2," "$WORK/out"; ok $? "batch 2 started too"
ok "$([ -n "$done_b0" ]; echo $?)" "a batch-0 DaemonSet is deleted once its seeders are done"
is "$(sim daemonsets default | wc -l)" 0 "no DaemonSet left"

# pods_per_seeder = 3: every batch starts in preload.
ini "$WORK/seeder.ini" "pods_per_seeder = 3" "refresh_interval = 0"
seed --config "$WORK/seeder.ini"
is "$RC" 0 "pods_per_seeder 3: exit 0"
verify_at=$(grep -n "phase preload -> verify" "$WORK/out" | head -n1 | cut -d: -f1)
last_b2=$(grep -n "DaemonSet 'clyde-seed-.*': batch 2," "$WORK/out" | tail -n1 | cut -d: -f1)
ok "$([ -n "$last_b2" ] && [ -n "$verify_at" ] && [ "$last_b2" -lt "$verify_at" ]; echo $?)" \
        "all three batches start in preload (line ${last_b2:-none} < ${verify_at:-none})"

# Resource keys: a request above its limit is a configuration error with file:line.
ini "$WORK/bad.ini" "cpu_request = 200m" "cpu_limit = 100m" "memory_limit = 16 Mi" "run_as_user = 0"
sim admin DELETE /_sim/stats >/dev/null
seed --config "$WORK/bad.ini"
is "$RC" 78 "bad resource keys exit 78"
grep -q "bad.ini:8: .*memory_limit.*resource quantity" "$WORK/out"; ok $? "malformed quantity, with its line"
grep -q "bad.ini:9: .*run_as_user.*root" "$WORK/out"; ok $? "uid 0 refused, with its line"
ini "$WORK/bad.ini" "cpu_request = 200m" "cpu_limit = 100m"
seed --config "$WORK/bad.ini"
is "$RC" 78 "a request above its limit exits 78"
grep -q "bad.ini:6: cpu_request '200m' is more than cpu_limit '100m'" "$WORK/out"; ok $? "request above limit, with its line"
is "$(sim writes)" 0 "nothing was changed in the cluster"

# Virtual nodes are never seeders.
for n in $(sim labelled p2p-seeder=true); do sim admin POST "/_sim/nodes/$n/labels" '{"p2p-seeder": null}' >/dev/null; done
nodes=$(sim get /api/v1/nodes | "$PYTHON3" -c 'import json,sys; print(" ".join(n["metadata"]["name"] for n in json.load(sys.stdin)["items"]))')
set -- $nodes
sim admin POST "/_sim/nodes/$1/labels" '{"type": "virtual-kubelet"}' >/dev/null
sim admin POST "/_sim/nodes/$2/labels" '{"eks.amazonaws.com/compute-type": "fargate"}' >/dev/null
rm -f "$WORK/seeder_tracker.json"
ini "$WORK/seeder.ini" "run_as_user = auto"
sed -i 's/percentage = 50/percentage = 100/' "$WORK/seeder.ini"
seed --config "$WORK/seeder.ini" plan
is "$RC" 0 "plan with virtual nodes exits 0"
grep -q "$1 .*virtual node (type=virtual-kubelet)" "$WORK/out" || ! grep -q "label *$1\$" "$WORK/out"; ok $? "the virtual-kubelet node is not chosen"
! grep -qE "^label +$1\$" "$WORK/out"; ok $? "virtual-kubelet node '$1' not labelled"
! grep -qE "^label +$2\$" "$WORK/out"; ok $? "Fargate node '$2' not labelled"
is "$(grep -cE '^label ' "$WORK/out")" 6 "the 6 other nodes are"

# GKE Autopilot: refused at start, nothing written.
sim admin POST "/_sim/nodes/$3/labels" '{"cloud.google.com/gke-autopilot": "true"}' >/dev/null
sim admin DELETE /_sim/stats >/dev/null
seed --config "$WORK/seeder.ini"
is "$RC" 78 "an Autopilot cluster exits 78"
grep -q "GKE Autopilot" "$WORK/out"; ok $? "the message says why"
is "$(sim writes)" 0 "nothing was changed in the cluster"
done_testing
