#!/bin/bash
# Issue 16, item 1: the P2P layer of the real nodes (realnode.py --p2p, as Spegel does it).
# 3 containerd-backed nodes.  The real binary labels one seeder (p2p-seeder=true) and
# preloads an image on it (with the puller's busybox); the other nodes' mirrors follow
# that label:
# - label removed (the control): a peer's pull goes to the registry, the seeder serves
#   nothing;
# - label set: a peer pulls both images (busybox through its kubelet, for a pod; the other
#   with ctr) and the registry gets no request at all from it
#   (its access log) and its link carries < 10 kB (admin /stats; the images are ~1.1 MB);
#   the seeder's P2P server sends exactly the images' manifests, configs and layers; the
#   digests pulled are the registry's;
# - 3 seeders: each node lists the other two before the registry, never itself, and the
#   first choices are rotated;
# - the seeder GC'd (still labelled): it answers 404, the peer falls back to the registry
#   and succeeds.
# Python starts cost ~0.7 s each on a loaded machine: the checks read files with grep/awk.
. "$top_srcdir/tests/realnode/lib.sh"
rn_prereq
T0=$(date +%s)

sim_start --nodes 3 --zones 1 --images-per-node 0 --time-scale 0.05
rn_start --count 3 --p2p
rn_remember
REG=$RN/registry/registry/docker/registry/v2
BUSYBOX=docker.io/library/busybox:1.36.1-musl
APP=registry.test/clyde/distroless:1
declare -A IP
while read -r n ip; do IP[$n]=$ip; done < <(rn_env '"\n".join(k + " " + v["ip"] for k, v in e["nodes"].items())')

# peers NODE: the P2P servers in NODE's docker.io and registry.test hosts.toml, in order
peers() {
        local h
        for h in docker.io registry.test; do
                grep -o '^\[host\."http://[0-9.]*:5050"\]' "$RN/p2p/hosts/$1/$h/hosts.toml" |
                        sed 's/^\[host\."http:\/\///; s/:5050"\]$//' | tr '\n' ' '
                echo "|"
        done | tr -d '\n'
}
# wait_peers NODE WANT: until peers NODE prints WANT (the label is polled every second)
wait_peers() {
        for _ in $(seq 1 50); do
                [ "$(peers "$1")" = "$2" ] && return 0
                sleep 0.1
        done
        return 1
}
snap() { rn stats >"$WORK/stats.$1"; }
# delta A B WHO COUNTER: how much the counter grew from snapshot A to B
delta() {
        awk -v k="$3 $4" 'FNR == NR && $1 " " $2 == k {a = $3} FNR != NR && $1 " " $2 == k {b = $3}
                END {print b - a}' "$WORK/stats.$1" "$WORK/stats.$2"
}
# reg_requests IP: the registry's access-log lines for containerd's requests from IP;
# reg_blob_gets IP: those that got a blob
reg_requests() { grep -c "^$1 - - .*\"containerd/" "$RN/logs/registry.log"; }
reg_blob_gets() { grep -c "^$1 - - .*\"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]*[? ][^\"]*\" 200 " "$RN/logs/registry.log"; }
# registry_digest REF: the tag's manifest digest in the registry's own storage
registry_digest() {
        local name=${1#*/} tag=${1##*:}
        cat "$REG/repositories/${name%:*}/_manifests/tags/$tag/current/link"
}
# the bytes of each image: manifest + config + layers, from the registry's storage
read -r BB_BYTES APP_BYTES < <("$PYTHON3" - "$REG" "$(registry_digest $BUSYBOX)" "$(registry_digest $APP)" <<'EOF'
import json, os, sys
def blob(d):
    with open(os.path.join(sys.argv[1], 'blobs', 'sha256', d[7:9], d[7:], 'data'), 'rb') as f:
        return f.read()
out = []
for top in sys.argv[2:]:
    raw = blob(top)
    doc = json.loads(raw)       # single-platform manifests (no index) here
    out.append(len(raw) + doc['config']['size'] + sum(layer['size'] for layer in doc['layers']))
print(*out)
EOF
)
# digest NODE REF from a saved `rn images` listing
digest() { awk -v n="$1" -v r="$2" '$1 == n && $2 == r {print $3}' "$WORK/images"; }
lap() { echo "# $(( $(date +%s) - T0 )) s: $*"; }
lap "realnode up"

# The real binary labels one seeder and preloads APP (and the puller's busybox) on it.
write_ini "$WORK/seeder.ini"
seed --config "$WORK/seeder.ini" --images-to-seed <(echo $APP) --seeder-percentage 20
is "$RC" 0 "clyde-seed seeds $APP on one seeder (20% of 3 nodes)"
[ "$RC" -eq 0 ] || sed 's/^/# /' "$WORK/out" | tail -n 20
SEEDER=$(sim labelled p2p-seeder=true)
is "$(echo "$SEEDER" | wc -l)" 1 "one node labelled p2p-seeder=true: $SEEDER"
read -r P1 P2 <<<"$(rn_nodes | grep -vx "$SEEDER" | tr '\n' ' ')"
S_IP=${IP[$SEEDER]}
wait_peers "$P1" "$S_IP |$S_IP |" && wait_peers "$P2" "$S_IP |$S_IP |" && wait_peers "$SEEDER" "||"
ok $? "the peers' mirrors list the seeder ($S_IP) first, the seeder lists no peer: $(peers "$P1") / $(peers "$SEEDER")"
is "$(reg_blob_gets "$S_IP")" 4 "the seeder pulled its 4 blobs from the registry (busybox 2, distroless 2)"
lap "seeded"

# Control: without the label the peer goes to the registry.
rn label "$SIM" "$SEEDER" p2p-seeder-
wait_peers "$P1" "||"
ok $? "label removed: $P1's mirrors list no peer"
snap a
rn pull "$P1" $BUSYBOX
ok $? "$P1 pulls $BUSYBOX"
snap b
is "$(reg_blob_gets "${IP[$P1]}")" 2 "without the label $P1 got its 2 blobs from the registry"
is "$(delta a b "$SEEDER" peer_requests)" 0 "and asked the seeder for nothing"
[ "$(delta a b registry tx_bytes)" -ge "$BB_BYTES" ]
ok $? "the registry's link carried at least the image's $BB_BYTES bytes ($(delta a b registry tx_bytes))"
lap "control"

# The label back (as clyde-seed set it): the peer's pulls send nothing to the registry.
rn label "$SIM" "$SEEDER" p2p-seeder=true
wait_peers "$P2" "$S_IP |$S_IP |"
ok $? "label set: $P2's mirrors list the seeder again"
snap c
before=$(reg_requests "${IP[$P2]}")
# busybox through the kubelet (a pod bound to P2: the agent's pull), APP with ctr directly
printf '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "peer", "namespace": "default"},
 "spec": {"nodeName": "%s", "terminationGracePeriodSeconds": 1, "containers": [{"name": "c",
  "image": "%s", "command": ["/bin/busybox", "sleep", "3600"]}]}}' "$P2" $BUSYBOX >"$WORK/pod-peer.json"
rn api "$SIM" POST /api/v1/namespaces/default/pods "$(cat "$WORK/pod-peer.json")" >"$WORK/pod-created.json"
rn wait "$SIM" /api/v1/namespaces/default/pods/peer "s.get('phase') == 'Running'" 60 >"$WORK/pod.json"
ok $? "a pod with $BUSYBOX on $P2 runs (its kubelet pulled it)"
rn pull "$P2" $APP
ok $? "$P2 pulls $APP (ctr)"
snap d
rn images "$P2" >"$WORK/images"
is "$(digest "$P2" $BUSYBOX) $(digest "$P2" $APP)" "$(registry_digest $BUSYBOX) $(registry_digest $APP)" \
        "$P2 holds the registry's digests of both"
is "$(reg_requests "${IP[$P2]}")" "$before" "the registry got no request from $P2 (access log)"
want=$(( BB_BYTES + APP_BYTES ))
is "$(delta c d "$SEEDER" peer_tx_bytes)" "$want" \
        "the seeder's P2P server sent exactly both images' manifests, configs and layers ($want bytes)"
is "$(delta c d "$SEEDER" peer_requests)" 8 "in 8 requests (per image: resolve, manifest, config, layer)"
reg_tx=$(delta c d registry tx_bytes)
[ "$reg_tx" -lt 10000 ]
ok $? "the registry's link carried $reg_tx bytes meanwhile (< 10000; the images are $want)"
[ "$(delta c d "$P2" rx_bytes)" -ge "$want" ]
ok $? "$P2's link received them ($(delta c d "$P2" rx_bytes) bytes)"
lap "p2p pull"

# 3 seeders: each lists the other two, never itself; the first choices are rotated.
rn label "$SIM" "$P1,$P2" p2p-seeder=true
firsts=
for n in $(rn_nodes); do
        for _ in $(seq 1 50); do
                list=$(peers "$n")
                [ "$(echo "${list%%|*}" | wc -w)" = 2 ] && break
                sleep 0.1
        done
        others=$(for m in "${!IP[@]}"; do [ "$m" = "$n" ] || echo "${IP[$m]}"; done | sort | tr '\n' ' ')
        got=$(echo "${list%%|*}" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
        is "$got" "$others" "3 seeders: $n lists the other two ($list), not itself"
        firsts="$firsts ${list%% *}"
done
is "$(echo $firsts | tr ' ' '\n' | sort -u | wc -l)" 3 "their first choices differ:$firsts"
rn label "$SIM" "$P1,$P2" p2p-seeder-
wait_peers "$P1" "$S_IP |$S_IP |"
ok $? "labels removed again: back to the one seeder"
lap "3 seeders"

# The seeder loses its images (GC, the label stays): the peer falls back to the registry.
for _ in $(seq 1 60); do
        [ -z "$(rn containers "$SEEDER")" ] && break
        sleep 0.5
done
rn admin POST "/gc?node=$SEEDER&node=$P1" >/dev/null
ok $? "image GC on $SEEDER and $P1"
snap e
rn pull "$P1" $BUSYBOX
ok $? "$P1 pulls $BUSYBOX with the labelled seeder emptied"
snap f
rn images >"$WORK/images"
is "$(digest "$SEEDER" $APP)$(digest "$SEEDER" $BUSYBOX) $(digest "$P1" $BUSYBOX)" " $(registry_digest $BUSYBOX)" \
        "$SEEDER holds neither image; $P1 holds the registry's digest"
[ "$(delta e f "$SEEDER" peer_not_found)" -gt 0 ] && [ "$(delta e f "$SEEDER" peer_tx_bytes)" = 0 ]
ok $? "the seeder answered 404 ($(delta e f "$SEEDER" peer_not_found) times) and sent nothing"
is "$(reg_blob_gets "${IP[$P1]}")" 4 "$P1 got the 2 blobs from the registry again"
lap "fallback"

rn_stop
is "$RN_RC" 0 "realnode stops on SIGTERM with exit 0"
is "$(rn_leftovers)" "" "no netns, mount, cgroup or process left behind"
lap "stopped"
done_testing
