#!/bin/bash
# Issue 5 acceptance: 50 nodes, 3 zones, 40% -> 20 seeders spread in proportion, every
# image on every seeder with its digest recorded, no DaemonSet left, exit 0; a second
# run changes nothing; every DaemonSet sent passes the simulator's validation.
. "$top_srcdir/tests/integration/lib.sh"

# The kubelets write pod status once per pod sync, as a real kubelet may (issue 14).
sim_start --nodes 50 --zones 3 --time-scale 0.02 --images-per-node 10 --kubelet-publish sync
write_ini "$WORK/seeder.ini" "[state]" "metrics_file = metrics/clyde-seed.prom"
mkdir -p "$WORK/metrics"
printf '# images for the test\nnginx:1.27\nredis:7.4\n\ngcr.io/distroless/static-debian12:nonroot\nnginx:1.27\n' >"$WORK/images.txt"

seed --config "$WORK/seeder.ini"
is "$RC" 0 "first run exits 0"
[ "$RC" -eq 0 ] || sed 's/^/# /' "$WORK/out" | tail -n 30
grep -q "duplicate" "$WORK/out"; ok $? "a duplicate image line is reported"
# write_ini's [registry] resolve = no: the test asks no registry (docker.io, gcr.io).
grep -q "\[registry\] resolve = no" "$WORK/out"; ok $? "the tests' seeder.ini does not resolve"
grep -q "images resolved" "$WORK/out"; is "$?" 1 "no registry is asked"
is "$(sim labelled p2p-seeder=true | wc -l)" 20 "20 nodes carry p2p-seeder=true"
is "$(sim owned p2p-seeder=true | wc -l)" 20 "all 20 carry clyde-seed's ownership annotation"
is "$(sim zones p2p-seeder=true | tr '\n' ' ')" "zone-a 7 zone-b 7 zone-c 6 " "seeders spread 7/7/6 over zones of 17/17/16 nodes"
is "$(py 'len(t["seeders"])')" 20 "the tracker lists 20 seeders"
is "$(py 'sum(1 for s in t["seeders"] for i in s["images"] if i["digest"].startswith("sha256:"))')" 60 \
        "every seeder records every image with a digest (20 x 3)"
is "$(py 't.get("run")')" None "no run left in progress"
is "$(py 't["history"][-1]["result"]')" ok "the run is recorded as ok"
is "$(sim daemonsets default | wc -l)" 0 "no DaemonSet left"
is "$(sim count 422)" 0 "every DaemonSet sent was accepted (no 422)"
# The tracker's seeders are exactly the labelled nodes.
diff <(sim labelled p2p-seeder=true | sort) <(py '"\n".join(sorted(s["node"] for s in t["seeders"]))') >/dev/null
ok $? "labels on nodes = tracker seeders"
for img in docker.io/library/nginx:1.27 docker.io/library/redis:7.4; do
        seeders_with=$(comm -12 <(sim labelled p2p-seeder=true | sort) <(sim nodes-with-image "$img" | sort) | wc -l)
        is "$seeders_with" 20 "node.status.images of every seeder lists $img"
done

# The Prometheus textfile of the run.
prom=$WORK/metrics/clyde-seed.prom
grep -qx "clyde_seed_seeders 20" "$prom"; ok $? "metrics: clyde_seed_seeders 20"
grep -qx "clyde_seed_seeders_target 20" "$prom"; ok $? "metrics: clyde_seed_seeders_target 20"
grep -qx 'clyde_seed_image_seeders{image="docker.io/library/nginx:1.27"} 20' "$prom"; ok $? "metrics: nginx on 20 seeders"
grep -qx "clyde_seed_last_exit_code 0" "$prom"; ok $? "metrics: last exit code 0"
grep -qE '^clyde_seed_api_requests_total\{verb="PATCH",code="200"\} 20$' "$prom"; ok $? "metrics: 20 label patches counted"
is "$(stat -c %a "$prom")" 644 "metrics file is 0644 for node_exporter"

# A second run with nothing to do: no POST, PUT, PATCH or DELETE.
sim admin DELETE /_sim/stats >/dev/null
seed --config "$WORK/seeder.ini"
is "$RC" 0 "second run exits 0"
is "$(sim writes)" 0 "second run sends no write request"
is "$(sim labelled p2p-seeder=true | wc -l)" 20 "still 20 seeders"
grep -q "nothing to wait for" "$WORK/out"; ok $? "second run pulls nothing"

# status prints a table with every seeder.
"$CLYDE_SEED" --config /dev/null --base-dir "$WORK" status >"$WORK/status" 2>&1
ok $? "status exits 0"
is "$(grep -cE '^node-[0-9]+ +zone-' "$WORK/status")" 20 "status lists 20 seeders"
is "$(grep -cE '^node-[0-9]+ +docker.io/library/(nginx:1.27|redis:7.4) +held$' "$WORK/status")" 40 \
        "status shows nginx and redis held on each of the 20 seeders"
done_testing
