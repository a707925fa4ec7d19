#!/bin/bash
# Issue 14, items 3 and 4: a real (1.26-1.31) kubelet's habits.
# - Back-off without a cause: the status says only `Back-off pulling image "x"`, the cause
#   is in the pod's last Failed event; verify reads it and fails fast with it (not found,
#   unauthorized), reports not applicable (platform) and names a rate limit (429).
# - Status once per pod sync: a pod pulling many slow images shows nothing in its status
#   until all are pulled; Pulling/Pulled events keep it from a false no-progress timeout.
. "$top_srcdir/tests/integration/lib.sh"
start=$SECONDS

sim_start --nodes 5 --zones 1 --time-scale 0.02 --kubelet-cause-in-events
write_ini "$WORK/seeder.ini"
sim admin POST /_sim/images '{"image": "registry.example.com/private/app:1", "behaviour": "unauthorized"}' >/dev/null
sim admin POST /_sim/images '{"image": "docker.io/library/armonly:1", "platforms": ["linux/arm64"]}' >/dev/null
printf 'nginx:1.27\ndocker.io/library/does-not-exist:1.0\nregistry.example.com/private/app:1\ndocker.io/library/armonly:1\n' \
        >"$WORK/images.txt"

sim admin DELETE /_sim/log >/dev/null
t0=$SECONDS
seed --config "$WORK/seeder.ini"
took=$((SECONDS - t0))
is "$RC" 1 "missing and unauthorized images exit 1"
[ "$RC" -eq 1 ] || sed 's/^/# /' "$WORK/out" | tail -n 20
[ "$took" -lt 30 ]; ok $? "back-off without cause ends fast (${took}s, pull_timeout 60s)"
grep -q "FAILED image docker.io/library/does-not-exist:1.0 on 2 seeders .*: ImagePullBackOff: Failed to pull image \"docker.io/library/does-not-exist:1.0\": rpc error: code = NotFound .*: not found" "$WORK/out"
ok $? "the missing image fails with the cause from the pod's Failed event"
grep -q "FAILED image registry.example.com/private/app:1 on 2 seeders .*: ImagePullBackOff: Failed to pull image .*authorization failed" "$WORK/out"
ok $? "the unauthorized image fails with the cause from the event"
grep -q "node-[0-9]*': docker.io/library/armonly:1 not applicable (platform): Failed to pull image .*no match for platform in manifest" "$WORK/out"
ok $? "the amd64-less image is not applicable, from the event"
sim requests >"$WORK/req"
[ "$(grep -c '^list events?.*fieldSelector=involvedObject.uid=' "$WORK/req")" -ge 1 ]
ok $? "the pods' events were read by uid"
echo "# event lists: $(grep -c '^list events' "$WORK/req") of $(wc -l <"$WORK/req") requests"
"$CLYDE_SEED" --config /dev/null --base-dir "$WORK" status >"$WORK/status" 2>&1
is "$(grep -cE '^node-[0-9]+ +docker.io/library/does-not-exist:1.0 +failed: ImagePullBackOff: Failed to pull image .*not found' "$WORK/status")" 2 \
        "status: the missing image failed on both seeders, with its reason"
is "$(grep -cE '^node-[0-9]+ +docker.io/library/armonly:1 +not applicable: platform: ' "$WORK/status")" 2 \
        "status: the arm64-only image is not applicable on both seeders"
is "$(grep -cE '^node-[0-9]+ +docker.io/library/nginx:1.27 +held' "$WORK/status")" 2 "status: nginx held on both"

# A registry's rate limit (429) passes: keep waiting, and say so when the time is up.
sim admin POST /_sim/images '{"image": "docker.io/library/popular:1", "behaviour": "rate-limited"}' >/dev/null
sed -i 's/^pull_timeout = .*/pull_timeout = 4s/' "$WORK/seeder.ini"
printf 'docker.io/library/popular:1\n' >"$WORK/images.txt"
seed --config "$WORK/seeder.ini"
is "$RC" 1 "a rate-limited image exits 1 at the timeout"
grep -q "FAILED image docker.io/library/popular:1 on 2 seeders .*: Timeout: no progress for 4s (pull_timeout); last state RateLimited" "$WORK/out"
ok $? "the timeout names the rate limit"

# Status once per pod sync: three slow images (2 s each, one after another) in one pod,
# pull_timeout 3 s. The status moves only after ~6 s; Pulling events show progress.
sim admin POST /_sim/kubelet '{"publish": "sync"}' >/dev/null
for i in 1 2 3; do
        sim admin POST /_sim/images "{\"image\": \"docker.io/library/big$i:1\", \"behaviour\": \"slow\", \"seconds\": 2}" >/dev/null
done
sed -i 's/^pull_timeout = .*/pull_timeout = 3s/' "$WORK/seeder.ini"
printf 'docker.io/library/big1:1\ndocker.io/library/big2:1\ndocker.io/library/big3:1\n' >"$WORK/images.txt"
t0=$SECONDS
seed --config "$WORK/seeder.ini"
took=$((SECONDS - t0))
is "$RC" 0 "a pod sync longer than pull_timeout is no timeout"
[ "$RC" -eq 0 ] || sed 's/^/# /' "$WORK/out" | tail -n 20
grep -q "no pod status moved for 3s, but puller pods pull (Pulling/Pulled events)" "$WORK/out"
ok $? "progress was seen from the pull events"
[ "$took" -ge 6 ]; ok $? "the pulls took longer than pull_timeout (${took}s)"
is "$(py 'sum(1 for s in t["seeders"] for i in s["images"] if "big" in i["ref"])')" 6 "2 seeders x 3 images held"

elapsed=$((SECONDS - start))
echo "# wall time ${elapsed}s"
[ "$elapsed" -lt 90 ]; ok $? "the scenarios end in < 90 s (${elapsed}s)"
done_testing
