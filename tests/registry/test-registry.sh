#!/bin/bash
# Registry-aware seeding against Debian's docker-registry on loopback (plain, TLS with its
# own CA, htpasswd) and kube-sim: the client (HEAD-only for a known digest, index
# platforms, CA files, basic auth from a docker config, no credential in any log), then
# the real binary: every seeder gets one digest, an arm64-only image is not applicable
# on amd64 seeders and never pulled there, a too-large image is refused with its size, an
# unreachable registry falls back to tag pulls with one warning, an unchanged tag costs
# HEAD requests only (the access log shows no blob GET), a moved tag is pulled again at
# once and counted, resolve = no asks nothing, plan shows digests, platforms and bytes.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/registry/lib-registry.sh"
reg_need_tools
RESOLVE=$top_builddir/tests/registry/registry-resolve
json() { "$PYTHON3" -c "import json,sys; d=[json.loads(l) for l in sys.stdin if l.strip()]; print($1)"; }

P1=$(free_port); P2=$(free_port); P3=$(free_port); P4=$(free_port)
R1=127.0.0.1:$P1; R2=127.0.0.1:$P2; R3=127.0.0.1:$P3; R4=127.0.0.1:$P4
make_pki
htpasswd -Bbn clyde 'pw-Sekr1t-9' >"$WORK/htpasswd" 2>/dev/null
reg_start plain "$P1"
reg_start tls "$P2" tls "$WORK/pki/server.pem" "$WORK/pki/server.key"
reg_start auth "$P3" auth "$WORK/htpasswd"

# Images, offline: tiny files as layers; a 3 MB one; one per architecture; an index.
cd "$WORK" || exit 1
echo one >one; echo two >two; head -c 3000000 /dev/urandom >big
L=$WORK/layout
build_image "$L" app1 amd64 one
build_image "$L" app2 amd64 two
build_image "$L" arm arm64 one
build_image "$L" big amd64 big
"$PYTHON3" - "$L" <<'PY'
import hashlib, json, os, sys
L = sys.argv[1]
idx = json.load(open(os.path.join(L, 'index.json')))
by = {m['annotations']['org.opencontainers.image.ref.name']: m for m in idx['manifests']}
plat = {'app1': 'amd64', 'arm': 'arm64'}
sub = [dict(mediaType=by[t]['mediaType'], digest=by[t]['digest'], size=by[t]['size'],
            platform={'architecture': a, 'os': 'linux'}) for t, a in plat.items()]
body = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
                   'manifests': sub}).encode()
d = hashlib.sha256(body).hexdigest()
open(os.path.join(L, 'blobs', 'sha256', d), 'wb').write(body)
idx['manifests'].append({'mediaType': 'application/vnd.oci.image.index.v1+json', 'digest': 'sha256:' + d,
                         'size': len(body), 'annotations': {'org.opencontainers.image.ref.name': 'multi'}})
json.dump(idx, open(os.path.join(L, 'index.json'), 'w'))
PY
push "$L" app1 "$R1/seed/app:moving"
push "$L" arm "$R1/seed/arm:only"
push "$L" big "$R1/seed/big:1"
push "$L" multi "$R1/seed/multi:1" --all
push "$L" app1 "$R2/seed/tls:1"
push "$L" app1 "$R3/seed/priv:1" --dest-creds 'clyde:pw-Sekr1t-9'
D1=$(head_digest "http://$R1" seed/app moving)
ok "$([ -n "$D1" ] && echo 0 || echo 1)" "the moving tag is pushed ($D1)"

# ---- the client ----
out=$("$RESOLVE" -m "$R1=http://$R1" "$R1/seed/app:moving" 2>"$WORK/err")
is "$(json 'd[0]["rc"], d[0]["digest"]' <<<"$out")" "0 $D1" "plain: the tag resolves to the registry's digest"
is "$(json '[(p["os"], p["arch"], p["size"] > 0) for p in d[0]["platforms"]]' <<<"$out")" "[('linux', 'amd64', True)]" \
        "plain: a single image's platform from its config, with its size"
out=$("$RESOLVE" -m "$R1=http://$R1" -k "$D1" "$R1/seed/app:moving" 2>/dev/null)
is "$(json 'd[0]["rc"], d[0]["requests"], d[0]["heads"]' <<<"$out")" "1 1 1" "known digest: one HEAD and nothing else"
out=$("$RESOLVE" -m "$R1=http://$R1" "$R1/seed/multi:1" 2>/dev/null)
is "$(json 'd[0]["index"], sorted(p["arch"] for p in d[0]["platforms"])' <<<"$out")" "True ['amd64', 'arm64']" \
        "index: both platforms"
is "$(json 'all(p["size"] > 0 for p in d[0]["platforms"])' <<<"$out")" True "index: each platform has its size"
out=$("$RESOLVE" -c "$R2=$WORK/pki/ca.pem" "$R2/seed/tls:1" 2>/dev/null)
is "$(json 'd[0]["rc"], d[0]["digest"] == "'"$D1"'"' <<<"$out")" "0 True" "TLS with the configured CA file"
out=$("$RESOLVE" "$R2/seed/tls:1" 2>/dev/null)
is "$(json 'd[0]["rc"]' <<<"$out")" -71 "TLS without the CA: -EPROTO (unreachable, falls back)"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$R3" "$(printf 'clyde:pw-Sekr1t-9' | base64 -w0)" >"$WORK/dockerconfig.json"
out=$("$RESOLVE" -m "$R3=http://$R3" -a "$WORK/dockerconfig.json" "$R3/seed/priv:1" 2>"$WORK/err-auth")
is "$(json 'd[0]["rc"], d[0]["digest"] == "'"$D1"'"' <<<"$out")" "0 True" "htpasswd: basic auth with the docker config's credentials"
out=$("$RESOLVE" -m "$R3=http://$R3" "$R3/seed/priv:1" 2>>"$WORK/err-auth")
is "$(json 'd[0]["rc"]' <<<"$out")" -13 "htpasswd without credentials: -EACCES"
json 'd[0]["cause"]' <<<"$out" | grep -q "no pull secret for '$R3'"; ok $? "the cause says no pull secret matches"
! grep -qE "pw-Sekr1t-9|$(printf 'clyde:pw-Sekr1t-9' | base64 -w0)" "$WORK/err-auth" <<<"$out"; ok $? "no credential in the client's log or answer"
out=$("$RESOLVE" -m "$R4=http://$R4" "$R4/seed/none:1" 2>/dev/null)
is "$(json 'd[0]["rc"]' <<<"$out")" -111 "nothing listening: -ECONNREFUSED"

# ---- the binary against kube-sim: 2 amd64 + 2 arm64 seeders, no images on the nodes ----
sim_start --nodes 4 --zones 1 --arch amd64,arm64 --time-scale 0.02 --images-per-node 0
# 0.001% of the simulated nodes' 103597012Ki ephemeral storage is about 1.06 MB: the
# tiny images fit, the 3 MB one does not.
ini() { write_ini "$WORK/seeder.ini" "[seeder]" "percentage = 100" "[registry]" \
        "mirrors = $R1=http://$R1" "max_disk_share = $1" "resolve = ${2:-yes}" "[state]" \
        "metrics_file = $WORK/metrics.prom"; }
ini 0.001
printf '%s\n' "$R1/seed/app:moving" "$R1/seed/arm:only" "$R1/seed/big:1" "$R1/seed/multi:1" "$R4/seed/none:1" \
        >"$WORK/images.txt"
amd=$(sim labelled kubernetes.io/arch=amd64 | sort); arm=$(sim labelled kubernetes.io/arch=arm64 | sort)
is "$(echo $amd $arm | wc -w)" 4 "two amd64 and two arm64 nodes"

"$CLYDE_SEED" --kubeconfig "$SIM/kubeconfig" --base-dir "$WORK" --config "$WORK/seeder.ini" plan >"$WORK/plan" 2>&1
grep -qE "^  platform +linux/arm64 " "$WORK/plan"; ok $? "plan shows the index's platforms"
grep -A5 "^$R1/seed/arm:only" "$WORK/plan" | grep -q "2 apply, 2 not applicable"; ok $? "plan: arm:only applies to 2 seeders, not to 2"
grep -A5 "^$R1/seed/big:1" "$WORK/plan" | grep -q "refused (too large)"; ok $? "plan: big is refused"
grep -A1 "^$R1/seed/app:moving" "$WORK/plan" | grep -q "digest     $D1"; ok $? "plan: the digest"
grep -q "to pull" "$WORK/plan"; ok $? "plan: bytes to pull"

mark=$(wc -l <"$WORK/reg-plain/log")
seed --config "$WORK/seeder.ini"
is "$RC" 1 "run 1: exit 1 (the too-large image is refused)"
is "$(grep -c "registry '$R4' cannot be reached" "$WORK/out")" 1 "run 1: one warning for the unreachable registry"
grep -q "TooLarge" "$WORK/out" && grep -q "needs 3.00 MB" "$WORK/out"; ok $? "run 1: big refused with its size"
grep -q "this run moves" "$WORK/out"; ok $? "run 1: the 'this run moves' line"
digests=$(py '"\n".join(sorted(set(i["digest"] for s in t["seeders"] for i in s["images"] if "seed/app:moving" in i["ref"])))')
is "$digests" "$D1" "run 1: every seeder holding app:moving holds the registry's digest"
is "$(sim nodes-with-image "$R1/seed/arm@$(head_digest "http://$R1" seed/arm only)" | sort | tr '\n' ' ')" \
        "$(echo $arm) " "run 1: arm:only pulled on the arm64 seeders only"
is "$(sim nodes-with-image "$R1/seed/app@$D1" | sort | tr '\n' ' ')" "$(echo $amd) " \
        "run 1: the amd64-only app on the amd64 seeders only"
is "$(sim nodes-with-image "$R4/seed/none:1" | wc -l)" 4 "run 1: the unreachable registry's image pulled by tag"
# One batch of five images, split by what each seeder may run: the amd64 seeders get app,
# multi and none (arm is not applicable, big refused), the arm64 ones arm, multi and none;
# one DaemonSet of all five would put arm64-only containers in amd64 pods.
is "$(grep -oE "DaemonSet '[^']*': batch 0, [0-9]+ images on [0-9]+ seeders" "$WORK/out" | sed 's/.*batch 0, //' | sort | tr '\n' ' ')" \
        "3 images on 2 seeders 3 images on 2 seeders " "run 1: two DaemonSets, one per set of images the seeders may run"
is "$(tail -n +"$((mark + 1))" "$WORK/reg-plain/log" | grep -oE '"GET /v2/[^ ]*/blobs/[^ ]*' | wc -l)" 3 \
        "run 1: the only blobs read are the 3 single images' configs"

# Run 2: nothing moved (big dropped from the list, disk share back to 85).
ini 85
printf '%s\n' "$R1/seed/app:moving" "$R1/seed/arm:only" "$R1/seed/multi:1" >"$WORK/images.txt"
mark=$(wc -l <"$WORK/reg-plain/log")
seed --config "$WORK/seeder.ini"
is "$RC" 0 "run 2: exit 0"
is "$(tail -n +"$((mark + 1))" "$WORK/reg-plain/log" | grep -oE '"(GET|HEAD) /v2/[^"]*' | awk '{print $1}' | sort | uniq -c | tr -s ' ')" \
        ' 3 "HEAD' "run 2: three HEAD requests and no GET (no manifest, no blob)"
grep -q "this run moves 0 B in 0 pulls" "$WORK/out"; ok $? "run 2: nothing to pull"

# Run 3: the tag moves.
push "$L" app2 "$R1/seed/app:moving"
D2=$(head_digest "http://$R1" seed/app moving)
mark=$(wc -l <"$WORK/reg-plain/log")
seed --config "$WORK/seeder.ini"
is "$RC" 0 "run 3: exit 0"
grep -q "moved: $D1 -> $D2" "$WORK/out"; ok $? "run 3: the move is logged with old and new digest"
digests=$(py '"\n".join(sorted(set(i["digest"] for s in t["seeders"] for i in s["images"] if "seed/app:moving" in i["ref"])))')
is "$digests" "$D2" "run 3: every seeder holding app:moving now holds the new digest"
is "$(py '[(g["moves"], g["previous"]) for g in t["tags"] if g["ref"].endswith("seed/app:moving")][0]')" "(1, '$D1')" \
        "run 3: the tracker records the move"
grep -qE "^clyde_seed_tag_moves_total\{image=\"$R1/seed/app:moving\"\} 1$" "$WORK/metrics.prom"; ok $? "run 3: the move is counted in the metrics"
is "$(tail -n +"$((mark + 1))" "$WORK/reg-plain/log" | grep -oE '"GET /v2/[^ ]*/blobs/[^ ]*' | wc -l)" 1 \
        "run 3: one blob read (the new config), no layer"

# resolve = no: the registry is not asked.
ini 85 no
mark=$(wc -l <"$WORK/reg-plain/log")
seed --config "$WORK/seeder.ini"
is "$RC" 0 "resolve = no: exit 0"
is "$(tail -n +"$((mark + 1))" "$WORK/reg-plain/log" | grep -c '/v2/')" 0 "resolve = no: no request to the registry"
! grep -qE "pw-Sekr1t-9" "$WORK/out" "$WORK/seeder_tracker.json"; ok $? "no credential in the run's log or tracker"
done_testing
