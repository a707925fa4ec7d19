#!/bin/bash
# Issue 14, item 5: seeded images stay seeded. Image garbage collection on a seeder
# removes what clyde-seed put there; the next run finds the images gone from the node's
# listing, seeds them again, counts them (tracker, metrics, status), and a steady-state
# run costs no request beyond the node list when every seeder's listing is complete.
. "$top_srcdir/tests/integration/lib.sh"
start=$SECONDS

sim_start --nodes 10 --zones 1 --time-scale 0.02 --images-per-node 10
write_ini "$WORK/seeder.ini" "[state]" "metrics_file = metrics/clyde-seed.prom"
mkdir -p "$WORK/metrics"
prom=$WORK/metrics/clyde-seed.prom
printf 'nginx:1.27\nredis:7.4\n' >"$WORK/images.txt"

seed --config "$WORK/seeder.ini"
is "$RC" 0 "first run seeds 4 seeders"
mapfile -t seeders < <(sim labelled p2p-seeder=true | sort)
is "${#seeders[@]}" 4 "4 seeders (40% of 10)"

# Steady state: what one run sends when every seeder still lists every image.
sim admin DELETE /_sim/log >/dev/null
seed --config "$WORK/seeder.ini"
is "$RC" 0 "steady-state run exits 0"
sim requests >"$WORK/steady"
echo "# steady-state run, ${#seeders[@]} seeders, 2 images: $(wc -l <"$WORK/steady") requests:" \
        "$(sort "$WORK/steady" | uniq -c | sort -rn | awk '{printf "%s x %s %s; ", $1, $2, $3}')"
is "$(grep -c '^list nodes' "$WORK/steady")" 1 "steady state reads the nodes once (one page)"
is "$(grep -cE '^(create|update|patch|delete|deletecollection) ' "$WORK/steady")" 0 "steady state writes nothing"
is "$(grep -cE '^[a-z]+ (pods|events)' "$WORK/steady")" 0 "steady state starts no puller and reads no pod or event"

# Image GC on one seeder: nothing uses the seeded images any more, so they go.
victim=${seeders[1]}
sim admin POST "/_sim/nodes/$victim/gc" >"$WORK/gc"
grep -q 'docker.io/library/nginx:1.27' "$WORK/gc"; ok $? "GC on $victim removed nginx"
is "$(sim nodes-with-image docker.io/library/nginx:1.27 | grep -cx "$victim")" 0 "$victim no longer lists nginx"

sim admin DELETE /_sim/log >/dev/null
seed --config "$WORK/seeder.ini"
is "$RC" 0 "the run after GC exits 0"
sim requests >"$WORK/reseed"
echo "# re-seed run (1 of ${#seeders[@]} seeders lost 2 images): $(wc -l <"$WORK/reseed") requests:" \
        "$(sed 's/?.*//' "$WORK/reseed" | sort | uniq -c | sort -rn | awk '{printf "%s x %s %s; ", $1, $2, $3}')"
[ "$RC" -eq 0 ] || sed 's/^/# /' "$WORK/out" | tail -n 20
grep -q "node '$victim': docker.io/library/nginx:1.27 is gone from the node" "$WORK/out"; ok $? "nginx is reported gone from $victim"
grep -q "2 to pull (2 gone from their seeder)" "$WORK/out"; ok $? "exactly the two gone images are pulled again"
is "$(sim nodes-with-image docker.io/library/nginx:1.27 | grep -cx "$victim")" 1 "$victim lists nginx again"
is "$(sim nodes-with-image docker.io/library/redis:7.4 | grep -cx "$victim")" 1 "$victim lists redis again"
is "$(py "sum(i.get('evictions', 0) for s in t['seeders'] if s['node'] == '$victim' for i in s['images'])")" 2 \
        "the tracker counts 2 evictions on $victim"
is "$(py "sum(i.get('evictions', 0) for s in t['seeders'] for i in s['images'])")" 2 "and none elsewhere"
grep -qx "clyde_seed_images_evicted_total 2" "$prom"; ok $? "metrics: clyde_seed_images_evicted_total 2"
"$CLYDE_SEED" --config /dev/null --base-dir "$WORK" status >"$WORK/status" 2>&1
grep -qE "^$victim +docker.io/library/nginx:1.27 +evicted and re-seeded \(1 time" "$WORK/status"
ok $? "status shows nginx on $victim as evicted and re-seeded"
is "$(grep -cE "^node-[0-9]+ +docker.io/library/(nginx:1.27|redis:7.4) +held" "$WORK/status")" 6 \
        "status shows the other 6 seeder x image as held"

# Back to steady state: the re-seeded images are listed again, nothing is pulled.
seed --config "$WORK/seeder.ini"
grep -q "nothing to wait for" "$WORK/out"; ok $? "the next run pulls nothing"
grep -qx "clyde_seed_images_evicted_total 2" "$prom"; ok $? "the counter stays at 2"

elapsed=$((SECONDS - start))
echo "# wall time ${elapsed}s"
[ "$elapsed" -lt 90 ]; ok $? "eviction scenario ends in < 90 s (${elapsed}s)"
done_testing
