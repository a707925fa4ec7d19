#!/bin/bash
# Issue 5 acceptance, the health monitor: a seeder NotReady past node_down_grace is
# replaced; a deleted one too; 40% -> 20% unlabels 10 of ours; a hand-labelled node is
# adopted; a node labelled by someone else is never unlabelled.
. "$top_srcdir/tests/integration/lib.sh"

sim_start --nodes 50 --zones 3 --time-scale 0.02
write_ini "$WORK/seeder.ini" "[seeder]" "node_down_grace = 2s"
printf 'nginx:1.27\n' >"$WORK/images.txt"

# Someone labels node-0050 by hand before clyde-seed ever runs.
sim admin POST /_sim/nodes/node-0050/labels '{"p2p-seeder": "true"}' >/dev/null
seed --config "$WORK/seeder.ini"
is "$RC" 0 "first run exits 0"
is "$(sim labelled p2p-seeder=true | wc -l)" 20 "20 seeders"
sim labelled p2p-seeder=true | grep -qx node-0050; ok $? "the hand-labelled node is adopted as a seeder"
sim owned p2p-seeder=true | grep -qx node-0050; ok $((!$?)) "the adopted node gets no ownership annotation"
is "$(sim owned p2p-seeder=true | wc -l)" 19 "19 seeders are clyde-seed's own"
is "$(py '[s["owned"] for s in t["seeders"] if s["node"] == "node-0050"][0]')" False "the tracker records node-0050 as not owned"

# A seeder goes NotReady: within the grace it stays, past it it is replaced.
victim=$(sim owned p2p-seeder=true | head -n 1)
sim admin POST "/_sim/nodes/$victim/notready" >/dev/null
sleep 3
seed --config "$WORK/seeder.ini"
is "$RC" 0 "run after a seeder went NotReady exits 0"
sim labelled p2p-seeder=true | grep -qx "$victim"; ok $((!$?)) "the NotReady seeder $victim lost its label"
is "$(sim labelled p2p-seeder=true | wc -l)" 20 "a replacement keeps the count at the target (40% of 49 eligible, rounded up)"
grep -q "node '$victim': seeder removed" "$WORK/out"; ok $? "the replacement is logged"

# A seeder is deleted: the next run replaces it.
gone=$(sim owned p2p-seeder=true | head -n 1)
sim admin DELETE "/_sim/nodes/$gone" >/dev/null
seed --config "$WORK/seeder.ini"
is "$RC" 0 "run after a seeder was deleted exits 0"
is "$(sim labelled p2p-seeder=true | wc -l)" 20 "still 20 seeders (40% of 48 eligible, rounded up)"
py '"\n".join(s["node"] for s in t["seeders"])' | grep -qx "$gone"; ok $((!$?)) "the deleted seeder left the tracker"
grep -q "node '$gone': seeder gone" "$WORK/out"; ok $? "the deleted seeder is reported"

# Someone else labels one more node: it is adopted, and when the target shrinks it is
# never unlabelled; only our own seeders are.
foreign=$(comm -23 <(sim get /api/v1/nodes | "$PYTHON3" -c 'import json,sys; [print(n["metadata"]["name"]) for n in json.load(sys.stdin)["items"] if n["status"]["conditions"][-1]["status"] == "True"]' | sort) \
        <(sim labelled p2p-seeder=true | sort) | head -n 1)
sim admin POST "/_sim/nodes/$foreign/labels" '{"p2p-seeder": "true"}' >/dev/null
seed --config "$WORK/seeder.ini"
is "$(sim labelled p2p-seeder=true | wc -l)" 20 "an extra foreign seeder is adopted and one of ours trimmed"
is "$(sim owned p2p-seeder=true | wc -l)" 18 "18 of the 20 are ours"
before=$(sim owned p2p-seeder=true | wc -l)
seed --config "$WORK/seeder.ini" --seeder-percentage 20
is "$RC" 0 "run at 20% exits 0"
is "$(sim labelled p2p-seeder=true | wc -l)" 10 "20% of 48 eligible: 10 seeders"
after=$(sim owned p2p-seeder=true | wc -l)
is "$((before - after))" 10 "10 of ours were unlabelled (20 -> 10, the two foreign ones stay)"
sim labelled p2p-seeder=true | grep -qx node-0050; ok $? "hand-labelled node-0050 is never unlabelled"
sim labelled p2p-seeder=true | grep -qx "$foreign"; ok $? "foreign-labelled $foreign is never unlabelled"
is "$(sim daemonsets default | wc -l)" 0 "no DaemonSet left"
done_testing
