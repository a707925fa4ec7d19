#!/bin/bash
# Issue 16, item 1: the P2P layer of the real nodes (realnode.py --p2p, as Spegel does it).
# 3 containerd-backed nodes.  The real binary labels one seeder (p2p-seeder=true) and
# preloads an image on it; the mirrors of the other nodes follow that label:
# - labelled seeder, peer pulls: the registry gets no request at all from the peer (its
#   access log) and its link carries < 10 kB (admin /stats; the image is ~1.1 MB); the
#   seeder's P2P server sends exactly the image's bytes (manifest + config + layers); the
#   digest pulled is the registry's;
# - label removed (control): the same pull goes to the registry, the seeder serves nothing;
# - seeder GC'd (still labelled): it answers 404, the peer falls back to the registry and
#   succeeds;
# - 3 seeders: each node lists the other two before the registry, never itself, and the
#   first choices are rotated.
. "$top_srcdir/tests/realnode/lib.sh"
rn_prereq
T0=$(date +%s)

sim_start --nodes 3 --zones 1 --images-per-node 0 --time-scale 0.05
rn_start --count 3 --p2p
rn_remember
REG=$RN/registry/registry/docker/registry/v2
BUSYBOX=docker.io/library/busybox:1.36.1-musl
APP=registry.test/clyde/distroless:1

node_ip() { rn_env "e['nodes']['$1']['ip']"; }
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
stats() { rn admin GET /stats >"$WORK/stats.$1"; }
# delta A B EXPR: EXPR over a and b, the /stats documents A and B
delta() {
        "$PYTHON3" -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); print($3)" \
                "$WORK/stats.$1" "$WORK/stats.$2"
}
# reg_requests IP: the registry's access-log lines for requests from IP (a node)
reg_requests() { grep -c "^$1 - - .*\"containerd/" "$RN/logs/registry.log"; }
reg_blob_gets() { grep -c "^$1 - - .*\"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]*[? ][^\"]*\" 200 " "$RN/logs/registry.log"; }
# registry_digest REF, image_bytes REF: from the registry's own storage
registry_digest() {
        local name=${1#*/} tag=${1##*:}
        name=${name%:*}
        cat "$REG/repositories/$name/_manifests/tags/$tag/current/link"
}
image_bytes() {
        "$PYTHON3" - "$REG" "$(registry_digest "$1")" <<'EOF'
import json, os, sys
reg, top = sys.argv[1], sys.argv[2]
def blob(d):
    with open(os.path.join(reg, 'blobs', 'sha256', d[7:9], d[7:], 'data'), 'rb') as f:
        return f.read()
doc = json.loads(blob(top))
n = len(blob(top))
if 'manifests' in doc:
    raise SystemExit('an index: not expected here')
print(n + doc['config']['size'] + sum(l['size'] for l in doc['layers']))
EOF
}
pulled_digest() { rn images "$1" | awk -v r="$2" '$2 == r {print $3}'; }

# The real binary labels one seeder and preloads APP (and the puller's busybox) on it.
write_ini "$WORK/seeder.ini"
seed --config "$WORK/seeder.ini" --images-to-seed <(echo $APP) --seeder-percentage 20
is "$RC" 0 "clyde-seed seeds $APP on one seeder"
[ "$RC" -eq 0 ] || sed 's/^/# /' "$WORK/out" | tail -n 20
SEEDER=$(sim labelled p2p-seeder=true)
is "$(echo "$SEEDER" | wc -l)" 1 "one node labelled p2p-seeder=true: $SEEDER"
read -r P1 P2 <<<"$(rn_nodes | grep -vx "$SEEDER" | tr '\n' ' ')"
S_IP=$(node_ip "$SEEDER") P1_IP=$(node_ip "$P1") P2_IP=$(node_ip "$P2")
wait_peers "$P1" "$S_IP |$S_IP |" && wait_peers "$P2" "$S_IP |$S_IP |" && wait_peers "$SEEDER" "||"
ok $? "the peers' mirrors list the seeder ($S_IP), the seeder lists none: $(peers "$P1") / $(peers "$SEEDER")"
is "$(reg_blob_gets "$S_IP")" 4 "the seeder pulled its 4 blobs from the registry (busybox 2, $APP 2)"

# Control: without the label the peer goes to the registry.
rn label "$SIM" "$SEEDER" p2p-seeder-
wait_peers "$P1" "||"
ok $? "label removed: $P1's mirrors list no peer"
stats a
rn pull "$P1" $BUSYBOX
ok $? "$P1 pulls $BUSYBOX"
stats b
is "$(reg_blob_gets "$P1_IP")" 2 "without the label $P1 got its 2 blobs from the registry"
is "$(delta a b "b['nodes']['$SEEDER']['peer_requests'] - a['nodes']['$SEEDER']['peer_requests']")" 0 \
        "and asked the seeder for nothing"
want=$(image_bytes $BUSYBOX)
is "$(delta a b "b['registry']['tx_bytes'] - a['registry']['tx_bytes'] >= $want")" True \
        "the registry's link carried at least the image's $want bytes"

# The label back (as clyde-seed set it): the peer's pull sends nothing to the registry.
rn label "$SIM" "$SEEDER" p2p-seeder=true
wait_peers "$P2" "$S_IP |$S_IP |"
ok $? "label set: $P2's mirrors list the seeder again"
stats c
before=$(reg_requests "$P2_IP")
for ref in $BUSYBOX $APP; do
        rn pull "$P2" $ref
        ok $? "$P2 pulls $ref"
        is "$(pulled_digest "$P2" $ref)" "$(registry_digest $ref)" "$P2 holds the registry's digest of $ref"
done
stats d
is "$(reg_requests "$P2_IP")" "$before" "the registry got no request from $P2 (access log)"
want=$(( $(image_bytes $BUSYBOX) + $(image_bytes $APP) ))
is "$(delta c d "b['nodes']['$SEEDER']['peer_tx_bytes'] - a['nodes']['$SEEDER']['peer_tx_bytes']")" "$want" \
        "the seeder's P2P server sent exactly both images' manifests, configs and layers ($want bytes)"
is "$(delta c d "b['nodes']['$SEEDER']['peer_requests'] - a['nodes']['$SEEDER']['peer_requests']")" 8 \
        "in 8 requests (per image: resolve, manifest, config, layer)"
reg_tx=$(delta c d "b['registry']['tx_bytes'] - a['registry']['tx_bytes']")
[ "$reg_tx" -lt 10000 ]
ok $? "the registry's link carried $reg_tx bytes meanwhile (< 10000; the images are $want)"
is "$(delta c d "b['nodes']['$P2']['rx_bytes'] - a['nodes']['$P2']['rx_bytes'] >= $want")" True \
        "$P2's link received them"

# 3 seeders: each lists the other two, never itself; the first choices are rotated.
rn label "$SIM" "$P1" p2p-seeder=true && rn label "$SIM" "$P2" p2p-seeder=true
firsts=
for n in $(rn_nodes); do
        for _ in $(seq 1 50); do
                list=$(peers "$n")
                [ "$(echo "${list%%|*}" | wc -w)" = 2 ] && break
                sleep 0.1
        done
        others=$(rn_env "' '.join(sorted(v['ip'] for k, v in e['nodes'].items() if k != '$n'))")
        got=$(echo "${list%%|*}" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
        is "$got" "$others " "3 seeders: $n lists the other two ($list), not itself"
        firsts="$firsts ${list%% *}"
done
is "$(echo $firsts | tr ' ' '\n' | sort -u | wc -l)" 3 "their first choices differ:$firsts"
rn label "$SIM" "$P1" p2p-seeder- && rn label "$SIM" "$P2" p2p-seeder-
wait_peers "$P1" "$S_IP |$S_IP |"
ok $? "labels removed again: back to the one seeder"

# The seeder loses its images (GC, the label stays): the peer falls back to the registry.
for _ in $(seq 1 60); do
        [ -z "$(rn containers "$SEEDER")" ] && break
        sleep 0.5
done
rn admin POST "/gc?node=$SEEDER" >/dev/null && rn admin POST "/gc?node=$P1" >/dev/null
is "$(rn images "$SEEDER" | wc -l) $(rn images "$P1" | wc -l)" "0 0" "GC emptied $SEEDER and $P1"
stats e
rn pull "$P1" $BUSYBOX
ok $? "$P1 pulls $BUSYBOX with the labelled seeder empty"
stats f
is "$(pulled_digest "$P1" $BUSYBOX)" "$(registry_digest $BUSYBOX)" "$P1 holds the registry's digest"
is "$(delta e f "(b['nodes']['$SEEDER']['peer_not_found'] - a['nodes']['$SEEDER']['peer_not_found'] > 0, b['nodes']['$SEEDER']['peer_tx_bytes'] - a['nodes']['$SEEDER']['peer_tx_bytes'])")" \
        "(True, 0)" "the seeder answered 404 and sent nothing"
is "$(reg_blob_gets "$P1_IP")" 4 "$P1 got the blobs from the registry again (2 more)"

rn_stop
is "$RN_RC" 0 "realnode stops on SIGTERM with exit 0"
is "$(rn_leftovers)" "" "no netns, mount, cgroup or process left behind"
echo "# took $(( $(date +%s) - T0 )) s"
done_testing
