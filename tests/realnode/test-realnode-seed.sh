#!/bin/bash
# Issue 15: a full first run of the real binary with 4 seeders backed by a real containerd
# each (tests/realnode).  Every image lands on every seeder as containerd reports it, the
# tracker's digests are containerd's, scratch and distroless images work under the puller
# pattern (read-only root, uid 65534), the arm64-only image is not applicable on amd64 with
# containerd's platform error, the private image needs its pull secret and fails fast
# naming 401 Unauthorized without it; afterwards no container, task or DaemonSet is left,
# and SIGTERM leaves no netns, mount, cgroup or process.
. "$top_srcdir/tests/realnode/lib.sh"
rn_prereq

sim_start --nodes 4 --zones 2 --images-per-node 0 --time-scale 0.05
rn_start --count 4 --registry-rate "${REGISTRY_RATE:-1gbit}"
rn_remember
rn secret "$SIM" regcred
IMAGES="registry.test/clyde/scratch:1 registry.test/clyde/distroless:1 registry.test/clyde/big:1
registry.test/clyde/multi:1 registry.test/clyde/moving:stable private.test/clyde/private:1"
{ printf '%s\n' $IMAGES; echo registry.test/clyde/armonly:1; } >"$WORK/images.txt"
write_ini "$WORK/seeder.ini" "[preload]" "image_pull_secrets = regcred"

seed --config "$WORK/seeder.ini" --seeder-percentage 100
is "$RC" 0 "first run exits 0 (the arm64-only image is not applicable on amd64, not a failure)"
[ "$RC" -le 1 ] || sed 's/^/# /' "$WORK/out" | tail -n 20
is "$(sim labelled p2p-seeder=true | wc -l)" 4 "4 seeders labelled"

# Every image on every seeder, as containerd lists it, with the tracker's digest and in
# node.status.images (written by the agent from containerd's list).
tracker_json | "$PYTHON3" -c "import json,sys; t=json.load(sys.stdin)
for s in t['seeders']:
    for i in s['images']: print(s['node'], i['ref'], i['digest'])" >"$WORK/tracker-digests"
rn images >"$WORK/ctr-images"
rn status-images "$SIM" >"$WORK/status-images"
# The run deletes its DaemonSets as it ends; their pods then stop within their grace period
# (1 s, then SIGKILL: sleep as PID 1 ignores SIGTERM), so wait for that, with a deadline.
for _ in $(seq 1 60); do
        rn containers >"$WORK/containers"
        [ -s "$WORK/containers" ] || break
        sleep 0.5
done
for node in $(rn_nodes); do
        for img in $IMAGES; do
                want=$(awk -v n="$node" -v r="$img" '$1 == n && $2 == r {print $3}' "$WORK/ctr-images")
                got=$(awk -v n="$node" -v r="$img" '$1 == n && $2 == r {print $3}' "$WORK/tracker-digests")
                [ -n "$want" ] && [ "$want" = "$got" ]
                ok $? "$node: containerd holds $img, tracker digest = containerd's (${want:-missing} / ${got:-missing})"
                grep -q "^$node ${img%%:*}@$want " "$WORK/status-images" && grep -q "^$node $img " "$WORK/status-images"
                ok $? "$node: node.status.images lists $img and ${img%%:*}@$want"
        done
        ! grep -q "^$node registry.test/clyde/armonly:1 " "$WORK/ctr-images"
        ok $? "$node: containerd holds no arm64-only image"
done
is "$(cat "$WORK/containers")" "" "no container or task left in any containerd (30 s after the run)"
# The puller containers as the agent handed them to containerd: read-only root, uid and gid
# 65534, no capability, no privilege escalation (pullers pass with a read-only root).
"$PYTHON3" - "$RN" >"$WORK/specs" <<'EOF'
import glob, json, os, sys
n, bad = 0, []
for f in glob.glob(os.path.join(sys.argv[1], 'nodes', '*', 'specs', '*.json')):
    s = json.load(open(f))
    p = s['process']
    n += 1
    if not (s['root']['readonly'] and p['user'] == {'uid': 65534, 'gid': 65534}
            and not p['capabilities']['bounding'] and p['noNewPrivileges']):
        bad.append(os.path.basename(f))
print(n, ' '.join(bad))
EOF
read -r nspecs badspecs <"$WORK/specs"
[ "${nspecs:-0}" -ge 28 ] && [ -z "$badspecs" ]
ok $? "all $nspecs puller containers ran read-only as 65534:65534 without capabilities ${badspecs:+(not: $badspecs)}"
is "$(py "(t['history'][-1]['result'], t['history'][-1].get('not_applicable', 0), t['history'][-1]['failures'])")" \
        "('ok', 4, 0)" "arm64-only: not applicable on the 4 amd64 seeders (containerd's platform error), no failure"
grep -q "no match for platform in manifest" "$WORK/out"
ok $? "the log keeps containerd's own platform message"
# [registry] resolve = no here (write_ini): the pull-time way in; tests/registry covers
# the plan-time way.
is "$(grep -c "node '[^']*': registry.test/clyde/armonly:1 not applicable (platform): .*no match for platform in manifest" "$WORK/out")" 4 \
        "arm64-only: each amd64 seeder's result logged as not applicable (platform)"
grep -q "image registry.test/clyde/armonly:1: not applicable (platform) on 4 seeders" "$WORK/out"
ok $? "arm64-only: summed up per image, not reported as FAILED"
is "$(sim daemonsets default | wc -l)" 0 "no DaemonSet left"

# Without the pull secret: image GC empties the nodes, a fresh tracker seeds the private
# image again and fails fast, naming 401 Unauthorized.
rn admin POST /gc >"$WORK/gc"
ok $? "image GC removes the unused images"
is "$(rn images | wc -l)" 0 "no image left on any node after GC"
is "$(rn status-images "$SIM" | wc -l)" 0 "node.status.images is empty after GC"
# From here on the runs resolve tags ([registry] resolve = yes) against the private
# registry, reached through realnode's loopback door (clyde-seed runs in the root network
# namespace); the public registry.test is not resolved here (no door configured for it).
PRIV_DOOR=$(rn_env 'e["registryDoors"]["private.test"]')
resolve_ini() { write_ini "$1" "[registry]" "resolve = yes" "mirrors = private.test=http://$PRIV_DOOR" "timeout = 5s" "${@:2}"; }
mkdir -p "$WORK/nosecret"
echo private.test/clyde/private:1 >"$WORK/nosecret/images.txt"
resolve_ini "$WORK/nosecret/seeder.ini"
start=$(date +%s)
RC=0
"$CLYDE_SEED" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK/nosecret" --config "$WORK/nosecret/seeder.ini" \
        --seeder-percentage 100 >"$WORK/out2" 2>&1 || RC=$?
took=$(( $(date +%s) - start ))
is "$RC" 1 "without the pull secret the run exits 1"
grep -q "FAILED image private.test/clyde/private:1 on 4 seeders .*401 Unauthorized" "$WORK/out2"
ok $? "the failure names containerd's '401 Unauthorized'"
[ "$took" -lt 40 ]; ok $? "it fails fast (${took} s, under the 60 s pull timeout)"
grep -q "image private.test/clyde/private:1: cannot resolve (.*private.test.*): pulled by tag" "$WORK/out2"
ok $? "resolution without a pull secret names the registry: $(grep -o 'cannot resolve ([^)]*)' "$WORK/out2" | head -n 1)"
is "$(sim daemonsets default | wc -l)" 0 "no DaemonSet left"
is "$(rn containers)" "" "no container or task left in any containerd"

# The pull secret read through the API (kube-sim serves it; the tool gets it by name):
# the tag resolves to the private registry's digest and the puller pulls repo:tag@digest
# with the same secret.
mkdir -p "$WORK/secret"
echo private.test/clyde/private:1 >"$WORK/secret/images.txt"
resolve_ini "$WORK/secret/seeder.ini" "[preload]" "image_pull_secrets = regcred"
RC=0
"$CLYDE_SEED" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK/secret" --config "$WORK/secret/seeder.ini" \
        --seeder-percentage 25 >"$WORK/out4" 2>&1 || RC=$?
is "$RC" 0 "with image_pull_secrets = regcred and resolve = yes the private image is seeded"
[ "$RC" = 0 ] || sed 's/^/# /' "$WORK/out4" | tail -n 8
pdigest=$(awk '$2 == "private.test/clyde/private:1" {print $3; exit}' "$WORK/ctr-images")
grep -q "registry: 1 of 1 images resolved" "$WORK/out4"; ok $? "the run resolved the tag with the secret's credentials"
is "$(WORK=$WORK/secret py "[(g['ref'], g['digest']) for g in t['tags']]")" "[('private.test/clyde/private:1', '$pdigest')]" \
        "the tracker records tag -> the private registry's digest"
rn api "$SIM" GET "/api/v1/namespaces/default/events?fieldSelector=reason%3DPulling" |
        "$PYTHON3" -c "import json,sys; [print(e['message']) for e in json.load(sys.stdin)['items']]" >"$WORK/secret/events"
grep -qF "Pulling image \"private.test/clyde/private:1@$pdigest\"" "$WORK/secret/events"
ok $? "the puller pulled it by digest (private.test/clyde/private:1@${pdigest:0:19}...)"
pw=$(cut -d: -f2- "$RN/registry-credentials")
b64=$(printf 'puller:%s' "$pw" | base64 -w0)
tracker_files=$(find "$WORK" -name 'seeder_tracker.json*' -type f)
! grep -qF -e "$pw" -e "$b64" "$WORK"/out* "$WORK/rn.err" $tracker_files
ok $? "the secret's password and its base64 appear in no log and no tracker ($(echo "$tracker_files" | wc -w) trackers)"

# [preload] run_as_user = auto: runAsNonRoot without runAsUser/runAsGroup, so each
# container runs as its image's USER: the helper built with USER 65532, the distroless
# image's 65534.  The uid in the OCI spec the agent gave runc shows where it came from.
mkdir -p "$WORK/auto"
echo registry.test/clyde/distroless:1 >"$WORK/auto/images.txt"
write_ini "$WORK/auto/seeder.ini" "[preload]" "run_as_user = auto" "helper_image = registry.test/clyde/helper-nonroot:1"
touch "$WORK/auto/mark"
RC=0
"$CLYDE_SEED" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK/auto" --config "$WORK/auto/seeder.ini" \
        --seeder-percentage 25 >"$WORK/out3" 2>&1 || RC=$?
is "$RC" 0 "run_as_user = auto with a USER 65532 helper: the run exits 0"
[ "$RC" = 0 ] || sed 's/^/# /' "$WORK/out3" | tail -n 8
is "$(WORK=$WORK/auto py "[(i['ref'], i['digest']) for s in t['seeders'] for i in s['images']]")" \
        "[('registry.test/clyde/distroless:1', '$(awk '$2 == "registry.test/clyde/distroless:1" {print $3; exit}' "$WORK/ctr-images")')]" \
        "run_as_user = auto: the distroless image is seeded with containerd's digest"
find "$RN"/nodes/*/specs -name '*.json' -newer "$WORK/auto/mark" -print0 | xargs -0 -r "$PYTHON3" -c '
import json, sys
for f in sys.argv[1:]:
    s = json.load(open(f))
    print(s["process"]["user"]["uid"], s["process"]["user"]["gid"], s["root"]["readonly"])' | sort | uniq -c | awk '{$1=$1; print}' >"$WORK/auto/uids"
is "$(tr '\n' ';' <"$WORK/auto/uids")" "1 65532 65532 True;1 65534 65534 True;" \
        "run_as_user = auto: the helper ran as its image's 65532, the distroless puller as 65534, both on a read-only root"

rn_stop
is "$RN_RC" 0 "realnode stops on SIGTERM with exit 0"
left=$(rn_leftovers)
is "$left" "" "no netns, mount, cgroup or process left behind"
done_testing
